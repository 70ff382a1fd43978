using EmotionML.Spectrogram;
using Microsoft.ML.Data;

namespace Microsoft.ML;

public static partial class EmotionCatalog
{
    /// <summary>
    /// Speech spectrogram of 16 kHz audio (40 ms Hamming, 10 ms hop, FFT 1024, lowest 200 bins, log power), fixed to
    /// <paramref name="frames"/> frames. Output: Single vector [frames, 200].
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">Output column. Default <c>Spectrogram</c>.</param>
    /// <param name="inputColumnName">Audio column (float vector, 16 kHz mono). Default <c>Audio</c>.</param>
    /// <param name="frames">Frames per clip (10 ms each). Default 300.</param>
    /// <example>
    /// <code>
    /// var pipeline = mlContext.Transforms.LoadVideo().Append(mlContext.Transforms.SpeechSpectrogram(frames: 300));
    /// </code>
    /// </example>
    public static SpeechSpectrogramEstimator SpeechSpectrogram(this TransformsCatalog catalog,
        string outputColumnName = "Spectrogram", string inputColumnName = "Audio", int frames = 300)
        => SpeechSpectrogram(catalog, new SpeechSpectrogramOptions { OutputColumnName = outputColumnName, InputColumnName = inputColumnName, Frames = frames });

    /// <summary>Speech spectrogram with every option (see <see cref="SpeechSpectrogramOptions"/>).</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">The options; copied.</param>
    /// <example>
    /// <code>
    /// var spectrogram = mlContext.Transforms.SpeechSpectrogram(new SpeechSpectrogramOptions { Frames = 200, Padding = SpectrogramPadding.Edge, LogPower = false });
    /// </code>
    /// </example>
    public static SpeechSpectrogramEstimator SpeechSpectrogram(this TransformsCatalog catalog, SpeechSpectrogramOptions options)
        => new(CatalogUtils.GetEnvironment(catalog ?? throw new ArgumentNullException(nameof(catalog))), options);

    /// <summary>
    /// Log-Mel spectrogram of 16 kHz audio with deltas and delta-deltas (40 ms Hamming, 10 ms hop, FFT 1024,
    /// <paramref name="bands"/> Mel bands 0–8 kHz), fixed to <paramref name="frames"/> frames. Output: Single vector [3, frames, bands].
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">Output column. Default <c>LogMel</c>.</param>
    /// <param name="inputColumnName">Audio column (float vector, 16 kHz mono). Default <c>Audio</c>.</param>
    /// <param name="bands">Mel bands. Default 64.</param>
    /// <param name="frames">Frames per clip (10 ms each). Default 300.</param>
    /// <example>
    /// <code>
    /// var pipeline = mlContext.Transforms.LoadVideo().Append(mlContext.Transforms.LogMelSpectrogram(bands: 64));
    /// </code>
    /// </example>
    public static LogMelSpectrogramEstimator LogMelSpectrogram(this TransformsCatalog catalog,
        string outputColumnName = "LogMel", string inputColumnName = "Audio", int bands = 64, int frames = 300)
        => LogMelSpectrogram(catalog, new LogMelSpectrogramOptions { OutputColumnName = outputColumnName, InputColumnName = inputColumnName, Bands = bands, Frames = frames });

    /// <summary>Log-Mel spectrogram with every option (see <see cref="LogMelSpectrogramOptions"/>).</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">The options; copied.</param>
    /// <example>
    /// <code>
    /// var logMel = mlContext.Transforms.LogMelSpectrogram(new LogMelSpectrogramOptions { Bands = 40, HighFrequency = 7600, DeltaWindow = 3 });
    /// </code>
    /// </example>
    public static LogMelSpectrogramEstimator LogMelSpectrogram(this TransformsCatalog catalog, LogMelSpectrogramOptions options)
        => new(CatalogUtils.GetEnvironment(catalog ?? throw new ArgumentNullException(nameof(catalog))), options);
}
