using EmotionML.Fusion;
using EmotionML.Tests.Fusion;
using EmotionML.Training;
using EmotionML.Training.Fusion;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;
using static TorchSharp.torch;

namespace EmotionML.Tests.Training;

/// <summary>The fusion head trainer as an ML.NET estimator, on small generated feature sets (fast unit tests).</summary>
public sealed class FusionHeadTrainerTests : TorchTestBase
{
    private const int Frames = 4, FaceDim = 6, Positions = 3, AudioDim = 5;
    private readonly MLContext _ml = new(seed: 1);

    private sealed class Row
    {
        public string Label { get; set; } = "";
        public string Speaker { get; set; } = "";
        [VectorType(Frames * FaceDim)] public float[] FaceFeatures { get; set; } = [];
        [VectorType(Frames)] public float[] FrameMask { get; set; } = [];
        [VectorType(Positions * AudioDim)] public float[] AudioFeatures { get; set; } = [];
        [VectorType(Positions)] public float[] AudioMask { get; set; } = [];
    }

    /// <summary>Three classes whose face and audio features have class-dependent means; frames beyond a random count are padding (garbage values, mask 0).</summary>
    private static List<Row> MakeRows(int perClass, int seed)
    {
        var rng = new Random(seed);
        string[] labels = ["angry", "happy", "sad"];
        var rows = new List<Row>();
        for (var c = 0; c < 3; c++)
            for (var i = 0; i < perClass; i++)
            {
                var real = rng.Next(1, Frames + 1);
                rows.Add(new Row
                {
                    Label = labels[c],
                    Speaker = $"s{i % 4}",
                    FaceFeatures = Enumerable.Range(0, Frames * FaceDim).Select(j => j / FaceDim < real ? (j % FaceDim == c ? 2f : 0f) + (float)(rng.NextDouble() - 0.5) : 1000f).ToArray(),
                    FrameMask = Enumerable.Range(0, Frames).Select(f => f < real ? 1f : 0f).ToArray(),
                    AudioFeatures = Enumerable.Range(0, Positions * AudioDim).Select(j => (j % AudioDim == c + 1 ? 1f : 0f) + (float)(rng.NextDouble() - 0.5)).ToArray(),
                    AudioMask = Enumerable.Repeat(1f, Positions).ToArray(),
                });
            }
        return rows;
    }

    private static FusionHeadTrainerOptions Options(int epochs = 40, AttentionKind face = AttentionKind.Transformer, AttentionKind audio = AttentionKind.Self, FusionKind fusion = FusionKind.Fbp) => new()
    {
        Head = new FusionHeadOptions { FaceAttention = face, AudioAttention = audio, Fusion = fusion, FbpOutputDim = 16, FbpFactor = 2, TransformerDim = 8 },
        Training = new TrainerOptions { MaxEpochs = epochs, BatchSize = 8, LearningRate = 3e-3, GroupColumnName = "Speaker", ValidationFraction = 0.25, EarlyStoppingPatience = 15, Seed = 7 },
    };

    private IEstimator<ITransformer> Pipeline(FusionHeadTrainerOptions o)
        => _ml.Transforms.Conversion.MapValueToKey("Label").Append(_ml.Transforms.EmotionFusionHead(o));

    [Fact]
    public void LearnsASeparableProblemAndEvaluatesWithMlNet()
    {
        var train = _ml.Data.LoadFromEnumerable(MakeRows(24, 1));
        var test = _ml.Data.LoadFromEnumerable(MakeRows(10, 2));
        var model = Pipeline(Options()).Fit(train);
        var scored = model.Transform(test);
        var metrics = _ml.MulticlassClassification.Evaluate(scored);
        Assert.True(metrics.MacroAccuracy > 0.9, $"macro accuracy {metrics.MacroAccuracy}");
        Assert.Equal(3, metrics.ConfusionMatrix.NumberOfClasses);

        VBuffer<ReadOnlyMemory<char>> slots = default;
        scored.Schema["Score"].GetSlotNames(ref slots);
        Assert.Equal(["angry", "happy", "sad"], slots.DenseValues().Select(s => s.ToString()));
        var attention = scored.GetColumn<float[]>("FaceAttention").ToList();
        var masks = test.GetColumn<float[]>("FrameMask").ToList();
        for (var i = 0; i < attention.Count; i++)
        {
            Assert.Equal(1, attention[i].Sum(), 4);
            for (var f = 0; f < Frames; f++) if (masks[i][f] == 0) Assert.Equal(0, attention[i][f]);
        }
    }

