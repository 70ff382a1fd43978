using EmotionML.Tests.Fusion;
using EmotionML.Training;
using EmotionML.Training.Fusion;
using EmotionML.Training.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using static TorchSharp.torch;

namespace EmotionML.Tests.Training;

/// <summary>The head's input standardisation (fitted on the training rows, part of the head and its ONNX graph) and its random frame subsets.</summary>
public sealed class FusionHeadStandardizationTests : TorchTestBase
{
    private const int Frames = 4, FaceDim = 3, Positions = 2, AudioDim = 2;

    [Fact]
    public void StandardizerFitsMeanAndStdOfTheRealItemsOfTheGivenRowsOnly()
    {
        using var scope = NewDisposeScope();
        var s = new FeatureStandardizer(2);
        float[][] values = [[1, 10, 3, 30, 999, 999], [5, 50, 7, 70, 0, 0], [100, 100, 100, 100, 100, 100]];
        float[][] masks = [[1, 1, 0], [1, 1, 0], [1, 1, 1]];
        Assert.Equal(4, s.Fit(values, masks, [0, 1]));
        // Dimension 0: 1, 3, 5, 7 → mean 4, population variance 5; dimension 1: 10, 30, 50, 70 → mean 40, variance 500.
        Close([4, 40], F(s.Mean));
        Close([1 / Math.Sqrt(5), 1 / Math.Sqrt(500)], F(s.Scale));
        var y = F(s.forward(tensor(new float[] { 4, 40, 6, 60 }).reshape(1, 2, 2)));
        Close([0, 0, 2 / Math.Sqrt(5), 20 / Math.Sqrt(500)], y);
    }

    [Fact]
    public void ConstantDimensionIsScaledByTheVarianceFloorNotByInfinity()
    {
        using var scope = NewDisposeScope();
        var s = new FeatureStandardizer(2);
        float[][] values = [[2, 0, 2, 10]];
        s.Fit(values, [[1, 1]], [0]);
        // Variances 0 and 25; floor 10⁻³ · 12.5.
        Close([1 / Math.Sqrt(1e-3 * 12.5), 1 / 5.0], F(s.Scale), 1e-4);
    }

    [Theory]
    [InlineData(Modalities.Both)]
    [InlineData(Modalities.AudioOnly)]
    public void StandardizedHeadOnnxMatchesTorch(Modalities modalities)
    {
        using var scope = NewDisposeScope();
        var head = new FusionHead(new FusionHeadOptions { FaceDim = FaceDim, AudioDim = AudioDim, Classes = 3, TransformerDim = 4, FbpOutputDim = 4, FbpFactor = 2, Modalities = modalities });
        head.FaceStandardizer?.Set([100, -50, 3], [0.01f, 0.5f, 2]);
        head.AudioStandardizer!.Set([7, -7], [0.25f, 4]);
        head.eval();
        var face = randn(2, Frames, FaceDim) * 30 + 100;
        var faceMask = tensor(new float[] { 1, 1, 1, 0, 1, 0, 0, 0 }).reshape(2, Frames);
        var audio = randn(2, Positions, AudioDim) + 7;
        var audioMask = ones(2, Positions);
        var useFace = modalities != Modalities.AudioOnly;
        var expected = F(head.Predict(useFace ? face : null, useFace ? faceMask : null, audio, audioMask));
        using var session = new InferenceSession(FusionHeadOnnx.Export(head));
        var inputs = new List<NamedOnnxValue> { Input(FusionHeadOnnx.AudioInput, audio), Input(FusionHeadOnnx.AudioMaskInput, audioMask) };
        if (useFace) inputs.AddRange([Input(FusionHeadOnnx.FaceInput, face), Input(FusionHeadOnnx.FaceMaskInput, faceMask)]);
        using var results = session.Run(inputs);
        var actual = results.First(r => r.Name == FusionHeadOnnx.ScoresOutput).AsTensor<float>().ToArray();
        Close(expected.Select(v => (double)v).ToArray(), actual, 1e-5);
        // The standardisation matters: the identity one gives other scores.
        head.AudioStandardizer.Set([0, 0], [1, 1]);
        Assert.NotEqual(expected, F(head.Predict(useFace ? face : null, useFace ? faceMask : null, audio, audioMask)));
    }

