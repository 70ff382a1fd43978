using EmotionML.AudioCnn;
using Microsoft.ML.Data;

namespace Microsoft.ML;

/// <summary>EmotionML's stages on <see cref="TransformsCatalog"/>, found with <c>using Microsoft.ML;</c>: <c>mlContext.Transforms.LoadVideo(...)</c>, <c>AlignFaces</c>, <c>ExtractFaceFeatures</c>, <c>SpeechSpectrogram</c>, <c>LogMelSpectrogram</c>, <c>ExtractAudioFeatures</c>, <c>EnsembleScores</c>.</summary>
public static partial class EmotionCatalog
{
    /// <summary>
    /// Runs a trained audio CNN (an ONNX file written by <c>emotionml train-audio</c> or <c>AudioCnnTrainer</c>) on the
    /// <c>Spectrogram</c> column and adds <c>AudioFeatures</c> [n, C] and <c>AudioMask</c> [n].
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="modelPath">The audio CNN's ONNX file.</param>
    /// <param name="outputColumnName">Output column of the feature set. Default <c>AudioFeatures</c>.</param>
    /// <param name="inputColumnName">Spectrogram column. Default <c>Spectrogram</c>.</param>
    /// <example>
    /// <code>
    /// var pipeline = mlContext.Transforms.LoadVideo()
    ///     .Append(mlContext.Transforms.SpeechSpectrogram())
    ///     .Append(mlContext.Transforms.ExtractAudioFeatures("audio-cnn.onnx"));
    /// </code>
    /// </example>
    public static AudioFeatureEstimator ExtractAudioFeatures(this TransformsCatalog catalog, string modelPath,
        string outputColumnName = "AudioFeatures", string inputColumnName = "Spectrogram")
        => catalog.ExtractAudioFeatures(new AudioFeatureOptions { ModelPath = modelPath, OutputColumnName = outputColumnName, InputColumnName = inputColumnName });

    /// <summary>Runs a trained audio CNN with every option (see <see cref="AudioFeatureOptions"/>; <see cref="AudioFeatureOptions.ModelPath"/> is required).</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">The options; copied.</param>
    /// <example>
    /// <code>
    /// var audio = mlContext.Transforms.ExtractAudioFeatures(new AudioFeatureOptions
    /// {
    ///     ModelPath = "audio-cnn.onnx",
    ///     Execution = { Device = ExecutionDevice.Cuda },
    /// });
    /// </code>
    /// </example>
    public static AudioFeatureEstimator ExtractAudioFeatures(this TransformsCatalog catalog, AudioFeatureOptions options)
        => new(CatalogUtils.GetEnvironment(catalog ?? throw new ArgumentNullException(nameof(catalog))), options);
}
