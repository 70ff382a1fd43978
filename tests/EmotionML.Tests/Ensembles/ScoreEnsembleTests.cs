using EmotionML.Ensembles;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace EmotionML.Tests.Ensembles;

public sealed class ScoreEnsembleTests
{
    private readonly MLContext _ml = new(seed: 1);

    private sealed class Row
    {
        public string Label { get; set; } = "";
        [VectorType(3)] public float[] ScoreA { get; set; } = [];
        [VectorType(3)] public float[] ScoreB { get; set; } = [];
    }

    private static List<Row> Rows() =>
    [
        new() { Label = "a", ScoreA = [0.6f, 0.3f, 0.1f], ScoreB = [0.2f, 0.7f, 0.1f] },
        new() { Label = "b", ScoreA = [0.1f, 0.5f, 0.4f], ScoreB = [0.1f, 0.6f, 0.3f] },
        new() { Label = "c", ScoreA = [0.2f, 0.2f, 0.6f], ScoreB = [0.3f, 0.3f, 0.4f] },
    ];

    [Fact]
    public void AveragesReweightsAndPredictsTheArgMax()
    {
        // Hand computation for row 0: mean = (0.4, 0.5, 0.1); class weights (2, 1, 1) → (0.8, 0.5, 0.1) / 1.4.
        var combined = ScoreEnsembleTransformer.Combine([[0.6f, 0.3f, 0.1f], [0.2f, 0.7f, 0.1f]], null, [2, 1, 1]);
        Assert.Equal(0.8 / 1.4, combined[0], 5);
        Assert.Equal(0.5 / 1.4, combined[1], 5);
        var weighted = ScoreEnsembleTransformer.Combine([[0.6f, 0.3f, 0.1f], [0.2f, 0.7f, 0.1f]], [3, 1], null);
        Assert.Equal(0.5, weighted[0], 5); // (3·0.6 + 0.2) / 4

        var data = _ml.Data.LoadFromEnumerable(Rows());
        var model = _ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(_ml.Transforms.EnsembleScores(new ScoreEnsembleOptions { InputColumnNames = ["ScoreA", "ScoreB"], ClassWeights = [1, 1, 1] }))
            .Fit(data);
        var scored = model.Transform(data);
        var predicted = scored.GetColumn<uint>("PredictedLabel").ToArray();
        Assert.Equal([2u, 2u, 3u], predicted); // row 0: (0.4, 0.5, 0.1) → class 2
        var metrics = _ml.MulticlassClassification.Evaluate(scored);
        Assert.Equal(2.0 / 3, metrics.MicroAccuracy, 5);
    }

    [Fact]
    public void ClassWeightsFollowTheSquareRootOfCounts()
    {
        var w = ScoreEnsembleOptions.ClassWeightsFromCounts([100, 25, 0]);
        // √ = (10, 5, 0), mean 5 → (2, 1, 0)
        Assert.Equal([2.0, 1.0, 0.0], w);
    }

    [Fact]
    public void SavesAndLoadsWithOptions()
    {
        var data = _ml.Data.LoadFromEnumerable(Rows());
        var model = _ml.Transforms.EnsembleScores(new ScoreEnsembleOptions { InputColumnNames = ["ScoreA", "ScoreB"], MemberWeights = [2, 1], ClassWeights = [1, 2, 1] }).Fit(data);
        var zip = Path.Combine(TestData.TempDir("ensemble"), "e.zip");
        _ml.Model.Save(model, data.Schema, zip);
        var loaded = _ml.Model.Load(zip, out _);
        var t = Assert.IsType<ScoreEnsembleTransformer>(loaded);
        Assert.Equal([2.0, 1.0], t.Options.MemberWeights!);
        Assert.Equal(model.Transform(data).GetColumn<float[]>("Score").SelectMany(x => x), loaded.Transform(data).GetColumn<float[]>("Score").SelectMany(x => x));
    }

    [Fact]
    public void RejectsMismatchedMembersClearly()
    {
        Assert.Throws<ArgumentException>(() => _ml.Transforms.EnsembleScores(new ScoreEnsembleOptions()));
        Assert.Throws<ArgumentException>(() => _ml.Transforms.EnsembleScores(new ScoreEnsembleOptions { InputColumnNames = ["ScoreA"], MemberWeights = [1, 2] }));
        var data = _ml.Data.LoadFromEnumerable(Rows());
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => _ml.Transforms.EnsembleScores(new ScoreEnsembleOptions { InputColumnNames = ["ScoreA"], ClassWeights = [1, 1] }).Fit(data));
        Assert.Contains("ClassWeights", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => _ml.Transforms.EnsembleScores("Nope").Fit(data));
    }
}
