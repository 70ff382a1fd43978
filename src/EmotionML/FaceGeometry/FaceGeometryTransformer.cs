using EmotionML.Core;
using EmotionML.FaceAlignment;
using EmotionML.FaceGeometry;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

[assembly: LoadableClass(typeof(FaceGeometryTransformer), null, typeof(SignatureLoadModel), "EmotionML Face Geometry", FaceGeometryTransformer.LoaderSignature)]

namespace EmotionML.FaceGeometry;

/// <summary>
/// Runs the 68-point landmark CNN on every aligned face crop and writes <c>FaceGeometry</c> = vector&lt;float&gt;
/// [MaxFrames·<see cref="FaceGeometryMeasures.Count"/>] with dimensions [MaxFrames, <see cref="FaceGeometryMeasures.Count"/>]:
/// mouth opening and width, mouth-corner lift, eye apertures, brow raises, brow gap, jaw drop and upper-lip raise, each
/// normalised by the distance between the eyes. Frames without a face and padding frames are zero. The landmark CNN's
/// ONNX bytes are stored in the model zip and sha256-checked when loaded.
/// </summary>
public sealed class FaceGeometryTransformer : EmotionTransformerBase<FaceGeometryOptions>, IDisposable
{
    internal const string LoaderSignature = "EmotionMLFaceGeometry";
    private const string Stage = "face geometry";
    private const int CropBytes = FaceAlignmentOptions.CropSize * FaceAlignmentOptions.CropSize * 3;
    private readonly byte[] _model;
    private readonly Lazy<LandmarkDetector> _detector;

    internal FaceGeometryTransformer(IHostEnvironment env, FaceGeometryOptions options, byte[] model) : base(env, nameof(FaceGeometryTransformer), options)
    {
        Settings.Execution = StageLog.Routed(Settings.Execution, Host);
        ModelFiles.CheckBytes(model, ModelFiles.FaceLandmarks68, "face geometry landmark CNN");
        _model = model;
        _detector = new Lazy<LandmarkDetector>(() => new LandmarkDetector(_model, Settings.Execution), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Measures per frame (<see cref="FaceGeometryMeasures.Count"/>).</summary>
    public int FeatureDimension => FaceGeometryMeasures.Count;

    // Versions: 0x00010002 first format (enums by name, no deployment settings).
    private static VersionInfo GetVersionInfo()
        => ModelFormat.Version("EMLFGEOM", ModelFormat.V2, ModelFormat.V2, ModelFormat.V2, LoaderSignature, typeof(FaceGeometryTransformer));

    private static FaceGeometryTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        var options = ModelFormat.LoadOptions<FaceGeometryOptions>(ctx, GetVersionInfo(), Stage, o => o.Validate());
        var model = ModelFormat.ReadBlob(ctx, "Landmarks.onnx", Stage);
        ModelFiles.CheckBytes(model, ModelFiles.FaceLandmarks68, "face geometry landmark CNN (from the model zip)");
        return new FaceGeometryTransformer(env, options, model);
    }

    // *** Binary format ***
    // string: FaceGeometryOptions as JSON (model settings only)
    // stream "Landmarks.onnx": int32 length, landmark CNN ONNX bytes
    private protected override void Save(ModelSaveContext ctx)
    {
        ctx.SetVersionInfo(GetVersionInfo());
        ModelFormat.WriteOptions(ctx, Settings);
        ModelFormat.WriteBlob(ctx, "Landmarks.onnx", _model);
    }

    internal override EmotionTransformerBase WithDeployment(EmotionDeploymentOptions deployment)
    {
        var options = Settings.Clone();
        options.Execution = deployment.Execution.Clone();
        return new FaceGeometryTransformer(Env, options, _model);
    }

    private protected override BoundMapper Bind(DataViewSchema inputSchema) => new Mapper(this, inputSchema);

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose()
    {
        if (_detector.IsValueCreated) _detector.Value.Dispose();
    }

    /// <summary>Measures [maxFrames·Count] and landmarks [maxFrames·136] of one clip's crops.</summary>
    internal (float[] Measures, float[] Landmarks) Compute(ReadOnlySpan<byte> crops, ReadOnlySpan<bool> found)
    {
        var frames = found.Length;
        var measures = new float[frames * FaceGeometryMeasures.Count];
        var landmarks = new float[frames * 136];
        for (var f = 0; f < frames; f++)
        {
            if (!found[f]) continue;
            var points = landmarks.AsSpan(f * 136, 136);
            _detector.Value.Detect(crops.Slice(f * CropBytes, CropBytes), points);
            FaceGeometryMeasures.Compute(points, measures.AsSpan(f * FaceGeometryMeasures.Count, FaceGeometryMeasures.Count));
        }
        return (measures, landmarks);
    }

    private sealed class Mapper : BoundMapper
    {
        private readonly FaceGeometryTransformer _parent;
        private readonly int _crops, _found, _maxFrames;

        public Mapper(FaceGeometryTransformer parent, DataViewSchema schema) : base(schema)
        {
            _parent = parent;
            var o = parent.Settings;
            _found = FindInput(o.FaceFoundColumnName, "face found", t => t is VectorDataViewType { IsKnownSize: true, ItemType: BooleanDataViewType },
                "a vector of Boolean [MaxFrames] (face found per frame)");
            _maxFrames = ((VectorDataViewType)schema[_found].Type).Size;
            var expected = _maxFrames * CropBytes;
            _crops = FindInput(o.CropsColumnName, "face crops", t => t is VectorDataViewType { ItemType: var it } v && it == NumberDataViewType.Byte && v.Size == expected,
                $"a vector of Byte [{expected}] (MaxFrames·224·224·3, MaxFrames = {_maxFrames} from the face-found column)");
            var outputs = new List<OutputColumn> { new(o.OutputColumnName, new VectorDataViewType(NumberDataViewType.Single, _maxFrames, FaceGeometryMeasures.Count)) };
            if (o.LandmarksColumnName != null) outputs.Add(new(o.LandmarksColumnName, new VectorDataViewType(NumberDataViewType.Single, _maxFrames, 68, 2)));
            Outputs = outputs;
        }

        public override IReadOnlyList<OutputColumn> Outputs { get; }

        public override IReadOnlyList<int> Dependencies => [_crops, _found];

        public override RowState CreateState(DataViewRow input) => new State(this, input);

        private sealed class State : RowState
        {
            private readonly Mapper _m;
            private readonly ValueGetter<VBuffer<byte>> _crops;
            private readonly ValueGetter<VBuffer<bool>> _found;
            private VBuffer<byte> _cropBuffer;
            private VBuffer<bool> _foundBuffer;
            private (float[] Measures, float[] Landmarks) _values = ([], []);

            public State(Mapper m, DataViewRow input) : base(input)
            {
                _m = m;
                _crops = InputGetter<VBuffer<byte>>(input, m._crops);
                _found = InputGetter<VBuffer<bool>>(input, m._found);
            }

            protected override void Compute()
            {
                _crops(ref _cropBuffer);
                _found(ref _foundBuffer);
                var crops = _cropBuffer.IsDense ? _cropBuffer.GetValues() : _cropBuffer.DenseValues().ToArray();
                var found = _foundBuffer.IsDense ? _foundBuffer.GetValues() : _foundBuffer.DenseValues().ToArray();
                _values = _m._parent.Compute(crops, found);
            }

            public override Delegate GetGetter(int outputIndex) => outputIndex == 0
                ? Vector(() => (ReadOnlyMemory<float>)_values.Measures)
                : Vector(() => (ReadOnlyMemory<float>)_values.Landmarks);
        }
    }
}
