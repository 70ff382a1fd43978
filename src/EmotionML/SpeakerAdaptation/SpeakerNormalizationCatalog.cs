using EmotionML.SpeakerAdaptation;
using Microsoft.ML.Data;

namespace Microsoft.ML;

public static partial class EmotionCatalog
{
    /// <summary>
    /// Speaker adaptation without labels: standardises the face features ("FaceFeatures" over the real frames of
    /// "FrameMask") and the audio features ("AudioFeatures" over "AudioMask") of each clip by its speaker's own mean and
    /// standard deviation, keyed by <paramref name="speakerColumnName"/>. Results with it are speaker-adapted, a protocol
    /// of its own (see <see cref="SpeakerNormalizationTransformer"/>).
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="speakerColumnName">The text column that names each clip's speaker.</param>
    /// <example>
    /// <code>
    /// var pipeline = mlContext.Transforms.LoadVideo()
    ///     .Append(mlContext.Transforms.AlignFaces())
    ///     .Append(mlContext.Transforms.ExtractFaceFeatures(FaceBackboneKind.FerDenseNet121))
    ///     .Append(mlContext.Transforms.NormalizeBySpeaker("Speaker"))   // each speaker by their own statistics
    ///     .Append(mlContext.Transforms.EmotionFusionHead(headOptions));
    /// </code>
    /// </example>
    public static SpeakerNormalizationEstimator NormalizeBySpeaker(this TransformsCatalog catalog, string speakerColumnName = "Speaker")
        => catalog.NormalizeBySpeaker(new SpeakerNormalizationOptions { SpeakerColumnName = speakerColumnName });

    /// <summary>Speaker normalisation with every setting given (columns, modalities, <see cref="SpeakerNormalizationOptions.MinClipsPerSpeaker"/>, <see cref="SpeakerNormalizationOptions.MinStd"/>).</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">The options; copied.</param>
    /// <example>
    /// <code>
    /// // Face only (no audio branch), at least 4 clips per speaker.
    /// var normalize = mlContext.Transforms.NormalizeBySpeaker(new SpeakerNormalizationOptions
    /// {
    ///     AudioFeaturesColumnName = null,
    ///     MinClipsPerSpeaker = 4,
    /// });
    /// </code>
    /// </example>
    public static SpeakerNormalizationEstimator NormalizeBySpeaker(this TransformsCatalog catalog, SpeakerNormalizationOptions options)
        => new(CatalogUtils.GetEnvironment(catalog ?? throw new ArgumentNullException(nameof(catalog))), options);
}
