using EmotionML.Core;
using EmotionML.SpeakerAdaptation;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

[assembly: LoadableClass(typeof(SpeakerNormalizationTransformer), null, typeof(SignatureLoadModel), "EmotionML Speaker Normalization", SpeakerNormalizationTransformer.LoaderSignature)]

namespace EmotionML.SpeakerAdaptation;

/// <summary>
/// Speaker adaptation without labels: standardises each clip's face features (over its real frames) and audio features
/// (over its real positions) by the per-dimension mean and standard deviation of the same speaker's clips,
/// <c>x' = (x − μ_speaker) / σ_speaker</c>, keyed by the <c>Speaker</c> column. Padded frames and positions (mask 0) are
/// passed through unchanged; a dimension with σ below <see cref="SpeakerNormalizationOptions.MinStd"/> (constant for that
/// speaker, such as a unit that never fires) becomes 0, the speaker's mean, since it carries nothing to scale.
/// </summary>
/// <remarks>
/// <para>Where the statistics come from: a speaker the stage holds statistics for — the speakers of the data it was
/// fitted on, and those added with <see cref="WithSpeakerStatistics"/> (a person's unlabelled calibration clips) — is
/// normalised with those. Every other speaker in the data given to <see cref="EmotionTransformerBase.Transform"/> gets
/// statistics computed from its own clips in that data (no labels are read), so <c>Transform</c> reads the speaker column
/// once more, and the features of such speakers, before it returns (cache an expensive upstream chain with
/// <c>mlContext.Data.Cache</c>). A prediction engine sees one row at a time, so it can only use held statistics: a row of
/// a speaker without them is an <see cref="InvalidInputException"/> (calibrate first, see
/// <see cref="EmotionPredictionEngine.Calibrate"/>).</para>
/// <para>Errors: no speaker column, or a mistyped one, is a schema error (<see cref="ArgumentOutOfRangeException"/>); a
/// speaker with fewer clips than <see cref="SpeakerNormalizationOptions.MinClipsPerSpeaker"/>, an empty speaker or a
/// non-finite feature is an <see cref="InvalidInputException"/>. A speaker with no real frame at all (no face in any clip)
/// keeps its face features as they are.</para>
/// <para>This changes the evaluation protocol: results with it are speaker-adapted, not speaker-independent, and are
/// reported apart (docs/results.md, "Speaker adaptation").</para>
/// </remarks>
public sealed class SpeakerNormalizationTransformer : EmotionTransformerBase<SpeakerNormalizationOptions>
{
    internal const string LoaderSignature = "EmotionMLSpeakerNorm";
    private const string Stage = "speaker normalization";
    internal const string SpeakerRole = "speaker", FaceRole = "face features", FaceMaskRole = "frame mask", AudioRole = "audio features", AudioMaskRole = "audio mask";
    private readonly SpeakerFeatureShape _shape;
    private readonly Dictionary<string, SpeakerStatistics> _statistics;

    internal SpeakerNormalizationTransformer(IHostEnvironment env, SpeakerNormalizationOptions options, SpeakerFeatureShape shape, IEnumerable<SpeakerStatistics> statistics)
        : base(env, nameof(SpeakerNormalizationTransformer), options)
    {
        shape.Validate();
        _shape = shape;
        _statistics = new Dictionary<string, SpeakerStatistics>(StringComparer.Ordinal);
        foreach (var s in statistics)
        {
            s.Validate(shape);
            _statistics[s.Speaker] = s;
        }
    }

    /// <summary>The speakers this stage holds statistics for (from <c>Fit</c> and <see cref="WithSpeakerStatistics"/>), in ordinal order.</summary>
    public IReadOnlyList<string> Speakers => _statistics.Keys.Order(StringComparer.Ordinal).ToArray();

    internal SpeakerFeatureShape Shape => _shape;

    internal IReadOnlyDictionary<string, SpeakerStatistics> Statistics => _statistics;

    /// <summary>
    /// A copy of this stage that also holds the statistics of every speaker in <paramref name="clips"/>, computed from
    /// those clips (unlabelled; replacing held statistics of the same speaker). <paramref name="clips"/> needs the
    /// stage's speaker, feature and mask columns, e.g. a person's calibration clips run through the chain before this stage.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A needed column is missing or mistyped.</exception>
    /// <exception cref="InvalidInputException">A speaker has too few clips, or a feature is not finite.</exception>
    public SpeakerNormalizationTransformer WithSpeakerStatistics(IDataView clips)
    {
        ArgumentNullException.ThrowIfNull(clips);
        var columns = FindColumns(clips.Schema, Settings, _shape);
        var added = SpeakerStatisticsReader.Compute(clips, columns, _shape, Settings, null);
        return new SpeakerNormalizationTransformer(Env, Settings, _shape, _statistics.Values.Where(s => !added.ContainsKey(s.Speaker)).Concat(added.Values));
    }

