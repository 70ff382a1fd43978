using EmotionML.SpeakerAdaptation;
using EmotionML.VideoInput;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EmotionML;

/// <summary>What a model says about one clip.</summary>
public sealed class EmotionPrediction
{
    internal EmotionPrediction(string emotion, IReadOnlyDictionary<string, float> probabilities, float[] faceAttention, float[] audioAttention, bool[] faceFound)
    {
        Emotion = emotion;
        Probabilities = probabilities;
        FaceAttention = faceAttention;
        AudioAttention = audioAttention;
        FaceFound = faceFound;
    }

    /// <summary>The most probable emotion's class name (as saved in the model zip).</summary>
    public string Emotion { get; }

    /// <summary>The probability of every class, by class name, in the model's class order.</summary>
    public IReadOnlyDictionary<string, float> Probabilities { get; }

    /// <summary>The attention weight of each frame slot (sums to 1 over real frames); empty when the model uses no face.</summary>
    public IReadOnlyList<float> FaceAttention { get; }

    /// <summary>The attention weight of each audio position; empty when the model uses no audio.</summary>
    public IReadOnlyList<float> AudioAttention { get; }

    /// <summary>Per frame slot, whether a face was detected; empty when the model aligns no faces.</summary>
    public IReadOnlyList<bool> FaceFound { get; }

    /// <summary>Whether a face was found in at least one frame.</summary>
    public bool AnyFaceFound => FaceFound.Any(f => f);
}

/// <summary>
/// Predicts the emotion of one clip at a time with a loaded model (a typed layer over ML.NET's
/// <see cref="PredictionEngine{TSrc, TDst}"/>). Like it, an engine is not thread-safe: make one per thread; engines
/// over the same loaded model share its ONNX sessions. The class names come from the model zip itself (the head's
/// saved slot names), so they never depend on the data a consumer scores.
/// </summary>
/// <example>
/// <code>
/// var mlContext = new MLContext();
/// var model = EmotionModel.Load(mlContext, "model.zip");
/// using var engine = EmotionModel.CreatePredictionEngine(mlContext, model);
/// var p = engine.Predict("clip.mp4");
/// Console.WriteLine($"{p.Emotion} {p.Probabilities[p.Emotion]:P0}, face found: {p.AnyFaceFound}");
/// </code>
/// A model with speaker normalisation (<c>NormalizeBySpeaker</c>) predicts for one person at a time, with that person's
/// statistics from a few of their unlabelled clips:
/// <code>
/// using var engine = EmotionModel.CreatePredictionEngine(mlContext, model, calibrationClips: ["anna-1.mp4", "anna-2.mp4", "anna-3.mp4"]);
/// var p = engine.Predict("anna-4.mp4");
/// engine.Calibrate(["ben-1.mp4", "ben-2.mp4", "ben-3.mp4"]);   // now for another person
/// </code>
/// </example>
public sealed class EmotionPredictionEngine : IDisposable
{
    private readonly MLContext _mlContext;
    private readonly ITransformer _model;
    private readonly SchemaDefinition _inputDefinition;
    private PredictionEngine<ClipInput, RawPrediction> _engine;
    private readonly string[] _classes;
    private readonly ClipInput _input = new();
    private readonly bool _needsCalibration;
    private bool _calibrated;

    /// <summary>The speaker name the engine gives a calibrated person's clips.</summary>
    internal const string CalibrationSpeaker = "calibration";

