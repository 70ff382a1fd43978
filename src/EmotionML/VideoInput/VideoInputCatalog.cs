using EmotionML.VideoInput;
using Microsoft.ML.Runtime;

namespace Microsoft.ML;

/// <summary>EmotionML's stages as <see cref="TransformsCatalog"/> extensions: <c>mlContext.Transforms.LoadVideo(...)</c> etc.</summary>
public static partial class EmotionCatalog
{
    /// <summary>
    /// Decodes the clip named by <paramref name="inputColumnName"/> into sampled RGB frames (uniformly spread,
    /// <paramref name="frameCount"/> of them) and 16 kHz mono audio. See <see cref="VideoInputOptions"/> for all settings.
    /// </summary>
    public static VideoInputEstimator LoadVideo(this TransformsCatalog catalog, string inputColumnName = "VideoPath", int frameCount = 16)
        => catalog.LoadVideo(new VideoInputOptions { InputColumnName = inputColumnName, FrameCount = frameCount });

    /// <summary>Decodes clips into frames and audio with the given options.</summary>
    public static VideoInputEstimator LoadVideo(this TransformsCatalog catalog, VideoInputOptions options)
        => new(Microsoft.ML.Data.CatalogUtils.GetEnvironment(catalog), options);
}