    // Versions: 0x00010002 first format of this stage (the shared enum-by-name JSON).
    private static VersionInfo GetVersionInfo()
        => ModelFormat.Version("EMLSPKNM", ModelFormat.V2, ModelFormat.V2, ModelFormat.V2, LoaderSignature, typeof(SpeakerNormalizationTransformer));

    private static SpeakerNormalizationTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        var options = ModelFormat.LoadOptions<SpeakerNormalizationOptions>(ctx, GetVersionInfo(), Stage, o => o.Validate());
        var shape = ModelFormat.Validated(ModelFormat.ReadOptions<SpeakerFeatureShape>(ctx, Stage), Stage, s => s.Validate());
        var statistics = ModelFormat.Validated(ModelFormat.ReadOptions<SpeakerStatistics[]>(ctx, Stage), Stage, all =>
        {
            foreach (var s in all) s.Validate(shape);
            if (all.Select(s => s.Speaker).Distinct(StringComparer.Ordinal).Count() != all.Length) throw new ArgumentException("A speaker is stored twice.");
        });
        return new SpeakerNormalizationTransformer(env, options, shape, statistics);
    }

    // *** Binary format ***
    // string: SpeakerNormalizationOptions as JSON (column names, MinClipsPerSpeaker, MinStd)
    // string: SpeakerFeatureShape as JSON (FaceFrames, FaceDim, AudioPositions, AudioDim)
    // string: the held statistics as a JSON array (per speaker: name, clip/frame/position counts, mean and std per dimension)
    private protected override void Save(ModelSaveContext ctx)
    {
        ctx.SetVersionInfo(GetVersionInfo());
        ModelFormat.WriteOptions(ctx, Settings);
        ModelFormat.WriteOptions(ctx, _shape);
        ModelFormat.WriteOptions(ctx, _statistics.Values.OrderBy(s => s.Speaker, StringComparer.Ordinal).ToArray());
    }

    private protected override BoundMapper Bind(DataViewSchema inputSchema) => new Mapper(this, inputSchema, _statistics);

    private protected override BoundMapper BindData(IDataView input)
    {
        var columns = FindColumns(input.Schema, Settings, _shape);
        var speakers = SpeakerStatisticsReader.Speakers(input, columns.Speaker);
        if (speakers.Keys.All(_statistics.ContainsKey)) return new Mapper(this, input.Schema, _statistics);
        var computed = SpeakerStatisticsReader.Compute(input, columns, _shape, Settings, s => !_statistics.ContainsKey(s));
        foreach (var (speaker, s) in _statistics) computed[speaker] = s;
        return new Mapper(this, input.Schema, computed);
    }

    /// <summary>The stage's input columns in <paramref name="schema"/>, with the sizes of <paramref name="shape"/>; throws the shared schema error.</summary>
    internal static SpeakerColumns FindColumns(DataViewSchema schema, SpeakerNormalizationOptions o, SpeakerFeatureShape shape)
    {
        int Find(string name, string role, int size, string expected)
        {
            var col = schema.GetColumnOrNull(name) ?? throw SchemaError.Mismatch(name, role, expected, SchemaError.Missing);
            var ok = size == 0
                ? col.Type is TextDataViewType
                : col.Type is VectorDataViewType { ItemType: var it, Size: var n } && it == NumberDataViewType.Single && n == size;
            if (!ok) throw SchemaError.Mismatch(name, role, expected, SchemaError.Describe(col.Type));
            return col.Index;
        }
        var speaker = Find(o.SpeakerColumnName, SpeakerRole, 0, "a scalar of String");
        int face = -1, faceMask = -1, audio = -1, audioMask = -1;
        if (o.FaceFeaturesColumnName != null)
        {
            face = Find(o.FaceFeaturesColumnName, FaceRole, shape.FaceFrames * shape.FaceDim, $"a vector of Single [{shape.FaceFrames * shape.FaceDim}] ({shape.FaceFrames}×{shape.FaceDim})");
            faceMask = Find(o.FaceMaskColumnName, FaceMaskRole, shape.FaceFrames, $"a vector of Single [{shape.FaceFrames}]");
        }
        if (o.AudioFeaturesColumnName != null)
        {
            audio = Find(o.AudioFeaturesColumnName, AudioRole, shape.AudioPositions * shape.AudioDim, $"a vector of Single [{shape.AudioPositions * shape.AudioDim}] ({shape.AudioPositions}×{shape.AudioDim})");
            audioMask = Find(o.AudioMaskColumnName, AudioMaskRole, shape.AudioPositions, $"a vector of Single [{shape.AudioPositions}]");
        }
        return new SpeakerColumns(speaker, face, faceMask, audio, audioMask);
    }

    /// <summary><c>(x − μ) / σ</c> over the real items of one [n, d] feature set; a dimension with σ below <paramref name="minStd"/> becomes 0.</summary>
    internal static void Normalize(Span<float> values, ReadOnlySpan<float> mask, int n, int d, float[] mean, float[] std, float minStd)
    {
        for (var t = 0; t < n; t++)
        {
            if (mask[t] == 0) continue;
            var item = values.Slice(t * d, d);
            for (var j = 0; j < d; j++)
                item[j] = std[j] >= minStd ? (item[j] - mean[j]) / std[j] : 0;
        }
    }

    private sealed class Mapper : BoundMapper
    {
        private readonly SpeakerNormalizationTransformer _parent;
        private readonly SpeakerColumns _columns;
        private readonly IReadOnlyDictionary<string, SpeakerStatistics> _statistics;

        public Mapper(SpeakerNormalizationTransformer parent, DataViewSchema schema, IReadOnlyDictionary<string, SpeakerStatistics> statistics) : base(schema)
        {
            _parent = parent;
            _statistics = statistics;
            var o = parent.Settings;
            _columns = FindColumns(schema, o, parent._shape);
            var outputs = new List<OutputColumn>();
            if (o.FaceOutput != null) outputs.Add(new(o.FaceOutput, schema[_columns.Face].Type));
            if (o.AudioOutput != null) outputs.Add(new(o.AudioOutput, schema[_columns.Audio].Type));
            Outputs = outputs;
        }

        public override IReadOnlyList<OutputColumn> Outputs { get; }

        public override IReadOnlyList<int> Dependencies
            => new[] { _columns.Speaker, _columns.Face, _columns.FaceMask, _columns.Audio, _columns.AudioMask }.Where(i => i >= 0).ToArray();

        public override RowState CreateState(DataViewRow input) => new State(this, input);

        private sealed class State : RowState
        {
            private readonly Mapper _m;
            private readonly ValueGetter<ReadOnlyMemory<char>> _speaker;
            private readonly ValueGetter<VBuffer<float>>? _face, _faceMask, _audio, _audioMask;
            private VBuffer<float> _b1, _b2, _b3, _b4;
            private ReadOnlyMemory<char> _name;
            private float[] _faceOut = [], _audioOut = [];

            public State(Mapper m, DataViewRow input) : base(input)
            {
                _m = m;
                var c = m._columns;
                _speaker = InputGetter<ReadOnlyMemory<char>>(input, c.Speaker);
                if (c.Face >= 0) { _face = InputGetter<VBuffer<float>>(input, c.Face); _faceMask = InputGetter<VBuffer<float>>(input, c.FaceMask); }
                if (c.Audio >= 0) { _audio = InputGetter<VBuffer<float>>(input, c.Audio); _audioMask = InputGetter<VBuffer<float>>(input, c.AudioMask); }
            }

            protected override void Compute()
            {
                var parent = _m._parent;
                var o = parent.Settings;
                var shape = parent._shape;
                _speaker(ref _name);
                var speaker = _name.ToString();
                if (!_m._statistics.TryGetValue(speaker, out var s))
                    throw new InvalidInputException(string.IsNullOrWhiteSpace(speaker)
                        ? $"Row {Input.Position} has no speaker (column '{o.SpeakerColumnName}' is empty): speaker normalisation needs the speaker of every clip."
                        : $"Speaker '{speaker}' has no statistics in the speaker normalisation stage: transform a batch that holds the speaker's clips, or add them first (WithSpeakerStatistics, EmotionPredictionEngine.Calibrate).");
                if (_face != null)
                {
                    _faceOut = Getters.ReadVector(_face, ref _b1);
                    OnnxGraph.CheckFinite(_faceOut, o.FaceFeaturesColumnName!);
                    var mask = Getters.ReadVector(_faceMask!, ref _b2);
                    if (s.FaceFrames > 0) Normalize(_faceOut, mask, shape.FaceFrames, shape.FaceDim, s.FaceMean, s.FaceStd, o.MinStd);
                }
                if (_audio != null)
                {
                    _audioOut = Getters.ReadVector(_audio, ref _b3);
                    OnnxGraph.CheckFinite(_audioOut, o.AudioFeaturesColumnName!);
                    var mask = Getters.ReadVector(_audioMask!, ref _b4);
                    if (s.AudioPositions > 0) Normalize(_audioOut, mask, shape.AudioPositions, shape.AudioDim, s.AudioMean, s.AudioStd, o.MinStd);
                }
            }

            public override Delegate GetGetter(int outputIndex)
            {
                var o = _m._parent.Settings;
                return _m.Outputs[outputIndex].Name == o.FaceOutput && _face != null
                    ? Vector(() => (ReadOnlyMemory<float>)_faceOut)
                    : Vector(() => (ReadOnlyMemory<float>)_audioOut);
            }
        }
    }
}
