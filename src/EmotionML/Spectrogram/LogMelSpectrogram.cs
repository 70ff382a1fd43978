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
public sealed class LogMelSpectrogramEstimator : IEstimator<LogMelSpectrogramTransformer>
{
    private readonly IHostEnvironment _env;
    private readonly LogMelSpectrogramOptions _options;

    internal LogMelSpectrogramEstimator(IHostEnvironment env, LogMelSpectrogramOptions options)
    {
        _env = env ?? throw new ArgumentNullException(nameof(env));
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options.Clone();
    }

    /// <summary>Checks the input schema and returns the transformer (nothing is learned).</summary>
    public LogMelSpectrogramTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        GetOutputSchema(SchemaShape.Create(input.Schema));
        return new LogMelSpectrogramTransformer(_env, _options);
    }

    /// <summary>The input schema plus the log-Mel column; throws if the audio column is missing or not a float vector.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
        => SpectrogramSchema.OutputShape(inputSchema, _options.InputColumnName, _options.OutputColumnName, _options.ValidFramesColumnName, "LogMelSpectrogram");
}

/// <summary>The log-Mel spectrogram stage (see <see cref="LogMelSpectrogramOptions"/>); saves into ML.NET model zips.</summary>
public sealed class LogMelSpectrogramTransformer : EmotionTransformerBase
{
    internal const string LoaderSignature = "EmlLogMelSpectrogram";

    private readonly LogMelSpectrogramOptions _options;

    internal LogMelSpectrogramTransformer(IHostEnvironment env, LogMelSpectrogramOptions options)
        : base(env, nameof(LogMelSpectrogramTransformer))
    {
        options.Validate();
        _options = options.Clone();
    }

    /// <summary>A copy of the options this stage runs with.</summary>
    public LogMelSpectrogramOptions Options => _options.Clone();

    /// <summary>The output column type: Single vector of dimensions [3, Frames, Bands].</summary>
    public VectorDataViewType OutputType => new(NumberDataViewType.Single, 3, _options.Frames, _options.Bands);

    private static VersionInfo GetVersionInfo()
        => ModelFormat.Version("EMLLGMEL", 0x00010001, LoaderSignature, typeof(LogMelSpectrogramTransformer));

    private protected override BoundMapper Bind(DataViewSchema inputSchema)
    {
        var o = _options;
        return new AudioFeatureMapper(inputSchema, o.InputColumnName, new OutputColumn(o.OutputColumnName, OutputType), o.ValidFramesColumnName, () =>
        {
            var extractor = new LogMelExtractor(o);
            return (audio, row) =>
            {
                var prepared = AudioInput.Prepare(audio, o.SampleRate, o.RejectEmptyAudio, o.InputColumnName, row);
                return (extractor.Compute(prepared), Framing.ValidFrames(prepared.Length, o.Frames));
            };
        });
    }

    private protected override void Save(ModelSaveContext ctx)
    {
        ctx.SetVersionInfo(GetVersionInfo());
        ModelFormat.WriteOptions(ctx, _options);
    }

    private static LogMelSpectrogramTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ModelFormat.CheckVersion(ctx, GetVersionInfo(), nameof(LogMelSpectrogramTransformer));
        var options = ModelFormat.ReadOptions<LogMelSpectrogramOptions>(ctx, nameof(LogMelSpectrogramTransformer));
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException($"Model component '{nameof(LogMelSpectrogramTransformer)}' has invalid options: {e.Message}", e);
        }
        return new LogMelSpectrogramTransformer(env, options);
    }
}