    internal EmotionPredictionEngine(MLContext mlContext, ITransformer model)
    {
        var pathColumn = FirstStage(model)?.Options.InputColumnName
            ?? throw new ArgumentException("The model does not start with EmotionML's video input stage (LoadVideo), so it cannot predict from a clip path.", nameof(model));
        var inputDefinition = SchemaDefinition.Create(typeof(ClipInput));
        inputDefinition[0].ColumnName = pathColumn;
        var speakerStage = SpeakerStage(model);
        _needsCalibration = speakerStage != null;
        if (speakerStage != null) inputDefinition[1].ColumnName = speakerStage.Options.SpeakerColumnName;
        _mlContext = mlContext;
        _model = model;
        _inputDefinition = inputDefinition;
        var outputSchema = model.GetOutputSchema(mlContext.Data.LoadFromEnumerable(Array.Empty<ClipInput>(), inputDefinition).Schema);
        var score = outputSchema.GetColumnOrNull(ScoreColumn)
            ?? throw new ArgumentException($"The model has no '{ScoreColumn}' column: it does not end in an emotion head.", nameof(model));
        if (score.Type is not VectorDataViewType { IsKnownSize: true, ItemType: var item } v || item != NumberDataViewType.Single)
            throw new ArgumentException($"The model's '{ScoreColumn}' column is {score.Type}, not a known-size vector of Single.", nameof(model));
        if (!score.HasSlotNames(v.Size))
            throw new ArgumentException($"The model's '{ScoreColumn}' column has no class names (slot names).", nameof(model));
        VBuffer<ReadOnlyMemory<char>> names = default;
        score.GetSlotNames(ref names);
        _classes = names.DenseValues().Select(n => n.ToString()).ToArray();
        // ML.NET's engine disposes a disposable model with itself; the model is the caller's and outlives this engine.
        _engine = mlContext.Model.CreatePredictionEngine<ClipInput, RawPrediction>(new Borrowed(model), ignoreMissingColumns: true, inputSchemaDefinition: inputDefinition);
    }

    private const string ScoreColumn = "Score";

    /// <summary>The class names, in score order (from the model zip).</summary>
    public IReadOnlyList<string> Classes => _classes;

    /// <summary>Whether the model normalises by speaker, so that <see cref="Calibrate"/> must be called before <see cref="Predict"/>.</summary>
    public bool NeedsCalibration => _needsCalibration;

    /// <summary>
    /// Makes the engine predict for one person: the model's speaker normalisation stage gets that person's statistics,
    /// computed from <paramref name="calibrationClips"/> (their unlabelled clips; no labels are read), replacing those of
    /// an earlier call. A prediction is then the one the batch path gives (<c>model.Transform</c> of data in which the
    /// person's clips are exactly these). The more clips, the better the statistics; the stage's
    /// <see cref="SpeakerNormalizationOptions.MinClipsPerSpeaker"/> is the least.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model has no speaker normalisation stage.</exception>
    /// <exception cref="InvalidInputException">Fewer clips than the stage's <see cref="SpeakerNormalizationOptions.MinClipsPerSpeaker"/>.</exception>
    /// <exception cref="MediaFileException">A clip cannot be decoded.</exception>
    public void Calibrate(IEnumerable<string> calibrationClips)
    {
        ArgumentNullException.ThrowIfNull(calibrationClips);
        if (!_needsCalibration)
            throw new InvalidOperationException("The model has no speaker normalisation stage (NormalizeBySpeaker): there is nothing to calibrate.");
        var clips = calibrationClips.Select(p => new ClipInput { VideoPath = p ?? throw new ArgumentException("A calibration clip path is null.", nameof(calibrationClips)), Speaker = CalibrationSpeaker }).ToList();
        var data = _mlContext.Data.LoadFromEnumerable(clips, _inputDefinition);
        var calibrated = WithCalibration(_model, data);
        var engine = _mlContext.Model.CreatePredictionEngine<ClipInput, RawPrediction>(new Borrowed(calibrated), ignoreMissingColumns: true, inputSchemaDefinition: _inputDefinition);
        _engine.Dispose();
        _engine = engine;
        _input.Speaker = CalibrationSpeaker;
        _calibrated = true;
    }

