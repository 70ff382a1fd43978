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
public sealed class SpeechSpectrogramEstimator : IEstimator<SpeechSpectrogramTransformer>
{
    private readonly IHostEnvironment _env;
    private readonly SpeechSpectrogramOptions _options;

    internal SpeechSpectrogramEstimator(IHostEnvironment env, SpeechSpectrogramOptions options)
    {
        _env = env ?? throw new ArgumentNullException(nameof(env));
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options.Clone();
    }

    /// <summary>Checks the input schema and returns the transformer (nothing is learned).</summary>
    public SpeechSpectrogramTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        GetOutputSchema(SchemaShape.Create(input.Schema));
        return new SpeechSpectrogramTransformer(_env, _options);
    }

    /// <summary>The input schema plus the spectrogram column; throws if the audio column is missing or not a float vector.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
        => SpectrogramSchema.OutputShape(inputSchema, _options.InputColumnName, _options.OutputColumnName, _options.ValidFramesColumnName, "SpeechSpectrogram");
}

/// <summary>The speech spectrogram stage (see <see cref="SpeechSpectrogramOptions"/>); saves into ML.NET model zips.</summary>
public sealed class SpeechSpectrogramTransformer : EmotionTransformerBase
{
    internal const string LoaderSignature = "EmlSpeechSpectrogram";

    private readonly SpeechSpectrogramOptions _options;

    internal SpeechSpectrogramTransformer(IHostEnvironment env, SpeechSpectrogramOptions options)
        : base(env, nameof(SpeechSpectrogramTransformer))
    {
        options.Validate();
        _options = options.Clone();
    }

    /// <summary>A copy of the options this stage runs with.</summary>
    public SpeechSpectrogramOptions Options => _options.Clone();

    /// <summary>The output column type: Single vector of dimensions [Frames, Bins].</summary>
    public VectorDataViewType OutputType => new(NumberDataViewType.Single, _options.Frames, _options.Bins);

    private static VersionInfo GetVersionInfo()
        => ModelFormat.Version("EMLSPECT", 0x00010001, LoaderSignature, typeof(SpeechSpectrogramTransformer));

    private protected override BoundMapper Bind(DataViewSchema inputSchema)
    {
        var o = _options;
        return new AudioFeatureMapper(inputSchema, o.InputColumnName, new OutputColumn(o.OutputColumnName, OutputType), o.ValidFramesColumnName, () =>
        {
            var extractor = new SpeechSpectrogramExtractor(o);
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

    private static SpeechSpectrogramTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ModelFormat.CheckVersion(ctx, GetVersionInfo(), nameof(SpeechSpectrogramTransformer));
        var options = ModelFormat.ReadOptions<SpeechSpectrogramOptions>(ctx, nameof(SpeechSpectrogramTransformer));
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException($"Model component '{nameof(SpeechSpectrogramTransformer)}' has invalid options: {e.Message}", e);
        }
        return new SpeechSpectrogramTransformer(env, options);
    }
}
