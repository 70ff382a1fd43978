using EmotionML.Core;
using EmotionML.Fusion;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Runtime;

[assembly: LoadableClass(typeof(FusionHeadTransformer), null, typeof(SignatureLoadModel), "EmotionML Fusion Head", FusionHeadTransformer.LoaderSignature)]

namespace EmotionML.Fusion;

/// <summary>
/// The trained fusion head (intra-modal attention, factorized bilinear pooling or concatenation, classifier) run through
/// ONNX Runtime. Outputs <c>Score</c> (probabilities with slot names), <c>PredictedLabel</c> (key with the class names),
/// so <c>mlContext.MulticlassClassification.Evaluate</c> works unchanged, and the per-frame / per-position attention weights.
/// Produced by the TorchSharp trainer in EmotionML.Training.
/// </summary>
/// <remarks>
/// A modality whose mask is all zero (a clip with no decoded frame, or no audio) is fed as one all-zero item, so the
/// prediction rests on the other modality; its attention output is then all zero.
/// </remarks>
public sealed class FusionHeadTransformer : EmotionTransformerBase, IDisposable
{
    internal const string LoaderSignature = "EmotionMLFusionHead";
    internal const string FaceInput = "face", FaceMaskInput = "face_mask", AudioInput = "audio", AudioMaskInput = "audio_mask";
    internal const string ScoresOutput = "scores", FaceAttentionOutput = "face_attention", AudioAttentionOutput = "audio_attention";
    private const string Stage = "fusion head";
    private readonly FusionHeadColumns _columns;
    private readonly FusionHeadSignature _signature;
    private readonly OnnxGraph _graph;

    internal FusionHeadTransformer(IHostEnvironment env, FusionHeadColumns columns, FusionHeadSignature signature, byte[] onnx) : base(env, nameof(FusionHeadTransformer))
    {
        columns.Validate();
        signature.Validate();
        _columns = columns.Clone();
        _columns.Execution = StageLog.Routed(_columns.Execution, Host);
        _signature = signature.Clone();
        _graph = new OnnxGraph(onnx, _columns.Execution, "fusion head");
    }

    /// <summary>Column names and execution settings (a copy).</summary>
    public FusionHeadColumns Columns => _columns.Clone();

    /// <summary>Classes (the label names, in score order, saved in the zip) and input shapes of the trained head (a copy).</summary>
    public FusionHeadSignature Signature => _signature.Clone();

    internal byte[] OnnxBytes => _graph.Bytes;

    /// <summary>The ONNX Runtime provider the head runs on ("CPU" or "CUDA:id"); creates the session.</summary>
    internal string Provider => _graph.Provider;

    // Versions: 0x00010001 first format; 0x00010002 no Execution (reads 0x00010001).
    private static VersionInfo GetVersionInfo()
        => ModelFormat.Version("EMLFUSHD", ModelFormat.V2, ModelFormat.V2, ModelFormat.V1, LoaderSignature, typeof(FusionHeadTransformer));

