using EmotionML.Core;
using EmotionML.Spectrogram;
using Microsoft.ML.OnnxRuntime;
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

    private protected override SpeechSpectrogramTransformer CreateTransformer()
        => new(Env, Options, Options.TrimSilence ? File.ReadAllBytes(ModelFiles.SileroVad.Resolve(Options.VadModelPath)) : null);

    private protected override SchemaShape OutputSchema(SchemaShape inputSchema)
        => SpectrogramSchema.OutputShape(inputSchema, Options.InputColumnName, SpeechSpectrogramTransformer.OutputColumn(Options), Options.ValidFramesColumnName);
}

/// <summary>The speech spectrogram stage (see <see cref="SpeechSpectrogramOptions"/>); saves into ML.NET model zips.</summary>
public sealed class SpeechSpectrogramTransformer : EmotionTransformerBase<SpeechSpectrogramOptions>, IDisposable
{
    internal const string LoaderSignature = "EmlSpeechSpectrogram";

    private readonly byte[]? _vadModel;
    private readonly Lazy<(OnnxRunner Runner, RunOptions Run)>? _vad;

    internal SpeechSpectrogramTransformer(IHostEnvironment env, SpeechSpectrogramOptions options, byte[]? vadModel)
        : base(env, nameof(SpeechSpectrogramTransformer), options)
    {
        if (Settings.TrimSilence)
        {
            ModelFiles.CheckBytes(vadModel ?? throw new ArgumentNullException(nameof(vadModel)), ModelFiles.SileroVad, "speech spectrogram voice activity detector");
            _vadModel = vadModel;
            // A 32 ms chunk is a few thousand multiply-adds: one intra-op thread; the stage has no device setting, so CPU.
            _vad = new(() => (OnnxRunner.Create(vadModel, new OnnxExecutionOptions { IntraOpThreads = 1 }, "Silero VAD (speech spectrogram)"), new RunOptions()),
                LazyThreadSafetyMode.ExecutionAndPublication);
        }
    }

    /// <summary>The output column type: Single vector of dimensions [Frames, Bins].</summary>
    public VectorDataViewType OutputType => OutputTypeOf(Settings);

    private static VectorDataViewType OutputTypeOf(SpeechSpectrogramOptions o) => new(NumberDataViewType.Single, o.Frames, o.Bins);

    internal static OutputColumn OutputColumn(SpeechSpectrogramOptions o) => new(o.OutputColumnName, OutputTypeOf(o));

    // Versions: 0x00010001 first format; 0x00010002 enums by name (reads 0x00010001); 0x00010003 TrimSilence with the
    // detector's bytes (written only when TrimSilence is on, so a build that would ignore the setting refuses the zip).
    private const uint TrimVersion = 0x00010003;

    private static VersionInfo GetVersionInfo(bool trim = true)
        => ModelFormat.Version("EMLSPECT", trim ? TrimVersion : ModelFormat.V2, trim ? TrimVersion : ModelFormat.V2, ModelFormat.V1, LoaderSignature, typeof(SpeechSpectrogramTransformer));

    private protected override BoundMapper Bind(DataViewSchema inputSchema)
    {
        var o = Settings;
        return new SpectrogramMapper(inputSchema, o.InputColumnName, OutputColumn(o), o.ValidFramesColumnName, () =>
        {
            var extractor = new SpeechSpectrogramExtractor(o);
            var vad = _vad is null ? null : new SileroVad(_vad.Value.Runner.Session, _vad.Value.Run);
            return (audio, row) =>
            {
                var prepared = AudioInput.Prepare(audio, o.SampleRate, o.RejectEmptyAudio, o.InputColumnName, row);
                if (vad != null && prepared.Length > 0)
                {
                    var (start, end) = vad.SpeechSpan(prepared);
                    if (start > 0 || end < prepared.Length) prepared = prepared[start..end];
                }
                return (extractor.Compute(prepared), Framing.ValidFrames(prepared.Length, o.Frames));
            };
        });
    }

    /// <summary>Releases the voice activity detector's ONNX Runtime session (<see cref="SpeechSpectrogramOptions.TrimSilence"/>).</summary>
    public void Dispose()
    {
        if (_vad is { IsValueCreated: true })
        {
            _vad.Value.Runner.Dispose();
            _vad.Value.Run.Dispose();
        }
    }

    // *** Binary format ***
    // string: SpeechSpectrogramOptions as JSON (enums by name)
    // stream "Vad.onnx" (TrimSilence only): int32 length, Silero VAD ONNX bytes
    private protected override void Save(ModelSaveContext ctx)
    {
        ctx.SetVersionInfo(GetVersionInfo(Settings.TrimSilence));
        ModelFormat.WriteOptions(ctx, Settings);
        if (_vadModel != null) ModelFormat.WriteBlob(ctx, "Vad.onnx", _vadModel);
    }

    private static SpeechSpectrogramTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        var options = ModelFormat.LoadOptions<SpeechSpectrogramOptions>(ctx, GetVersionInfo(), "speech spectrogram", o => o.Validate());
        var vad = options.TrimSilence ? ModelFormat.ReadBlob(ctx, "Vad.onnx", "speech spectrogram") : null;
        if (vad != null) ModelFiles.CheckBytes(vad, ModelFiles.SileroVad, "speech spectrogram voice activity detector (from the model zip)");
        return new(env, options, vad);
    }
}
