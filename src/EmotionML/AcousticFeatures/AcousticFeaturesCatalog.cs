using EmotionML.AcousticFeatures;
using Microsoft.ML.Data;

namespace Microsoft.ML;

public static partial class EmotionCatalog
{
    /// <summary>
    /// Utterance-level acoustic functionals of 16 kHz audio (MFCC and delta statistics, energy, YIN pitch, harmonicity,
    /// spectral shape, voicing rhythm; <see cref="AcousticFeatureNames.All"/>), one vector per clip: a compact audio
    /// feature for linear models and speaker normalisation, beside the spectrogram CNN's.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">The options; null for the defaults. Copied.</param>
    /// <example>
    /// <code>
    /// var pipeline = mlContext.Transforms.LoadVideo(new VideoInputOptions { DecodeVideo = false })
    ///     .Append(mlContext.Transforms.ExtractAcousticFeatures())                 // "AcousticFeatures": [65]
    ///     .Append(mlContext.Transforms.NormalizeMeanVariance("AcousticFeatures"))
    ///     .Append(mlContext.MulticlassClassification.Trainers.LbfgsMaximumEntropy(featureColumnName: "AcousticFeatures"));
    /// </code>
    /// </example>
    public static AcousticFeaturesEstimator ExtractAcousticFeatures(this TransformsCatalog catalog, AcousticFeaturesOptions? options = null)
        => new(CatalogUtils.GetEnvironment(catalog ?? throw new ArgumentNullException(nameof(catalog))), options ?? new AcousticFeaturesOptions());
}
