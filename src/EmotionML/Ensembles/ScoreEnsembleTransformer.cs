using EmotionML.Core;
using EmotionML.Ensembles;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

[assembly: LoadableClass(typeof(ScoreEnsembleTransformer), null, typeof(SignatureLoadModel), "EmotionML Score Ensemble", ScoreEnsembleTransformer.LoaderSignature)]

namespace EmotionML.Ensembles;

/// <summary>
/// Averages the class scores of several heads in the same chain (optionally weighted), re-weights them by class
/// weights, and outputs <c>Score</c> and <c>PredictedLabel</c> for ML.NET's evaluator. Saved with its options.
/// </summary>
public sealed class ScoreEnsembleTransformer : EmotionTransformerBase<ScoreEnsembleOptions>
{
    internal const string LoaderSignature = "EmotionMLScoreEnsemble";
    internal const string InputRole = "member score", InputExpected = "a vector of Single (class scores)";
    private const string Stage = "score ensemble";

    internal ScoreEnsembleTransformer(IHostEnvironment env, ScoreEnsembleOptions options) : base(env, nameof(ScoreEnsembleTransformer), options)
    {
    }

    // Versions: 0x00010001 first format; 0x00010002 same layout, written with the shared enum-by-name JSON (reads 0x00010001).
    private static VersionInfo GetVersionInfo()
        => ModelFormat.Version("EMLENSMB", ModelFormat.V2, ModelFormat.V2, ModelFormat.V1, LoaderSignature, typeof(ScoreEnsembleTransformer));

    private static ScoreEnsembleTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
        => new(env, ModelFormat.LoadOptions<ScoreEnsembleOptions>(ctx, GetVersionInfo(), Stage, o => o.Validate()));

    // *** Binary format ***
    // string: ScoreEnsembleOptions as JSON (member columns, member and class weights, output columns)
    private protected override void Save(ModelSaveContext ctx)
    {
        ctx.SetVersionInfo(GetVersionInfo());
        ModelFormat.WriteOptions(ctx, Settings);
    }

    private protected override BoundMapper Bind(DataViewSchema inputSchema) => new Mapper(this, inputSchema);

    /// <summary>Combines member scores for one row.</summary>
    internal static float[] Combine(IReadOnlyList<float[]> members, double[]? memberWeights, double[]? classWeights)
    {
        var k = members[0].Length;
        var result = new double[k];
        var total = 0.0;
        for (var m = 0; m < members.Count; m++)
        {
            var w = memberWeights?[m] ?? 1;
            total += w;
            for (var c = 0; c < k; c++) result[c] += w * members[m][c];
        }
        for (var c = 0; c < k; c++) result[c] = result[c] / total * (classWeights?[c] ?? 1);
        var sum = result.Sum();
        return result.Select(v => (float)(sum > 0 ? v / sum : 1.0 / k)).ToArray();
    }

    private sealed class Mapper : BoundMapper
    {
        private readonly ScoreEnsembleTransformer _parent;
        private readonly int[] _inputs;

        public Mapper(ScoreEnsembleTransformer parent, DataViewSchema schema) : base(schema)
        {
            _parent = parent;
            var o = parent.Settings;
            _inputs = o.InputColumnNames.Select(n => FindInput(n, InputRole, t => t is VectorDataViewType { ItemType: var it, IsKnownSize: true } && it == NumberDataViewType.Single, InputExpected)).ToArray();
            var first = schema[_inputs[0]];
            var k = ((VectorDataViewType)first.Type).Size;
            foreach (var i in _inputs)
                if (((VectorDataViewType)schema[i].Type).Size != k)
                    throw new ArgumentOutOfRangeException(nameof(schema), $"Score column '{schema[i].Name}' has {((VectorDataViewType)schema[i].Type).Size} classes; '{first.Name}' has {k}.");
            if (o.ClassWeights != null && o.ClassWeights.Length != k)
                throw new ArgumentOutOfRangeException(nameof(schema), $"ClassWeights has {o.ClassWeights.Length} entries for {k} classes.");
            VBuffer<ReadOnlyMemory<char>> names = default;
            if (first.HasSlotNames()) first.GetSlotNames(ref names);
            var classNames = first.HasSlotNames() ? names.DenseValues().Select(n => n.ToString()).ToArray() : Enumerable.Range(0, k).Select(i => i.ToString()).ToArray();
            var head = Fusion.FusionHeadTransformer.OutputColumns(
                new Fusion.FusionHeadColumns { ScoreColumnName = o.ScoreColumnName, PredictedLabelColumnName = o.PredictedLabelColumnName },
                new Fusion.FusionHeadSignature { Classes = classNames, AudioPositions = 0, FaceFrames = 0 });
            Outputs = head.Take(2).ToList();
        }

        public override IReadOnlyList<OutputColumn> Outputs { get; }

        public override IReadOnlyList<int> Dependencies => _inputs;

        public override RowState CreateState(DataViewRow input) => new State(this, input);

        private sealed class State : RowState
        {
            private readonly Mapper _m;
            private readonly ValueGetter<VBuffer<float>>[] _getters;
            private VBuffer<float> _buffer;
            private float[] _score = [];
            private uint _predicted;

            public State(Mapper m, DataViewRow input) : base(input)
            {
                _m = m;
                _getters = m._inputs.Select(i => InputGetter<VBuffer<float>>(input, i)).ToArray();
            }

            protected override void Compute()
            {
                var members = _getters.Select(g => Getters.ReadVector(g, ref _buffer)).ToList();
                var o = _m._parent.Settings;
                _score = Combine(members, o.MemberWeights, o.ClassWeights);
                var best = 0;
                for (var i = 1; i < _score.Length; i++) if (_score[i] > _score[best]) best = i;
                _predicted = (uint)best + 1;
            }

            public override Delegate GetGetter(int outputIndex) => outputIndex == 0
                ? Vector(() => (ReadOnlyMemory<float>)_score)
                : Scalar(() => _predicted);
        }
    }
}

/// <summary>Estimator of <see cref="ScoreEnsembleTransformer"/> (nothing to learn; class weights are given).</summary>
public sealed class ScoreEnsembleEstimator : EmotionTrivialEstimator<ScoreEnsembleTransformer, ScoreEnsembleOptions>
{
    internal ScoreEnsembleEstimator(IHostEnvironment env, ScoreEnsembleOptions options) : base(env, nameof(ScoreEnsembleEstimator), options)
    {
    }

    private protected override ScoreEnsembleTransformer CreateTransformer() => new(Env, Options);

    private protected override SchemaShape OutputSchema(SchemaShape inputSchema)
    {
        foreach (var n in Options.InputColumnNames)
            SchemaChecks.Require(inputSchema, n, ScoreEnsembleTransformer.InputRole, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, ScoreEnsembleTransformer.InputExpected);
        var result = inputSchema.ToDictionary(x => x.Name);
        result[Options.ScoreColumnName] = new SchemaShape.Column(Options.ScoreColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
        result[Options.PredictedLabelColumnName] = new SchemaShape.Column(Options.PredictedLabelColumnName, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, true);
        return new SchemaShape(result.Values);
    }
}
