using EmotionML.Core;
using EmotionML.FaceAlignment;
using EmotionML.FaceFeatures;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

[assembly: LoadableClass(typeof(FaceFeatureTransformer), null, typeof(SignatureLoadModel), "EmotionML Face Features", FaceFeatureTransformer.LoaderSignature)]

namespace EmotionML.FaceFeatures;

/// <summary>
/// Runs a frozen face CNN (<see cref="FaceBackboneKind"/>) on every real frame's 224×224 aligned crop and writes
/// <c>FaceFeatures</c> = vector&lt;float&gt;[MaxFrames·D] with dimensions [MaxFrames, D] (padding rows zero), D set by the
/// enhancement. The real frames of a clip (or the transformed copies of its frames) go through the backbone in runs of
/// several images (about one 224² image's worth of input per run on the CPU, up to 64 images on CUDA).
/// The backbone ONNX bytes are stored in the model zip and sha256-checked when loaded.
/// </summary>
public sealed class FaceFeatureTransformer : EmotionTransformerBase<FaceFeatureOptions>, IDisposable
{
    internal const string LoaderSignature = "EmotionMLFaceFeatures";
    internal const string CropsExpected = "a vector of Byte [MaxFrames·224·224·3] (aligned RGB crops)";
    internal const string MaskExpected = "a vector of Single [MaxFrames] (frame mask)";
    private const string Stage = "face features";
    private readonly byte[] _model;
    private readonly byte[]? _secondModel;
    private readonly Lazy<FaceFeatureExtractor> _extractor;
    private readonly FaceFeatureCache? _cache;
    private readonly string _settingsKey;

    internal FaceFeatureTransformer(IHostEnvironment env, FaceFeatureOptions options, byte[] model, byte[]? secondModel) : base(env, nameof(FaceFeatureTransformer), options)
    {
        Settings.Execution = StageLog.Routed(Settings.Execution, Host);
        _model = model;
        _secondModel = secondModel;
        var fineTuned = FineTunedBackbone.Check(model, FaceBackbone.Of(Settings.Backbone), "face features backbone");
        if (Settings.Enhancement == FeatureEnhancement.FArMean)
            ModelFiles.CheckBytes(secondModel ?? throw new ArgumentNullException(nameof(secondModel)), FaceBackbone.Of(Settings.SecondBackbone).Model, "face features second backbone");
        _extractor = new Lazy<FaceFeatureExtractor>(() => new FaceFeatureExtractor(Settings, _model, _secondModel), LazyThreadSafetyMode.ExecutionAndPublication);
        _cache = Settings.CacheDirectory is { } dir ? new FaceFeatureCache(dir) : null;
        _settingsKey = FaceFeatureCache.SettingsKey(Settings, fineTuned);
    }

    /// <summary>Per-frame feature dimension D.</summary>
    public int FeatureDimension => Settings.FeatureDimension;

    /// <summary>The feature cache, when <see cref="FaceFeatureOptions.CacheDirectory"/> (or the deployment's cache folder) is set.</summary>
    public FaceFeatureCache? Cache => _cache;

    internal FaceFeatureExtractor Extractor => _extractor.Value;

    // Versions: 0x00010001 first format; 0x00010002 enums by name, no Execution/CacheDirectory/model paths (reads 0x00010001).
    private static VersionInfo GetVersionInfo()
        => ModelFormat.Version("EMLFFEAT", ModelFormat.V2, ModelFormat.V2, ModelFormat.V1, LoaderSignature, typeof(FaceFeatureTransformer));

