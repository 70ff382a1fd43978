using EmotionML.FaceAlignment;
using Microsoft.ML.Data;

namespace Microsoft.ML;

public static partial class EmotionCatalog
{
    /// <summary>
    /// Detects, aligns and crops the main face of every frame to 224×224 (YuNet, 5-landmark similarity alignment, 30 % margin),
    /// padding or subsampling to <paramref name="maxFrames"/> frames. See <see cref="FaceAlignmentOptions"/>.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="maxFrames">Frame slots per clip. Default 16.</param>
    /// <param name="detectorModelPath">YuNet ONNX file; null finds the pretrained one. Read when fitting; the zip keeps its bytes.</param>
    /// <example>
    /// <code>
    /// var pipeline = mlContext.Transforms.LoadVideo(frameCount: 8).Append(mlContext.Transforms.AlignFaces(maxFrames: 8));
    /// </code>
    /// </example>
    public static FaceAlignmentEstimator AlignFaces(this TransformsCatalog catalog, int maxFrames = 16, string? detectorModelPath = null)
        => catalog.AlignFaces(new FaceAlignmentOptions { MaxFrames = maxFrames, DetectorModelPath = detectorModelPath });

    /// <summary>Detects, aligns and crops faces with the given options.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">The options; copied.</param>
    /// <example>
    /// <code>
    /// var faces = mlContext.Transforms.AlignFaces(new FaceAlignmentOptions { MaxFrames = 8, Margin = 0.25f, WholeFrameFallback = false });
    /// </code>
    /// </example>
    public static FaceAlignmentEstimator AlignFaces(this TransformsCatalog catalog, FaceAlignmentOptions options)
        => new(CatalogUtils.GetEnvironment(catalog ?? throw new ArgumentNullException(nameof(catalog))), options);
}
