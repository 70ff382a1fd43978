using EmotionML.VideoInput;
using Microsoft.ML.Data;

namespace Microsoft.ML;

/// <summary>
/// EmotionML's stages on <see cref="TransformsCatalog"/>, found with <c>using Microsoft.ML;</c>:
/// <c>LoadVideo</c>, <c>AlignFaces</c>, <c>ExtractFaceFeatures</c>, <c>SpeechSpectrogram</c>, <c>LogMelSpectrogram</c>,
/// <c>ExtractAudioFeatures</c>, <c>EnsembleScores</c>. Each has a simple overload (required arguments, then column names
/// output before input, then sizes, then files) and an options overload; options are copied when the estimator is made.
/// </summary>
public static partial class EmotionCatalog
{
    /// <summary>
    /// Decodes the clip named by <paramref name="inputColumnName"/> into sampled RGB frames (uniformly spread,
    /// <paramref name="frameCount"/> of them) and 16 kHz mono audio. See <see cref="VideoInputOptions"/> for all settings.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="inputColumnName">Text column with each clip's path. Default <c>VideoPath</c>.</param>
    /// <param name="frameCount">Frames sampled per clip. Default 16.</param>
    /// <example>
    /// <code>
    /// var clips = mlContext.Data.LoadFromEnumerable(new[] { new { VideoPath = "clip.mp4" } });
    /// var decoded = mlContext.Transforms.LoadVideo(frameCount: 8).Fit(clips).Transform(clips);
    /// </code>
    /// </example>
    public static VideoInputEstimator LoadVideo(this TransformsCatalog catalog, string inputColumnName = "VideoPath", int frameCount = 16)
        => catalog.LoadVideo(new VideoInputOptions { InputColumnName = inputColumnName, FrameCount = frameCount });

    /// <summary>Decodes clips into frames and audio with the given options.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">The options; copied.</param>
    /// <example>
    /// <code>
    /// var audioOnly = mlContext.Transforms.LoadVideo(new VideoInputOptions { DecodeVideo = false, MissingAudio = MissingStreamPolicy.Empty });
    /// </code>
    /// </example>
    public static VideoInputEstimator LoadVideo(this TransformsCatalog catalog, VideoInputOptions options)
        => new(CatalogUtils.GetEnvironment(catalog ?? throw new ArgumentNullException(nameof(catalog))), options);
}
