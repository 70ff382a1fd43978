using EmotionML.AcousticFeatures;
using EmotionML.Core;
using EmotionML.Spectrogram;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

[assembly: LoadableClass(typeof(AcousticFeaturesTransformer), null, typeof(SignatureLoadModel),
    "EmotionML acoustic features", AcousticFeaturesTransformer.LoaderSignature)]

namespace EmotionML.AcousticFeatures;

/// <summary>
/// Estimator of the acoustic-features stage: reads 16 kHz mono audio (default <c>Audio</c>) and writes one vector of
/// <see cref="AcousticFeatureNames.Count"/> utterance functionals per clip (default <c>AcousticFeatures</c>) and the
/// count of active frames (default <c>AcousticFrames</c>). Needs no training. See <see cref="AcousticFeaturesOptions"/>.
/// </summary>
public sealed class AcousticFeaturesEstimator : EmotionTrivialEstimator<AcousticFeaturesTransformer, AcousticFeaturesOptions>
{
    internal AcousticFeaturesEstimator(IHostEnvironment env, AcousticFeaturesOptions options) : base(env, nameof(AcousticFeaturesEstimator), options)
    {
    }

    private protected override AcousticFeaturesTransformer CreateTransformer() => new(Env, Options);

    private protected override SchemaShape OutputSchema(SchemaShape inputSchema)
        => SpectrogramSchema.OutputShape(inputSchema, Options.InputColumnName, AcousticFeaturesTransformer.OutputColumn(Options), Options.ActiveFramesColumnName, Options.MaskColumnName);
}

/// <summary>The acoustic-features stage (see <see cref="AcousticFeaturesOptions"/>); saves into ML.NET model zips.</summary>
public sealed class AcousticFeaturesTransformer : EmotionTransformerBase<AcousticFeaturesOptions>
{
    internal const string LoaderSignature = "EmlAcousticFeatures";

    internal AcousticFeaturesTransformer(IHostEnvironment env, AcousticFeaturesOptions options)
        : base(env, nameof(AcousticFeaturesTransformer), options)
    {
    }

    /// <summary>The output column type: Single vector of <see cref="AcousticFeatureNames.Count"/> values.</summary>
    public static VectorDataViewType OutputType { get; } = new(NumberDataViewType.Single, AcousticFeatureNames.Count);

    internal static OutputColumn OutputColumn(AcousticFeaturesOptions o) => new(o.OutputColumnName, OutputType);

    // Versions: 0x00010002 first format (enums by name).
    private static VersionInfo GetVersionInfo()
        => ModelFormat.Version("EMLACFEA", ModelFormat.V2, ModelFormat.V2, ModelFormat.V2, LoaderSignature, typeof(AcousticFeaturesTransformer));

    private protected override BoundMapper Bind(DataViewSchema inputSchema)
    {
        var o = Settings;
        return new SpectrogramMapper(inputSchema, o.InputColumnName, OutputColumn(o), o.ActiveFramesColumnName, () =>
        {
            var extractor = new AcousticFeatureExtractor(o);
            return (audio, row) => extractor.Compute(AudioInput.Prepare(audio, o.SampleRate, o.RejectEmptyAudio, o.InputColumnName, row));
        }, o.MaskColumnName);
    }

    // *** Binary format ***
    // string: AcousticFeaturesOptions as JSON
    private protected override void Save(ModelSaveContext ctx)
    {
        ctx.SetVersionInfo(GetVersionInfo());
        ModelFormat.WriteOptions(ctx, Settings);
    }

    private static AcousticFeaturesTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
        => new(env, ModelFormat.LoadOptions<AcousticFeaturesOptions>(ctx, GetVersionInfo(), "acoustic features", o => o.Validate()));
}
