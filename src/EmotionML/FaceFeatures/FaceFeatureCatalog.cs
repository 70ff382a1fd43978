using EmotionML.FaceFeatures;
using Microsoft.ML.Data;

namespace Microsoft.ML;

public static partial class EmotionCatalog
{
    /// <summary>
    /// Runs a frozen face CNN over every real frame's aligned crop and writes per-frame features (padding rows zero),
    /// optionally enhanced (F-Mean, F-MeanStd, F-NormFFT, ...). See <see cref="FaceFeatureOptions"/>.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="backbone">The face CNN. Default DenseNet-121 (FER).</param>
    /// <param name="enhancement">How the per-frame feature is built. Default Basic.</param>
    /// <param name="cacheDirectory">On-disk feature cache for this process (a deployment setting, not saved); null: none.</param>
    /// <example>
    /// <code>
    /// var pipeline = mlContext.Transforms.LoadVideo()
    ///     .Append(mlContext.Transforms.AlignFaces())
    ///     .Append(mlContext.Transforms.ExtractFaceFeatures(FaceBackboneKind.FerDenseNet121, FeatureEnhancement.FMean));
    /// </code>
    /// </example>
    public static FaceFeatureEstimator ExtractFaceFeatures(this TransformsCatalog catalog,
        FaceBackboneKind backbone = FaceBackboneKind.FerDenseNet121, FeatureEnhancement enhancement = FeatureEnhancement.Basic,
        string? cacheDirectory = null)
        => catalog.ExtractFaceFeatures(new FaceFeatureOptions { Backbone = backbone, Enhancement = enhancement, CacheDirectory = cacheDirectory });

    /// <summary>Extracts face features with the given options.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">The options; copied.</param>
    /// <example>
    /// <code>
    /// var features = mlContext.Transforms.ExtractFaceFeatures(new FaceFeatureOptions
    /// {
    ///     Backbone = FaceBackboneKind.FerDenseNet121,
    ///     Enhancement = FeatureEnhancement.FArMean,
    ///     SecondBackbone = FaceBackboneKind.MobileFaceNet,
    /// });
    /// </code>
    /// </example>
    public static FaceFeatureEstimator ExtractFaceFeatures(this TransformsCatalog catalog, FaceFeatureOptions options)
        => new(CatalogUtils.GetEnvironment(catalog ?? throw new ArgumentNullException(nameof(catalog))), options);
}
