using EmotionML.Core;
using EmotionML.Spectrogram;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

[assembly: LoadableClass(typeof(LogMelSpectrogramTransformer), null, typeof(SignatureLoadModel),
    "EmotionML log-Mel spectrogram", LogMelSpectrogramTransformer.LoaderSignature)]

namespace EmotionML.Spectrogram;

/// <summary>
/// Estimator of the log-Mel stage: reads 16 kHz mono audio (a float vector column, default <c>Audio</c>) and writes
/// a fixed-size log-Mel spectrogram with deltas and delta-deltas [3, Frames, Bands] (default <c>LogMel</c>, 3 × 300 × 64).
/// Needs no training. See <see cref="LogMelSpectrogramOptions"/> for the definition and the bad-input policy.
/// </summary>
public sealed class LogMelSpectrogramEstimator : EmotionTrivialEstimator<LogMelSpectrogramTransformer, LogMelSpectrogramOptions>
{
    internal LogMelSpectrogramEstimator(IHostEnvironment env, LogMelSpectrogramOptions options) : base(env, nameof(LogMelSpectrogramEstimator), options)
    {
    }

    private protected override LogMelSpectrogramTransformer CreateTransformer() => new(Env, Options);

    private protected override SchemaShape OutputSchema(SchemaShape inputSchema)
        => SpectrogramSchema.OutputShape(inputSchema, Options.InputColumnName, LogMelSpectrogramTransformer.OutputColumn(Options), Options.ValidFramesColumnName);
}

/// <summary>The log-Mel spectrogram stage (see <see cref="LogMelSpectrogramOptions"/>); saves into ML.NET model zips.</summary>
public sealed class LogMelSpectrogramTransformer : EmotionTransformerBase<LogMelSpectrogramOptions>
{
    internal const string LoaderSignature = "EmlLogMelSpectrogram";

    internal LogMelSpectrogramTransformer(IHostEnvironment env, LogMelSpectrogramOptions options)
        : base(env, nameof(LogMelSpectrogramTransformer), options)
    {
    }

    /// <summary>The output column type: Single vector of dimensions [3, Frames, Bands].</summary>
    public VectorDataViewType OutputType => OutputTypeOf(Settings);

    private static VectorDataViewType OutputTypeOf(LogMelSpectrogramOptions o) => new(NumberDataViewType.Single, 3, o.Frames, o.Bands);

    internal static OutputColumn OutputColumn(LogMelSpectrogramOptions o) => new(o.OutputColumnName, OutputTypeOf(o));

    // Versions: 0x00010001 first format; 0x00010002 enums by name (reads 0x00010001).
    private static VersionInfo GetVersionInfo()
        => ModelFormat.Version("EMLLGMEL", ModelFormat.V2, ModelFormat.V2, ModelFormat.V1, LoaderSignature, typeof(LogMelSpectrogramTransformer));

    private protected override BoundMapper Bind(DataViewSchema inputSchema)
    {
        var o = Settings;
        return new SpectrogramMapper(inputSchema, o.InputColumnName, OutputColumn(o), o.ValidFramesColumnName, () =>
        {
            var extractor = new LogMelExtractor(o);
            return (audio, row) =>
            {
                var prepared = AudioInput.Prepare(audio, o.SampleRate, o.RejectEmptyAudio, o.InputColumnName, row);
                return (extractor.Compute(prepared), Framing.ValidFrames(prepared.Length, o.Frames));
            };
        });
    }

    // *** Binary format ***
    // string: LogMelSpectrogramOptions as JSON (enums by name)
    private protected override void Save(ModelSaveContext ctx)
    {
        ctx.SetVersionInfo(GetVersionInfo());
        ModelFormat.WriteOptions(ctx, Settings);
    }

    private static LogMelSpectrogramTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
        => new(env, ModelFormat.LoadOptions<LogMelSpectrogramOptions>(ctx, GetVersionInfo(), "log-Mel spectrogram", o => o.Validate()));
}