    /// <summary>Decodes <paramref name="clipPath"/>, runs the whole chain and returns the prediction.</summary>
    /// <exception cref="MediaFileException">The clip cannot be decoded.</exception>
    /// <exception cref="InvalidOperationException">The model normalises by speaker and <see cref="Calibrate"/> was not called.</exception>
    public EmotionPrediction Predict(string clipPath)
    {
        ArgumentNullException.ThrowIfNull(clipPath);
        if (_needsCalibration && !_calibrated)
            throw new InvalidOperationException("The model normalises by speaker: call Calibrate with a few unlabelled clips of the person first (or EmotionModel.CreatePredictionEngine with calibrationClips).");
        _input.VideoPath = clipPath;
        var raw = new RawPrediction();
        _engine.Predict(_input, ref raw);
        var scores = raw.Score;
        var best = 0;
        for (var i = 1; i < scores.Length; i++) if (scores[i] > scores[best]) best = i;
        var probabilities = new OrderedProbabilities(_classes, scores);
        return new EmotionPrediction(_classes[best], probabilities, raw.FaceAttention ?? [], raw.AudioAttention ?? [], raw.FaceFound ?? []);
    }

    /// <summary>Releases the engine's cursors (the model stays loaded).</summary>
    public void Dispose() => _engine.Dispose();

    private static SpeakerNormalizationTransformer? SpeakerStage(ITransformer model) => model switch
    {
        SpeakerNormalizationTransformer s => s,
        TransformerChain<ITransformer> chain => chain.Select(SpeakerStage).FirstOrDefault(s => s != null),
        _ => null,
    };

    /// <summary>The model with its (first) speaker normalisation stage holding the statistics of the speakers of <paramref name="data"/> (the model's input rows).</summary>
    private static ITransformer WithCalibration(ITransformer model, IDataView data)
    {
        switch (model)
        {
            case SpeakerNormalizationTransformer s:
                return s.WithSpeakerStatistics(data);
            case TransformerChain<ITransformer> chain:
                var stages = chain.ToArray();
                for (var i = 0; i < stages.Length; i++)
                {
                    if (SpeakerStage(stages[i]) != null)
                    {
                        stages[i] = WithCalibration(stages[i], data);
                        return new TransformerChain<ITransformer>(stages);
                    }
                    data = stages[i].Transform(data);
                }
                return chain;
            default:
                return model;
        }
    }

    private static VideoInputTransformer? FirstStage(ITransformer model) => model switch
    {
        VideoInputTransformer v => v,
        TransformerChain<ITransformer> chain => chain.Select(FirstStage).FirstOrDefault(),
        _ => null,
    };

    /// <summary>The model seen without its <see cref="IDisposable"/>.</summary>
    private sealed class Borrowed(ITransformer inner) : ITransformer
    {
        public bool IsRowToRowMapper => inner.IsRowToRowMapper;
        public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => inner.GetOutputSchema(inputSchema);
        public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => inner.GetRowToRowMapper(inputSchema);
        public IDataView Transform(IDataView input) => inner.Transform(input);
        void ICanSaveModel.Save(ModelSaveContext ctx) => throw new NotSupportedException("Save the loaded model, not the engine's view of it.");
    }

    internal sealed class ClipInput
    {
        public string VideoPath { get; set; } = "";
        public string Speaker { get; set; } = "";
    }

    internal sealed class RawPrediction
    {
        public float[] Score { get; set; } = [];
        public float[]? FaceAttention { get; set; }
        public float[]? AudioAttention { get; set; }
        public bool[]? FaceFound { get; set; }
    }

    /// <summary>Probabilities by class name, enumerated in the model's class order.</summary>
    private sealed class OrderedProbabilities(string[] classes, float[] scores) : IReadOnlyDictionary<string, float>
    {
        public float this[string key] => TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"No class '{key}'; the classes are {string.Join(", ", classes)}.");
        public IEnumerable<string> Keys => classes;
        public IEnumerable<float> Values => scores;
        public int Count => classes.Length;
        public bool ContainsKey(string key) => Array.IndexOf(classes, key) >= 0;

        public bool TryGetValue(string key, out float value)
        {
            var i = Array.IndexOf(classes, key);
            value = i >= 0 ? scores[i] : 0;
            return i >= 0;
        }

        public IEnumerator<KeyValuePair<string, float>> GetEnumerator()
            => classes.Select((c, i) => new KeyValuePair<string, float>(c, scores[i])).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
