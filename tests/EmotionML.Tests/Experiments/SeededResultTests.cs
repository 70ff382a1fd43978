using EmotionML.Experiments;
using EmotionML.Training;
using Microsoft.ML;
using Xunit;

namespace EmotionML.Tests.Experiments;

/// <summary>Seeds × folds summaries, paired differences, the probe baseline and its validation speakers.</summary>
public sealed class SeededResultTests
{
    private static CrossValidationResult Cv(string name, params double[] accuracies)
        => new(name, ["a", "b"], accuracies.Select((a, k) => new FoldResult([$"s{k}"], a, a / 2, 10)).ToList(), new long[2, 2]);

    [Fact]
    public void MeanAndStdAreOverAllSeedFoldRuns()
    {
        var r = new SeededResult("x", [Cv("x", 0.2, 0.4), Cv("x", 0.6, 0.8)]);
        Assert.Equal(0.5, r.MeanAccuracy, 12);
        // Sample std of 0.2, 0.4, 0.6, 0.8.
        Assert.Equal(Math.Sqrt(0.2 / 3), r.StdAccuracy, 12);
        Assert.Equal([0.4, 0.6], r.FoldMeans.Select(v => Math.Round(v, 12)));
        Assert.Equal("50.0 ± 25.8", r.AccuracyText);
    }

    [Fact]
    public void PairedDifferenceAveragesSeedsPerFoldAndTestsOverFolds()
    {
        // Three folds; A beats B by 0.10, 0.12, 0.08 (seed-averaged): mean 0.10, sd 0.02, SE 0.02/√3; t = 8.66 > 4.303.
        var a = new SeededResult("A", [Cv("A", 0.5, 0.6, 0.7), Cv("A", 0.7, 0.64, 0.5)]);
        var b = new SeededResult("B", [Cv("B", 0.5, 0.5, 0.5)]);
        var d = PairedDifference.Of(a, b);
        Assert.Equal([0.1, 0.12, 0.1], d.FoldDifferences.Select(v => Math.Round(v, 12)));
        Assert.Equal(0.32 / 3, d.Mean, 12);
        Assert.Equal(PairedVerdict.Confirmed, d.Verdict);
        // A spread as large as the mean: not separable; the reverse: contradicted.
        var noisy = new SeededResult("N", [Cv("N", 0.9, 0.3, 0.6)]);
        Assert.Equal(PairedVerdict.NotSeparable, PairedDifference.Of(noisy, b).Verdict);
        Assert.Equal(PairedVerdict.Contradicted, PairedDifference.Of(b, a).Verdict);
        Assert.Equal(2.447, PairedDifference.TCritical(6));
    }

    [Fact]
    public void PairedDifferenceRefusesDifferentFolds()
    {
        var a = new SeededResult("A", [Cv("A", 0.5, 0.6)]);
        var b = new SeededResult("B", [new CrossValidationResult("B", ["a", "b"], [new FoldResult(["s1"], 0.5, 0.5, 1), new FoldResult(["s0"], 0.5, 0.5, 1)], new long[2, 2])]);
        var e = Assert.Throws<ArgumentException>(() => PairedDifference.Of(a, b));
        Assert.Equal("Fold 1 holds out different speakers in A and B.", e.Message);
    }

    [Theory]
    [InlineData(1.0 / 6, 3)]
    [InlineData(2.0 / 6, 11)]
    public void ProbeHoldsOutTheSpeakersTheTrainersValidationSplitHoldsOut(double fraction, int seed)
    {
        var ml = new MLContext(0);
        string[] speakers = ["01", "02", "03", "05", "06", "07"];
        var rows = speakers.SelectMany(s => Enumerable.Range(0, 3).Select(i => new TableRow { Label = i % 2 == 0 ? "a" : "b", Speaker = s, X = [i] })).ToList();
        var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(ml.Data.LoadFromEnumerable(rows)).Transform(ml.Data.LoadFromEnumerable(rows));
        var table = TrainingTable.Read(data, "Label", "Speaker", "X");
        var (_, validation) = table.Split(fraction, seed);
        var expected = validation.Select(i => rows[i].Speaker).Distinct().OrderBy(s => s).ToArray();
        Assert.Equal((int)Math.Round(6 * fraction), expected.Length);
        Assert.Equal(expected, FusionExperiment.HeldOutSpeakers(rows.Select(r => r.Speaker), fraction, seed).OrderBy(s => s));
    }

    private sealed class TableRow
    {
        public string Label { get; set; } = "";
        public string Speaker { get; set; } = "";
        [Microsoft.ML.Data.VectorType(1)] public float[] X { get; set; } = [];
    }

    [Fact]
    public void ProbeSeparatesClipMeansOfTheFaceAndIgnoresPaddingFrames()
    {
        // Four speakers × two classes; the class is in the mean of the real frames, padding frames hold a misleading value.
        var clips = new List<ClipRecord>();
        var face = new List<float[]>();
        var masks = new List<float[]>();
        var rng = new Random(1);
        foreach (var s in new[] { "01", "02", "03", "04" })
            for (var i = 0; i < 6; i++)
            {
                var c = i % 2;
                clips.Add(new ClipRecord($"/clips/{s}-{i}.mp4", c == 0 ? "angry" : "happy", s));
                face.Add([c + (float)rng.NextDouble() * 0.2f, 1, c + (float)rng.NextDouble() * 0.2f, 1, 10 * (1 - c), 0]);
                masks.Add([1, 1, 0]);
            }
        var set = new FusionFeatureSet { Clips = clips, Frames = 3, FrameMask = masks.ToArray() };
        set.Face["f"] = (face.ToArray(), 2);
        var r = FusionExperiment.Probe(new MLContext(0), set, "f", audio: false, folds: 4, "probe", validationFraction: 1.0 / 3);
        Assert.Equal(4, r.Folds.Count);
        Assert.All(r.Folds, f => Assert.Equal(1.0, f.Accuracy));
        Assert.All(r.Folds, f => Assert.Equal(1.0, f.ValidationAccuracy));
        Assert.Equal(24, r.Scores.Count);
    }
}
