using EmotionML.Core;
using EmotionML.FaceAlignment;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

[assembly: LoadableClass(typeof(FaceAlignmentTransformer), null, typeof(SignatureLoadModel), "EmotionML Face Alignment", FaceAlignmentTransformer.LoaderSignature)]

namespace EmotionML.FaceAlignment;

/// <summary>
/// Detects the main face in every frame (YuNet), aligns it by its 5 landmarks and crops it to 224×224 with a 30 % margin;
/// frames without a face fall back to the whole frame. The detector's ONNX bytes are stored in the model zip, so a
/// loaded model needs no model folder.
/// </summary>
public sealed class FaceAlignmentTransformer : EmotionTransformerBase<FaceAlignmentOptions>, IDisposable
{
    internal const string LoaderSignature = "EmotionMLFaceAlignment";
    internal const string FramesExpected = "a vector of Byte (RGB24 frames)";
    private const string Stage = "face alignment";
    private readonly byte[] _detectorModel;
    private readonly Lazy<FaceAligner> _aligner;

    internal FaceAlignmentTransformer(IHostEnvironment env, FaceAlignmentOptions options, byte[] detectorModel) : base(env, nameof(FaceAlignmentTransformer), options)
    {
        Settings.Execution = StageLog.Routed(Settings.Execution, Host);
        _detectorModel = detectorModel;
        _aligner = new Lazy<FaceAligner>(() => new FaceAligner(new YuNetDetector(_detectorModel, Settings.Execution), Settings), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    internal FaceAligner Aligner => _aligner.Value;

    // Versions: 0x00010001 first format; 0x00010002 enums by name, no Execution/DetectorModelPath (reads 0x00010001).
    private static VersionInfo GetVersionInfo()
        => ModelFormat.Version("EMLFALGN", ModelFormat.V2, ModelFormat.V2, ModelFormat.V1, LoaderSignature, typeof(FaceAlignmentTransformer));

    private static FaceAlignmentTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        var options = ModelFormat.LoadOptions<FaceAlignmentOptions>(ctx, GetVersionInfo(), Stage, o => o.Validate());
        var model = ModelFormat.ReadBlob(ctx, "Detector.onnx", Stage);
        ModelFiles.CheckBytes(model, ModelFiles.YuNet, "face alignment detector (from the model zip)");
        return new FaceAlignmentTransformer(env, options, model);
    }

    // *** Binary format ***
    // string: FaceAlignmentOptions as JSON (model settings only)
    // stream "Detector.onnx": int32 length, YuNet ONNX bytes
    private protected override void Save(ModelSaveContext ctx)
    {
        ctx.SetVersionInfo(GetVersionInfo());
        ModelFormat.WriteOptions(ctx, Settings);
        ModelFormat.WriteBlob(ctx, "Detector.onnx", _detectorModel);
    }

    internal override EmotionTransformerBase WithDeployment(EmotionDeploymentOptions deployment)
    {
        var options = Settings.Clone();
        options.Execution = deployment.Execution.Clone();
        return new FaceAlignmentTransformer(Env, options, _detectorModel);
    }

    private protected override BoundMapper Bind(DataViewSchema inputSchema) => new Mapper(this, inputSchema);

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose()
    {
        if (_aligner.IsValueCreated) _aligner.Value.Dispose();
    }

    internal static IReadOnlyList<OutputColumn> OutputColumns(FaceAlignmentOptions o)
    {
        const int s = FaceAlignmentOptions.CropSize;
        return
        [
            new(o.CropsColumnName, new VectorDataViewType(NumberDataViewType.Byte, o.MaxFrames, s, s, 3)),
            new(o.FaceFoundColumnName, new VectorDataViewType(BooleanDataViewType.Instance, o.MaxFrames)),
            new(o.LandmarksColumnName, new VectorDataViewType(NumberDataViewType.Single, o.MaxFrames, 10)),
            new(o.BoxesColumnName, new VectorDataViewType(NumberDataViewType.Single, o.MaxFrames, 4)),
            new(o.MaskColumnName, new VectorDataViewType(NumberDataViewType.Single, o.MaxFrames)),
            new(o.FaceMaskColumnName, new VectorDataViewType(NumberDataViewType.Single, o.MaxFrames)),
        ];
    }

    private sealed class Mapper : BoundMapper
    {
        private readonly FaceAlignmentTransformer _parent;
        private readonly int _frames, _count, _width, _height;

        public Mapper(FaceAlignmentTransformer parent, DataViewSchema schema) : base(schema)
        {
            _parent = parent;
            var o = parent.Settings;
            var int32 = SchemaError.Expected(SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Int32);
            _frames = FindInput(o.FramesColumnName, "frames", t => t is VectorDataViewType { ItemType: var it } && it == NumberDataViewType.Byte, FramesExpected);
            _count = FindInput(o.FrameCountColumnName, "frame count", t => t == NumberDataViewType.Int32, int32);
            _width = FindInput(o.FrameWidthColumnName, "frame width", t => t == NumberDataViewType.Int32, int32);
            _height = FindInput(o.FrameHeightColumnName, "frame height", t => t == NumberDataViewType.Int32, int32);
            Outputs = OutputColumns(o);
        }

        public override IReadOnlyList<OutputColumn> Outputs { get; }

        public override IReadOnlyList<int> Dependencies => [_frames, _count, _width, _height];

        public override RowState CreateState(DataViewRow input) => new State(this, input);

        private sealed class State : RowState
        {
            private readonly Mapper _m;
            private readonly ValueGetter<VBuffer<byte>> _frames;
            private readonly ValueGetter<int> _count, _width, _height;
            private VBuffer<byte> _buffer;
            private AlignedClip? _clip;

            public State(Mapper m, DataViewRow input) : base(input)
            {
                _m = m;
                _frames = InputGetter<VBuffer<byte>>(input, m._frames);
                _count = InputGetter<int>(input, m._count);
                _width = InputGetter<int>(input, m._width);
                _height = InputGetter<int>(input, m._height);
            }

            protected override void Compute()
            {
                int count = 0, width = 0, height = 0;
                _count(ref count); _width(ref width); _height(ref height);
                _frames(ref _buffer);
                var dense = _buffer.IsDense ? _buffer.GetValues() : _buffer.DenseValues().ToArray();
                _clip = _m._parent.Aligner.Align(dense, count, width, height);
            }

            public override Delegate GetGetter(int outputIndex) => outputIndex switch
            {
                0 => Vector(() => (ReadOnlyMemory<byte>)_clip!.Crops),
                1 => Vector(() => (ReadOnlyMemory<bool>)_clip!.Found),
                2 => Vector(() => (ReadOnlyMemory<float>)_clip!.Landmarks),
                3 => Vector(() => (ReadOnlyMemory<float>)_clip!.Boxes),
                4 => Vector(() => (ReadOnlyMemory<float>)_clip!.Mask),
                _ => Vector(() => (ReadOnlyMemory<float>)_clip!.FaceMask),
            };
        }
    }
}
