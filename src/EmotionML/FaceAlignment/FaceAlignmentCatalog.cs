using EmotionML.FaceAlignment;

namespace Microsoft.ML;

public static partial class EmotionCatalog
{
    /// <summary>
    /// Detects, aligns and crops the main face of every frame to 224×224 (YuNet, 5-landmark similarity alignment, 30 % margin),
    /// padding or subsampling to <paramref name="maxFrames"/> frames. See <see cref="FaceAlignmentOptions"/>.
    /// </summary>
    public static FaceAlignmentEstimator AlignFaces(this TransformsCatalog catalog, int maxFrames = 16, string? detectorModelPath = null)
        => catalog.AlignFaces(new FaceAlignmentOptions { MaxFrames = maxFrames, DetectorModelPath = detectorModelPath });

    /// <summary>Detects, aligns and crops faces with the given options.</summary>
    public static FaceAlignmentEstimator AlignFaces(this TransformsCatalog catalog, FaceAlignmentOptions options)
        => new(Microsoft.ML.Data.CatalogUtils.GetEnvironment(catalog), options);
}