    private static FaceFeatureTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        var options = ModelFormat.LoadOptions<FaceFeatureOptions>(ctx, GetVersionInfo(), Stage, o => o.Validate());
        var model = ModelFormat.ReadBlob(ctx, "Backbone.onnx", Stage);
        FineTunedBackbone.Check(model, FaceBackbone.Of(options.Backbone), "face features backbone (from the model zip)");
        byte[]? second = null;
        if (options.Enhancement == FeatureEnhancement.FArMean)
        {
            second = ModelFormat.ReadBlob(ctx, "SecondBackbone.onnx", Stage);
            ModelFiles.CheckBytes(second, FaceBackbone.Of(options.SecondBackbone).Model, "face features second backbone (from the model zip)");
        }
        return new FaceFeatureTransformer(env, options, model, second);
    }

    // *** Binary format ***
    // string: FaceFeatureOptions as JSON (model settings only)
    // stream "Backbone.onnx": int32 length, backbone ONNX bytes
    // stream "SecondBackbone.onnx" (F-AR-Mean only): int32 length, second backbone ONNX bytes
    private protected override void Save(ModelSaveContext ctx)
    {
        ctx.SetVersionInfo(GetVersionInfo());
        ModelFormat.WriteOptions(ctx, Settings);
        ModelFormat.WriteBlob(ctx, "Backbone.onnx", _model);
        if (_secondModel != null) ModelFormat.WriteBlob(ctx, "SecondBackbone.onnx", _secondModel);
    }

    internal override EmotionTransformerBase WithDeployment(EmotionDeploymentOptions deployment)
    {
        var options = Settings.Clone();
        options.Execution = deployment.Execution.Clone();
        options.CacheDirectory = deployment.FeatureCacheDirectory;
        return new FaceFeatureTransformer(Env, options, _model, _secondModel);
    }

    private protected override BoundMapper Bind(DataViewSchema inputSchema) => new Mapper(this, inputSchema);

    /// <summary>Features of one clip ([maxFrames·D]), through the cache when one is set.</summary>
    internal float[] Compute(ReadOnlySpan<byte> crops, ReadOnlySpan<float> mask)
    {
        if (_cache == null) return Extractor.ComputeClip(crops, mask);
        var key = FaceFeatureCache.Key(crops, mask, _settingsKey);
        var length = mask.Length * FeatureDimension;
        if (_cache.TryRead(key, length, out var cached)) return cached;
        var values = Extractor.ComputeClip(crops, mask);
        _cache.Write(key, values);
        return values;
    }

    /// <summary>Releases the ONNX Runtime sessions.</summary>
    public void Dispose()
    {
        if (_extractor.IsValueCreated) _extractor.Value.Dispose();
    }

    private sealed class Mapper : BoundMapper
    {
        private const int CropBytes = FaceAlignmentOptions.CropSize * FaceAlignmentOptions.CropSize * 3;
        private readonly FaceFeatureTransformer _parent;
        private readonly int _crops, _mask, _maxFrames;

        public Mapper(FaceFeatureTransformer parent, DataViewSchema schema) : base(schema)
        {
            _parent = parent;
            var o = parent.Settings;
            _mask = FindInput(o.MaskColumnName, "frame mask", t => t is VectorDataViewType { IsKnownSize: true, ItemType: var it } && it == NumberDataViewType.Single,
                MaskExpected);
            _maxFrames = ((VectorDataViewType)schema[_mask].Type).Size;
            var expected = _maxFrames * CropBytes;
            _crops = FindInput(o.CropsColumnName, "face crops", t => t is VectorDataViewType { ItemType: var it } v && it == NumberDataViewType.Byte && v.Size == expected,
                $"a vector of Byte [{expected}] (MaxFrames·224·224·3, MaxFrames = {_maxFrames} from the mask column)");
            Outputs = [new OutputColumn(o.OutputColumnName, new VectorDataViewType(NumberDataViewType.Single, _maxFrames, parent.FeatureDimension))];
        }

        public override IReadOnlyList<OutputColumn> Outputs { get; }

        public override IReadOnlyList<int> Dependencies => [_crops, _mask];

        public override RowState CreateState(DataViewRow input) => new State(this, input);

        private sealed class State : RowState
        {
            private readonly Mapper _m;
            private readonly ValueGetter<VBuffer<byte>> _crops;
            private readonly ValueGetter<VBuffer<float>> _mask;
            private VBuffer<byte> _cropBuffer;
            private VBuffer<float> _maskBuffer;
            private float[] _features = [];

            public State(Mapper m, DataViewRow input) : base(input)
            {
                _m = m;
                _crops = InputGetter<VBuffer<byte>>(input, m._crops);
                _mask = InputGetter<VBuffer<float>>(input, m._mask);
            }

            protected override void Compute()
            {
                _crops(ref _cropBuffer);
                _mask(ref _maskBuffer);
                var crops = _cropBuffer.IsDense ? _cropBuffer.GetValues() : _cropBuffer.DenseValues().ToArray();
                var mask = _maskBuffer.IsDense ? _maskBuffer.GetValues() : _maskBuffer.DenseValues().ToArray();
                _features = _m._parent.Compute(crops, mask);
            }

            public override Delegate GetGetter(int outputIndex) => Vector(() => (ReadOnlyMemory<float>)_features);
        }
    }
}