    private static NamedOnnxValue Input(string name, TorchSharp.torch.Tensor t)
        => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(F(t), t.shape.Select(d => (int)d).ToArray()));

    [Fact]
    public void FrameSubsetKeepsThatManyRealFramesAndNeverPadding()
    {
        using var scope = NewDisposeScope();
        var mask = tensor(new float[] { 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0 }).reshape(3, 4);
        var seen = new HashSet<string>();
        for (var trial = 0; trial < 20; trial++)
        {
            var m = F(FusionHeadTrainer.FrameSubset(mask, 2));
            Assert.Equal(2, m.Take(4).Sum());
            Assert.Equal(2, m.Skip(4).Take(4).Sum());
            Assert.Equal([0f, 0f], m.Skip(6).Take(2));
            Assert.Equal([1f, 0f, 0f, 0f], m.Skip(8));
            seen.Add(string.Join(",", m.Take(4)));
        }
        // Random subsets, not always the same frames.
        Assert.True(seen.Count > 1);
    }

    private sealed class Row
    {
        public string Label { get; set; } = "";
        public string Speaker { get; set; } = "";
        [VectorType(Frames * FaceDim)] public float[] FaceFeatures { get; set; } = [];
        [VectorType(Frames)] public float[] FrameMask { get; set; } = [];
        [VectorType(Positions * AudioDim)] public float[] AudioFeatures { get; set; } = [];
        [VectorType(Positions)] public float[] AudioMask { get; set; } = [];
    }

    /// <summary>
    /// Two classes told apart by a small shift (±1.5 units) on features that sit at 5000 with a spread of 1 — what CNN
    /// features on another scale look like to a head. Padding frames hold garbage.
    /// </summary>
    private static List<Row> OffsetRows(int perClass, int seed)
    {
        var rng = new Random(seed);
        float N() => (float)(rng.NextDouble() * 2 - 1);
        var rows = new List<Row>();
        for (var c = 0; c < 2; c++)
            for (var i = 0; i < perClass; i++)
                rows.Add(new Row
                {
                    Label = c == 0 ? "a" : "b",
                    Speaker = $"s{i % 4}",
                    FaceFeatures = Enumerable.Range(0, Frames * FaceDim).Select(j => j / FaceDim == Frames - 1 ? -7777f : 5000 + N() + (c == 0 ? -1.5f : 1.5f)).ToArray(),
                    FrameMask = [1, 1, 1, 0],
                    AudioFeatures = Enumerable.Range(0, Positions * AudioDim).Select(_ => 5000 + N()).ToArray(),
                    AudioMask = [1, 1],
                });
        return rows;
    }

    [Fact]
    public void WithStandardizeFaceOffOnlyTheAudioStandardiserIsFitted()
    {
        var ml = new MLContext(1);
        var train = ml.Data.LoadFromEnumerable(OffsetRows(8, 1));
        float[]? faceMean = null, faceScale = null, audioMean = null;
        var trainer = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.EmotionFusionHead(new FusionHeadTrainerOptions
        {
            Head = new FusionHeadOptions { FbpOutputDim = 8, FbpFactor = 2, TransformerDim = 4, Standardize = true, StandardizeFace = false },
            Training = new TrainerOptions { MaxEpochs = 1, BatchSize = 8, ValidationFraction = 0, Seed = 3 },
            Trained = r =>
            {
                faceMean = F(r.Module.FaceStandardizer!.Mean);
                faceScale = F(r.Module.FaceStandardizer!.Scale);
                audioMean = F(r.Module.AudioStandardizer!.Mean);
            },
        }));
        trainer.Fit(train);
        Assert.Equal(new float[FaceDim], faceMean);
        Assert.Equal(Enumerable.Repeat(1f, FaceDim), faceScale!);
        // The audio features sit at 5000 ± 1: their fitted mean does too.
        Assert.All(audioMean!, m => Assert.InRange(m, 4999f, 5001f));
    }

    [Fact]
    public void HeadLearnsFeaturesFarFromZeroAndItsSavedZipScoresTheSame()
    {
        var ml = new MLContext(1);
        var train = ml.Data.LoadFromEnumerable(OffsetRows(24, 1));
        var test = ml.Data.LoadFromEnumerable(OffsetRows(10, 2));
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.EmotionFusionHead(new FusionHeadTrainerOptions
        {
            Head = new FusionHeadOptions { FbpOutputDim = 8, FbpFactor = 2, TransformerDim = 4, Standardize = true },
            Training = new TrainerOptions { MaxEpochs = 30, BatchSize = 8, LearningRate = 3e-3, GroupColumnName = "Speaker", ValidationFraction = 0.25, EarlyStoppingPatience = 10, Seed = 3 },
        }));
        var model = pipeline.Fit(train);
        var scored = model.Transform(test);
        var accuracy = ml.MulticlassClassification.Evaluate(scored).MicroAccuracy;
        Assert.True(accuracy >= 0.95, $"accuracy {accuracy}");

        var zip = Path.Combine(Path.GetTempPath(), $"emotionml-standardized-{Environment.ProcessId}.zip");
        try
        {
            ml.Model.Save(model, train.Schema, zip);
            var loaded = ml.Model.Load(zip, out _);
            var before = scored.GetColumn<float[]>("Score").ToList();
            var after = loaded.Transform(test).GetColumn<float[]>("Score").ToList();
            for (var i = 0; i < before.Count; i++) Assert.Equal(before[i], after[i]);
        }
        finally
        {
            File.Delete(zip);
        }
    }
}
