using EmotionML.Core;
using EmotionML.Spectrogram;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

[assembly: LoadableClass(typeof(SpeechSpectrogramTransformer), null, typeof(SignatureLoadModel),
    "EmotionML speech spectrogram", SpeechSpectrogramTransformer.LoaderSignature)]

namespace EmotionML.Spectrogram;

/// <summary>
/// Estimator of the speech spectrogram stage: reads 16 kHz mono audio (a float vector column, default <c>Audio</c>)
/// and writes a fixed-size power or log-power spectrogram [Frames, Bins] (default <c>Spectrogram</c>, 300 × 200).
/// Needs no training. See <see cref="SpeechSpectrogramOptions"/> for the definition and the bad-input policy.
/// </summary>
public sealed class SpeechSpectrogramEstimator : EmotionTrivialEstimator<SpeechSpectrogramTransformer, SpeechSpectrogramOptions>
{
    internal SpeechSpectrogramEstimator(IHostEnvironment env, SpeechSpectrogramOptions options) : base(env, nameof(SpeechSpectrogramEstimator), options)
    {
    }

    private protected override SpeechSpectrogramTransformer CreateTransformer() => new(Env, Options);

    private protected override SchemaShape OutputSchema(SchemaShape inputSchema)
        => SpectrogramSchema.OutputShape(inputSchema, Options.InputColumnName, SpeechSpectrogramTransformer.OutputColumn(Options), Options.ValidFramesColumnName);
}

/// <summary>The speech spectrogram stage (see <see cref="SpeechSpectrogramOptions"/>); saves into ML.NET model zips.</summary>
public sealed class SpeechSpectrogramTransformer : EmotionTransformerBase<SpeechSpectrogramOptions>
{
    internal const string LoaderSignature = "EmlSpeechSpectrogram";

    internal SpeechSpectrogramTransformer(IHostEnvironment env, SpeechSpectrogramOptions options)
        : base(env, nameof(SpeechSpectrogramTransformer), options)
    {
    }

    /// <summary>The output column type: Single vector of dimensions [Frames, Bins].</summary>
    public VectorDataViewType OutputType => OutputTypeOf(Settings);

    private static VectorDataViewType OutputTypeOf(SpeechSpectrogramOptions o) => new(NumberDataViewType.Single, o.Frames, o.Bins);

    internal static OutputColumn OutputColumn(SpeechSpectrogramOptions o) => new(o.OutputColumnName, OutputTypeOf(o));

    // Versions: 0x00010001 first format; 0x00010002 enums by name (reads 0x00010001).
    private static VersionInfo GetVersionInfo()
        => ModelFormat.Version("EMLSPECT", ModelFormat.V2, ModelFormat.V2, ModelFormat.V1, LoaderSignature, typeof(SpeechSpectrogramTransformer));

    private protected override BoundMapper Bind(DataViewSchema inputSchema)
    {
        var o = Settings;
        return new SpectrogramMapper(inputSchema, o.InputColumnName, OutputColumn(o), o.ValidFramesColumnName, () =>
        {
            var extractor = new SpeechSpectrogramExtractor(o);
            return (audio, row) =>
            {
                var prepared = AudioInput.Prepare(audio, o.SampleRate, o.RejectEmptyAudio, o.InputColumnName, row);
                return (extractor.Compute(prepared), Framing.ValidFrames(prepared.Length, o.Frames));
            };
        });
    }

    // *** Binary format ***
    // string: SpeechSpectrogramOptions as JSON (enums by name)
    private protected override void Save(ModelSaveContext ctx)
    {
        ctx.SetVersionInfo(GetVersionInfo());
        ModelFormat.WriteOptions(ctx, Settings);
    }

    private static SpeechSpectrogramTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
        => new(env, ModelFormat.LoadOptions<SpeechSpectrogramOptions>(ctx, GetVersionInfo(), "speech spectrogram", o => o.Validate()));
}