    [Fact]
    public void OnnxHeadAgreesWithTheTorchSharpModule()
    {
        var rows = MakeRows(12, 3);
        var o = Options(epochs: 5, face: AttentionKind.Relation, audio: AttentionKind.Transformer);
        FusionHeadTrainingResult? trained = null;
        o.Trained = r => trained = r;
        var trainer = _ml.Transforms.EmotionFusionHead(o);
        var data = _ml.Transforms.Conversion.MapValueToKey("Label").Fit(_ml.Data.LoadFromEnumerable(rows)).Transform(_ml.Data.LoadFromEnumerable(rows));
        var head = trainer.Fit(data);
        var onnxScores = head.Transform(data).GetColumn<float[]>("Score").ToArray();
        using var module = trained!.Module;
        module.eval();
        using var _ = no_grad();
        var torchScores = module.Predict(
            tensor(rows.SelectMany(r => r.FaceFeatures).ToArray(), [rows.Count, Frames, FaceDim]), tensor(rows.SelectMany(r => r.FrameMask).ToArray(), [rows.Count, Frames]),
            tensor(rows.SelectMany(r => r.AudioFeatures).ToArray(), [rows.Count, Positions, AudioDim]), tensor(rows.SelectMany(r => r.AudioMask).ToArray(), [rows.Count, Positions]));
        var expected = F(torchScores);
        var max = onnxScores.SelectMany(s => s).Zip(expected).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(max < 1e-4, $"max |onnx - torch| = {max}");
    }

    [Fact]
    public void TrainingIsSeededAndReproducible()
    {
        var data = _ml.Data.LoadFromEnumerable(MakeRows(8, 4));
        var a = ((TransformerChain<FusionHeadTransformer>)Pipeline(Options(epochs: 4)).Fit(data)).LastTransformer;
        var b = ((TransformerChain<FusionHeadTransformer>)Pipeline(Options(epochs: 4)).Fit(data)).LastTransformer;
        Assert.Equal(a.OnnxBytes, b.OnnxBytes);
    }

    [Fact]
    public void ReportsProgressStopsEarlyAndResumesFromACheckpoint()
    {
        var data = _ml.Transforms.Conversion.MapValueToKey("Label").Fit(_ml.Data.LoadFromEnumerable(MakeRows(8, 5))).Transform(_ml.Data.LoadFromEnumerable(MakeRows(8, 5)));
        var seen = new List<TrainingProgress>();
        var o = Options(epochs: 3);
        o.Training.Progress = new SyncProgress(seen.Add);
        o.Training.CheckpointPath = Path.Combine(TestData.TempDir("ckpt"), "head.pt");
        var trainer = _ml.Transforms.EmotionFusionHead(o);
        trainer.Fit(data);
        Assert.Equal([1, 2, 3], seen.Select(p => p.Epoch));
        Assert.True(File.Exists(o.Training.CheckpointPath));
        // Resume: a longer run continues at epoch 4.
        seen.Clear();
        o.Training.MaxEpochs = 5;
        _ml.Transforms.EmotionFusionHead(o).Fit(data);
        Assert.Equal([4, 5], seen.Select(p => p.Epoch));

        // Early stopping: with patience 1 and a flat learning rate of ~0 the validation loss cannot improve for long.
        var stop = Options(epochs: 50);
        stop.Training.LearningRate = 1e-9;
        stop.Training.EarlyStoppingPatience = 1;
        var reports = new List<TrainingReport>();
        stop.Trained = r => { reports.Add(r.Report); r.Module.Dispose(); };
        var st = _ml.Transforms.EmotionFusionHead(stop);
        st.Fit(data);
        Assert.True(Assert.Single(reports).Epochs.Count < 50);
        // The trainer keeps no state of its own: a second fit reports again, through the same callback.
        st.Fit(data);
        Assert.Equal(2, reports.Count);
    }

