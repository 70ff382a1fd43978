using EmotionML.AudioCnn;
using EmotionML.Core;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Runtime;

[assembly: LoadableClass(typeof(AudioFeatureTransformer), null, typeof(SignatureLoadModel), "EmotionML Audio Features", AudioFeatureTransformer.LoaderSignature)]

namespace EmotionML.AudioCnn;

/// <summary>
/// Runs a trained audio CNN (an ONNX graph exported by EmotionML.Training) on each spectrogram and outputs its last
/// pooling map as a set of n = H·W feature vectors of C dimensions — the input of audio attention.
/// </summary>
public sealed class AudioFeatureTransformer : EmotionTransformerBase<AudioFeatureOptions>, IDisposable
{
    internal const string LoaderSignature = "EmotionMLAudioFeatures";
    internal const string SpectrogramInput = "spectrogram", FeaturesOutput = "features";
    internal const string InputRole = "spectrogram", InputExpected = "a vector of Single (the spectrogram the CNN was trained on)";
    private const string Stage = "audio features";
    private readonly AudioCnnShape _shape;
    private readonly OnnxGraph _graph;

    internal AudioFeatureTransformer(IHostEnvironment env, AudioFeatureOptions options, AudioCnnShape shape, byte[] onnx) : base(env, nameof(AudioFeatureTransformer), options)
    {
        shape.Validate();
        Settings.Execution = StageLog.Routed(Settings.Execution, Host);
        _shape = shape.Clone();
        _graph = new OnnxGraph(onnx, Settings.Execution, "audio CNN");
    }

    /// <summary>The CNN's input and output shapes (a copy).</summary>
    public AudioCnnShape Shape => _shape.Clone();

    internal byte[] OnnxBytes => _graph.Bytes;

    /// <summary>The ONNX Runtime provider the CNN runs on ("CPU" or "CUDA:id"); creates the session.</summary>
    internal string Provider => _graph.Provider;

    /// <summary>Loads an exported audio CNN graph from an ONNX file (input <c>spectrogram</c> [B,1,T,F], output <c>features</c> [B,n,C]).</summary>
    internal static AudioFeatureTransformer FromOnnxFile(IHostEnvironment env, string path, AudioFeatureOptions? options = null)
    {
        if (!File.Exists(path)) throw new ModelFileException(path, "audio CNN ONNX file not found (train one with 'emotionml train-audio').");
        var bytes = File.ReadAllBytes(path);
        using var session = new InferenceSession(bytes);
        if (!session.InputMetadata.TryGetValue(SpectrogramInput, out var input) || !session.OutputMetadata.TryGetValue(FeaturesOutput, out var output))
            throw new ModelFileException(path, $"not an EmotionML audio CNN graph (needs input '{SpectrogramInput}' and output '{FeaturesOutput}').");
        var shape = new AudioCnnShape { Frames = input.Dimensions[2], Bins = input.Dimensions[3], Positions = output.Dimensions[1], Channels = output.Dimensions[2] };
        return new AudioFeatureTransformer(env, options ?? new AudioFeatureOptions(), shape, bytes);
    }

    // Versions: 0x00010001 first format; 0x00010002 no Execution (reads 0x00010001).
    private static VersionInfo GetVersionInfo()
        => ModelFormat.Version("EMLAUDCN", ModelFormat.V2, ModelFormat.V2, ModelFormat.V1, LoaderSignature, typeof(AudioFeatureTransformer));

