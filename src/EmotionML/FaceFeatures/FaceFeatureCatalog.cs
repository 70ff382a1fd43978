using EmotionML.FaceFeatures;

namespace Microsoft.ML;

public static partial class EmotionCatalog
{
    /// <summary>
    /// Runs a frozen face CNN over every real frame's aligned crop and writes per-frame features (padding rows zero),
    /// optionally enhanced (F-Mean, F-MeanStd, F-NormFFT, ...). See <see cref="FaceFeatureOptions"/>.
    /// </summary>
    public static FaceFeatureEstimator ExtractFaceFeatures(this TransformsCatalog catalog,
        FaceBackboneKind backbone = FaceBackboneKind.FerDenseNet121, FeatureEnhancement enhancement = FeatureEnhancement.Basic,
        string? cacheDirectory = null)
        => catalog.ExtractFaceFeatures(new FaceFeatureOptions { Backbone = backbone, Enhancement = enhancement, CacheDirectory = cacheDirectory });

    /// <summary>Extracts face features with the given options.</summary>
    public static FaceFeatureEstimator ExtractFaceFeatures(this TransformsCatalog catalog, FaceFeatureOptions options)
        => new(Microsoft.ML.Data.CatalogUtils.GetEnvironment(catalog), options);
}