    [Fact]
    public void SizesTakenFromTheDataAreNotSettableAndComeFromTheColumns()
    {
        foreach (var (type, name) in new[]
        {
            (typeof(FusionHeadOptions), nameof(FusionHeadOptions.FaceDim)), (typeof(FusionHeadOptions), nameof(FusionHeadOptions.AudioDim)),
            (typeof(FusionHeadOptions), nameof(FusionHeadOptions.Classes)), (typeof(EmotionML.Training.AudioCnn.AudioCnnOptions), nameof(EmotionML.Training.AudioCnn.AudioCnnOptions.Classes)),
        })
            Assert.False(type.GetProperty(name)!.SetMethod!.IsPublic, $"{type.Name}.{name} has a public setter");
        var o = Options(epochs: 1);
        FusionHeadTrainingResult? trained = null;
        o.Trained = r => trained = r;
        var data = _ml.Data.LoadFromEnumerable(MakeRows(8, 9));
        var head = ((TransformerChain<FusionHeadTransformer>)Pipeline(o).Fit(data)).LastTransformer;
        using var module = trained!.Module;
        Assert.Equal((FaceDim, AudioDim, head.Signature.Classes.Length), (module.Options.FaceDim, module.Options.AudioDim, module.Options.Classes));
        Assert.Equal((FaceDim, AudioDim), (head.Signature.FaceDim, head.Signature.AudioDim));
    }

    [Fact]
    public void CancellationStopsTraining()
    {
        var data = _ml.Transforms.Conversion.MapValueToKey("Label").Fit(_ml.Data.LoadFromEnumerable(MakeRows(8, 6))).Transform(_ml.Data.LoadFromEnumerable(MakeRows(8, 6)));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var o = Options();
        o.Training.Cancellation = cts.Token;
        Assert.ThrowsAny<OperationCanceledException>(() => _ml.Transforms.EmotionFusionHead(o).Fit(data));
    }

    [Fact]
    public void RejectsATextLabelAndNaNFeaturesWithClearErrors()
    {
        var rows = MakeRows(4, 7);
        var raw = _ml.Data.LoadFromEnumerable(rows);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => _ml.Transforms.EmotionFusionHead(Options()).Fit(raw));
        Assert.Contains("MapValueToKey", e.Message);
        rows[2].FaceFeatures[3] = float.NaN;
        var bad = _ml.Data.LoadFromEnumerable(rows);
        var nan = Assert.Throws<InvalidInputException>(() => Pipeline(Options()).Fit(bad));
        Assert.Contains("FaceFeatures", nan.Message);
    }

    [Fact]
    public void SavedHeadLoadsWithIdenticalScores()
    {
        var data = _ml.Data.LoadFromEnumerable(MakeRows(8, 8));
        var model = Pipeline(Options(epochs: 3, fusion: FusionKind.Concat)).Fit(data);
        var zip = Path.Combine(TestData.TempDir("head"), "head.zip");
        _ml.Model.Save(model, data.Schema, zip);
        var loaded = _ml.Model.Load(zip, out _);
        var a = model.Transform(data).GetColumn<float[]>("Score").SelectMany(x => x).ToArray();
        var b = loaded.Transform(data).GetColumn<float[]>("Score").SelectMany(x => x).ToArray();
        Assert.Equal(a, b);
    }

    private sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