    private static AudioFeatureTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        var (options, shape, onnx) = ModelFormat.ReadGraphStage<AudioFeatureOptions, AudioCnnShape>(ctx, GetVersionInfo(), Stage, "AudioCnn.onnx", o => o.Validate(), s => s.Validate());
        return new AudioFeatureTransformer(env, options, shape, onnx);
    }

    // *** Binary format ***
    // string: AudioFeatureOptions as JSON (column names)
    // string: AudioCnnShape as JSON (Frames, Bins, Positions, Channels)
    // stream "AudioCnn.onnx": int32 length, the CNN's ONNX bytes
    private protected override void Save(ModelSaveContext ctx)
        => ModelFormat.WriteGraphStage(ctx, GetVersionInfo(), Settings, _shape, "AudioCnn.onnx", _graph.Bytes);

    internal override EmotionTransformerBase WithDeployment(EmotionDeploymentOptions deployment)
    {
        var options = Settings.Clone();
        options.Execution = deployment.Execution.Clone();
        return new AudioFeatureTransformer(Env, options, _shape, _graph.Bytes);
    }

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose() => _graph.Dispose();

    private protected override BoundMapper Bind(DataViewSchema inputSchema) => new Mapper(this, inputSchema);

    internal static IReadOnlyList<OutputColumn> OutputColumns(AudioFeatureOptions o, AudioCnnShape s) =>
    [
        new(o.OutputColumnName, new VectorDataViewType(NumberDataViewType.Single, s.Positions, s.Channels)),
        new(o.MaskColumnName, new VectorDataViewType(NumberDataViewType.Single, s.Positions)),
    ];

    /// <summary>Runs the CNN on a batch of spectrograms (each T·F floats), returning n·C floats per item.</summary>
    internal float[][] Run(IReadOnlyList<float[]> spectrograms)
    {
        var s = _shape;
        var input = new DenseTensor<float>([spectrograms.Count, 1, s.Frames, s.Bins]);
        for (var b = 0; b < spectrograms.Count; b++)
            spectrograms[b].CopyTo(input.Buffer.Span.Slice(b * s.Frames * s.Bins, s.Frames * s.Bins));
        using var results = _graph.Session.Run([NamedOnnxValue.CreateFromTensor(SpectrogramInput, input)]);
        var output = results.Single(r => r.Name == FeaturesOutput).AsTensor<float>().ToArray();
        var per = s.Positions * s.Channels;
        return Enumerable.Range(0, spectrograms.Count).Select(b => output.AsSpan(b * per, per).ToArray()).ToArray();
    }

    private sealed class Mapper : BoundMapper
    {
        private readonly AudioFeatureTransformer _parent;
        private readonly int _input;
        private readonly int? _validFrames;
        private readonly int _timeRows;

        public Mapper(AudioFeatureTransformer parent, DataViewSchema schema) : base(schema)
        {
            _parent = parent;
            var shape = parent._shape;
            var (h, w) = AudioCnnGeometry.FeatureMapSize(shape.Frames, shape.Bins);
            if (h * w != shape.Positions)
                throw new ModelFormatException($"audio features: the CNN's {shape.Positions} positions are not the {h}×{w} map of a {shape.Frames}×{shape.Bins} spectrogram.");
            _timeRows = h;
            var name = parent.Settings.ValidFramesColumnName;
            if (!string.IsNullOrEmpty(name) && schema.GetColumnOrNull(name) is not null)
                _validFrames = FindInput(name, "real spectrogram frames", t => t == NumberDataViewType.Int32, "Int32");
            var size = parent._shape.Frames * parent._shape.Bins;
            _input = FindInput(parent.Settings.InputColumnName, InputRole,
                t => t is VectorDataViewType { ItemType: var it, Size: var n } && it == NumberDataViewType.Single && n == size,
                $"a vector of Single [{size}] ({parent._shape.Frames}×{parent._shape.Bins}, the spectrogram the CNN was trained on)");
            Outputs = OutputColumns(parent.Settings, parent._shape);
        }

        public override IReadOnlyList<OutputColumn> Outputs { get; }

        public override IReadOnlyList<int> Dependencies => _validFrames is { } v ? [_input, v] : [_input];

        public override RowState CreateState(DataViewRow input) => new State(this, input);

        private sealed class State : RowState
        {
            private readonly Mapper _m;
            private readonly ValueGetter<VBuffer<float>> _getter;
            private readonly ValueGetter<int>? _validGetter;
            private readonly float[] _mask;
            private VBuffer<float> _buffer;
            private float[] _features = [];

            public State(Mapper m, DataViewRow input) : base(input)
            {
                _m = m;
                _getter = InputGetter<VBuffer<float>>(input, m._input);
                _validGetter = m._validFrames is { } v ? InputGetter<int>(input, v) : null;
                _mask = new float[m._parent._shape.Positions];
            }

            protected override void Compute()
            {
                var spectrogram = Getters.ReadVector(_getter, ref _buffer);
                OnnxGraph.CheckFinite(spectrogram, _m._parent.Settings.InputColumnName);
                _features = _m._parent.Run([spectrogram])[0];
                var frames = _m._parent._shape.Frames;
                var valid = frames;
                _validGetter?.Invoke(ref valid);
                AudioCnnGeometry.Mask(_mask, frames, _m._timeRows, valid);
            }

            public override Delegate GetGetter(int outputIndex) => outputIndex == 0
                ? Vector(() => (ReadOnlyMemory<float>)_features)
                : Vector(() => (ReadOnlyMemory<float>)_mask);
        }
    }
}
