using EmotionML.Fusion;
using EmotionML.Training;
using EmotionML.Training.Fusion;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Xunit;

namespace EmotionML.Tests.Training;

/// <summary>
/// Resuming from a checkpoint is exact: N epochs in one go and k epochs, a stop, and a resumed run of the rest give
/// byte-identical ONNX heads (weights, best weights, best loss/epoch, optimiser moments, patience and the dropout
/// generator all come back).
/// </summary>
public sealed class CheckpointResumeTests : Fusion.TorchTestBase
{
    private sealed class Row
    {
        [VectorType(3 * 4)] public float[] FaceFeatures { get; set; } = [];
        [VectorType(3)] public float[] FrameMask { get; set; } = [];
        [VectorType(2 * 3)] public float[] AudioFeatures { get; set; } = [];
        [VectorType(2)] public float[] AudioMask { get; set; } = [];
        public string Label { get; set; } = "";
        public string Speaker { get; set; } = "";
    }

    private static IDataView Data(MLContext ml)
    {
        var r = new Random(11);
        float[] V(int n, int label) => Enumerable.Range(0, n).Select(i => (float)(r.NextDouble() - 0.5 + (i % 3 == label ? 0.6 : 0))).ToArray();
        var rows = Enumerable.Range(0, 36).Select(i => new Row
        {
            FaceFeatures = V(12, i % 3), FrameMask = [1, 1, i % 2],
            AudioFeatures = V(6, i % 3), AudioMask = [1, i % 3 == 0 ? 0 : 1],
            Label = $"c{i % 3}", Speaker = $"s{i % 6}",
        }).ToList();
        var data = ml.Data.LoadFromEnumerable(rows);
        return ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(data).Transform(data);
    }

    private static byte[] Train(string? checkpoint, int stopAfter = 0, List<TrainingProgress>? epochs = null, List<BatchProgress>? batches = null)
    {
        var ml = new MLContext(1);
        using var cancel = new CancellationTokenSource();
        var training = new TrainerOptions
        {
            MaxEpochs = 6, BatchSize = 5, LearningRate = 3e-3, ValidationFraction = 0.34, GroupColumnName = "Speaker",
            EarlyStoppingPatience = 10, Schedule = LearningRateSchedule.Cosine, Seed = 4, CheckpointPath = checkpoint,
            Cancellation = cancel.Token,
            Progress = new SyncProgress(p => { epochs?.Add(p); if (p.Epoch == stopAfter) cancel.Cancel(); }),
            BatchProgress = batches == null ? null : new SyncBatchProgress(batches.Add),
        };
        var trainer = ml.Transforms.EmotionFusionHead(new FusionHeadTrainerOptions
        {
            Head = new FusionHeadOptions { TransformerDim = 4, FbpOutputDim = 6, FbpFactor = 2, ClassifierDropout = 0.3, AttentionDropout = 0.2 },
            Training = training,
        });
        return ((FusionHeadTransformer)trainer.Fit(Data(ml))).OnnxBytes;
    }

    private sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    private sealed class SyncBatchProgress(Action<BatchProgress> report) : IProgress<BatchProgress>
    {
        public void Report(BatchProgress value) => report(value);
    }

    /// <summary>
    /// Progress inside epochs: one report per mini-batch, numbered 1..B with B = ⌈training rows / batch size⌉, and the
    /// running loss of the last batch equal to the epoch's training loss. 36 rows of 6 speakers, 2 held out (12 rows):
    /// 24 training rows in batches of 5 → 5 batches per epoch.
    /// </summary>
    [Fact]
    public void BatchProgressCountsTheMiniBatchesAndEndsAtTheEpochsLoss()
    {
        var epochs = new List<TrainingProgress>();
        var batches = new List<BatchProgress>();
        Train(null, epochs: epochs, batches: batches);
        Assert.Equal(6, epochs.Count);
        Assert.Equal(6 * 5, batches.Count);
        for (var e = 1; e <= 6; e++)
        {
            var of = batches.Where(b => b.Epoch == e).ToList();
            Assert.Equal([1, 2, 3, 4, 5], of.Select(b => b.Batch).ToArray());
            Assert.All(of, b => Assert.Equal(5, b.Batches));
            Assert.Equal(epochs[e - 1].TrainLoss, of[^1].TrainLoss, 9);
            Assert.True(of.Zip(of.Skip(1), (a, b) => a.Seconds <= b.Seconds).All(x => x), "seconds grow within an epoch");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void StoppedAndResumedTrainingEqualsAnUninterruptedOne(int k)
    {
        var straight = Train(null);
        var checkpoint = Path.Combine(TestData.TempDir("resume"), "head.ckpt");
        Assert.ThrowsAny<OperationCanceledException>(() => Train(checkpoint, stopAfter: k));
        Assert.True(File.Exists(checkpoint + ".json"));
        var resumed = Train(checkpoint);
        Assert.Equal(straight, resumed);
        // A finished run's checkpoint resumes to the same result without training further.
        Assert.Equal(straight, Train(checkpoint));
    }
}