    private static FusionHeadTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        var (columns, signature, onnx) = ModelFormat.ReadGraphStage<FusionHeadColumns, FusionHeadSignature>(ctx, GetVersionInfo(), Stage, "FusionHead.onnx", c => c.Validate(), s => s.Validate());
        return new FusionHeadTransformer(env, columns, signature, onnx);
    }

    // *** Binary format ***
    // string: FusionHeadColumns as JSON (column names)
    // string: FusionHeadSignature as JSON (class names in score order, FaceFrames, FaceDim, AudioPositions, AudioDim, Description)
    // stream "FusionHead.onnx": int32 length, the head's ONNX bytes
    private protected override void Save(ModelSaveContext ctx)
        => ModelFormat.WriteGraphStage(ctx, GetVersionInfo(), _columns, _signature, "FusionHead.onnx", _graph.Bytes);

    internal override EmotionTransformerBase WithDeployment(EmotionDeploymentOptions deployment)
    {
        var columns = _columns.Clone();
        columns.Execution = deployment.Execution.Clone();
        return new FusionHeadTransformer(Env, columns, _signature, _graph.Bytes);
    }

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose() => _graph.Dispose();

    private protected override BoundMapper Bind(DataViewSchema inputSchema) => new Mapper(this, inputSchema);

    internal static IReadOnlyList<OutputColumn> OutputColumns(FusionHeadColumns c, FusionHeadSignature s)
    {
        var k = s.Classes.Length;
        var names = s.Classes.Select(n => n.AsMemory()).ToArray();
        var score = new DataViewSchema.Annotations.Builder();
        score.AddSlotNames(k, (ref VBuffer<ReadOnlyMemory<char>> v) => v = new VBuffer<ReadOnlyMemory<char>>(k, names));
        score.Add(AnnotationUtils.Kinds.ScoreColumnKind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = AnnotationUtils.Const.ScoreColumnKind.MulticlassClassification.AsMemory());
        score.Add(AnnotationUtils.Kinds.ScoreValueKind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = AnnotationUtils.Const.ScoreValueKind.Score.AsMemory());
        var key = new DataViewSchema.Annotations.Builder();
        key.AddKeyValues(k, TextDataViewType.Instance, (ref VBuffer<ReadOnlyMemory<char>> v) => v = new VBuffer<ReadOnlyMemory<char>>(k, names));
        var list = new List<OutputColumn>
        {
            new(c.ScoreColumnName, new VectorDataViewType(NumberDataViewType.Single, k), score.ToAnnotations()),
            new(c.PredictedLabelColumnName, new KeyDataViewType(typeof(uint), k), key.ToAnnotations()),
        };
        if (s.UsesFace) list.Add(new(c.FaceAttentionColumnName, new VectorDataViewType(NumberDataViewType.Single, s.FaceFrames)));
        if (s.UsesAudio) list.Add(new(c.AudioAttentionColumnName, new VectorDataViewType(NumberDataViewType.Single, s.AudioPositions)));
        return list;
    }

    /// <summary>One clip's head inputs.</summary>
    internal sealed record HeadInput(float[]? Face, float[]? FaceMask, float[]? Audio, float[]? AudioMask);

    /// <summary>One clip's head outputs.</summary>
    internal sealed record HeadOutput(float[] Scores, float[] FaceAttention, float[] AudioAttention);

    /// <summary>Runs the head on a batch of clips.</summary>
    internal HeadOutput[] Run(IReadOnlyList<HeadInput> batch)
    {
        var s = _signature;
        var b = batch.Count;
        var inputs = new List<NamedOnnxValue>();
        if (s.UsesFace)
        {
            var (f, m) = Stack(batch.Select(x => (x.Face!, x.FaceMask!)).ToList(), s.FaceFrames, s.FaceDim);
            inputs.Add(NamedOnnxValue.CreateFromTensor(FaceInput, f));
            inputs.Add(NamedOnnxValue.CreateFromTensor(FaceMaskInput, m));
        }
        if (s.UsesAudio)
        {
            var (a, m) = Stack(batch.Select(x => (x.Audio!, x.AudioMask!)).ToList(), s.AudioPositions, s.AudioDim);
            inputs.Add(NamedOnnxValue.CreateFromTensor(AudioInput, a));
            inputs.Add(NamedOnnxValue.CreateFromTensor(AudioMaskInput, m));
        }
        using var results = _graph.Session.Run(inputs);
        var byName = results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());
        var k = s.Classes.Length;
        return Enumerable.Range(0, b).Select(i => new HeadOutput(
            byName[ScoresOutput].AsSpan(i * k, k).ToArray(),
            s.UsesFace ? Masked(byName[FaceAttentionOutput].AsSpan(i * s.FaceFrames, s.FaceFrames).ToArray(), batch[i].FaceMask!) : [],
            s.UsesAudio ? Masked(byName[AudioAttentionOutput].AsSpan(i * s.AudioPositions, s.AudioPositions).ToArray(), batch[i].AudioMask!) : [])).ToArray();
    }

    private static float[] Masked(float[] weights, float[] mask)
    {
        if (mask.All(m => m == 0)) Array.Clear(weights);
        return weights;
    }

    private static (DenseTensor<float> Features, DenseTensor<float> Mask) Stack(List<(float[] Features, float[] Mask)> items, int n, int d)
    {
        var f = new DenseTensor<float>([items.Count, n, d]);
        var m = new DenseTensor<float>([items.Count, n]);
        for (var i = 0; i < items.Count; i++)
        {
            items[i].Features.CopyTo(f.Buffer.Span.Slice(i * n * d, n * d));
            var mask = m.Buffer.Span.Slice(i * n, n);
            items[i].Mask.CopyTo(mask);
            // No real item: feed one all-zero item so the attention is defined (documented fallback); the padded
            // features themselves (e.g. the CNN's output for a silent spectrogram) never reach the head.
            if (!mask.ContainsAnyExcept(0f))
            {
                mask[0] = 1;
                f.Buffer.Span.Slice(i * n * d, d).Clear();
            }
        }
        return (f, m);
    }

    private sealed class Mapper : BoundMapper
    {
        private readonly FusionHeadTransformer _parent;
        private readonly int _face = -1, _faceMask = -1, _audio = -1, _audioMask = -1;

        public Mapper(FusionHeadTransformer parent, DataViewSchema schema) : base(schema)
        {
            _parent = parent;
            var c = parent._columns;
            var s = parent._signature;
            if (s.UsesFace)
            {
                _face = FindInput(c.FaceFeaturesColumnName, "face features", FloatVector(s.FaceFrames * s.FaceDim), $"a vector of Single [{s.FaceFrames * s.FaceDim}] ({s.FaceFrames}×{s.FaceDim})");
                _faceMask = FindInput(c.FaceMaskColumnName, "frame mask", FloatVector(s.FaceFrames), $"a vector of Single [{s.FaceFrames}]");
            }
            if (s.UsesAudio)
            {
                _audio = FindInput(c.AudioFeaturesColumnName, "audio features", FloatVector(s.AudioPositions * s.AudioDim), $"a vector of Single [{s.AudioPositions * s.AudioDim}] ({s.AudioPositions}×{s.AudioDim})");
                _audioMask = FindInput(c.AudioMaskColumnName, "audio mask", FloatVector(s.AudioPositions), $"a vector of Single [{s.AudioPositions}]");
            }
            Outputs = OutputColumns(c, s);
        }

        private static Func<DataViewType, bool> FloatVector(int size)
            => t => t is VectorDataViewType { ItemType: var it, Size: var n } && it == NumberDataViewType.Single && n == size;

        public override IReadOnlyList<OutputColumn> Outputs { get; }

        public override IReadOnlyList<int> Dependencies => new[] { _face, _faceMask, _audio, _audioMask }.Where(i => i >= 0).ToArray();

        public override RowState CreateState(DataViewRow input) => new State(this, input);

        private sealed class State : RowState
        {
            private readonly Mapper _m;
            private readonly ValueGetter<VBuffer<float>>? _face, _faceMask, _audio, _audioMask;
            private VBuffer<float> _b1, _b2, _b3, _b4;
            private HeadOutput? _out;
            private uint _predicted;

            public State(Mapper m, DataViewRow input) : base(input)
            {
                _m = m;
                if (m._face >= 0) { _face = InputGetter<VBuffer<float>>(input, m._face); _faceMask = InputGetter<VBuffer<float>>(input, m._faceMask); }
                if (m._audio >= 0) { _audio = InputGetter<VBuffer<float>>(input, m._audio); _audioMask = InputGetter<VBuffer<float>>(input, m._audioMask); }
            }

            protected override void Compute()
            {
                var c = _m._parent._columns;
                float[]? face = null, faceMask = null, audio = null, audioMask = null;
                if (_face != null)
                {
                    face = Getters.ReadVector(_face, ref _b1);
                    faceMask = Getters.ReadVector(_faceMask!, ref _b2);
                    OnnxGraph.CheckFinite(face, c.FaceFeaturesColumnName);
                }
                if (_audio != null)
                {
                    audio = Getters.ReadVector(_audio, ref _b3);
                    audioMask = Getters.ReadVector(_audioMask!, ref _b4);
                    OnnxGraph.CheckFinite(audio, c.AudioFeaturesColumnName);
                }
                _out = _m._parent.Run([new HeadInput(face, faceMask, audio, audioMask)])[0];
                var best = 0;
                for (var i = 1; i < _out.Scores.Length; i++) if (_out.Scores[i] > _out.Scores[best]) best = i;
                _predicted = (uint)best + 1; // keys are 1-based; 0 means missing
            }

            public override Delegate GetGetter(int outputIndex)
            {
                var name = _m.Outputs[outputIndex].Name;
                var c = _m._parent._columns;
                if (name == c.ScoreColumnName) return Vector(() => (ReadOnlyMemory<float>)_out!.Scores);
                if (name == c.PredictedLabelColumnName) return Scalar(() => _predicted);
                if (name == c.FaceAttentionColumnName && _m._face >= 0) return Vector(() => (ReadOnlyMemory<float>)_out!.FaceAttention);
                return Vector(() => (ReadOnlyMemory<float>)_out!.AudioAttention);
            }
        }
    }
}
