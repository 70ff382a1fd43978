using EmotionML.Fusion;
using EmotionML.Training;
using EmotionML.Training.Fusion;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace EmotionML.Tests.Training;

/// <summary>What the fitted head does with degenerate clips at prediction time.</summary>
public sealed class PredictionBadInputTests : Fusion.TorchTestBase
{
    private readonly MLContext _ml = new(seed: 1);

    private sealed class Row
    {
        public string Label { get; set; } = "";
        [VectorType(3 * 4)] public float[] FaceFeatures { get; set; } = [];
        [VectorType(3)] public float[] FrameMask { get; set; } = [];
        [VectorType(2 * 5)] public float[] AudioFeatures { get; set; } = [];
        [VectorType(2)] public float[] AudioMask { get; set; } = [];
    }

    private static Row Make(string label, int seed, int frames = 3, bool audio = true)
    {
        var rng = new Random(seed);
        return new Row
        {
            Label = label,
            FaceFeatures = Enumerable.Range(0, 12).Select(i => i / 4 < frames ? (float)rng.NextDouble() : 0f).ToArray(),
            FrameMask = Enumerable.Range(0, 3).Select(i => i < frames ? 1f : 0f).ToArray(),
            AudioFeatures = Enumerable.Range(0, 10).Select(_ => audio ? (float)rng.NextDouble() : 0f).ToArray(),
            AudioMask = [audio ? 1 : 0, audio ? 1 : 0],
        };
    }

    private ITransformer Fit()
    {
        var rows = Enumerable.Range(0, 12).Select(i => Make(i % 2 == 0 ? "a" : "b", i)).ToList();
        return _ml.Transforms.Conversion.MapValueToKey("Label").Append(_ml.Transforms.EmotionFusionHead(new FusionHeadTrainerOptions
        {
            Head = new FusionHeadOptions { FbpOutputDim = 8, FbpFactor = 2, TransformerDim = 4 },
            Training = new TrainerOptions { MaxEpochs = 2, ValidationFraction = 0 },
        })).Fit(_ml.Data.LoadFromEnumerable(rows));
    }

    [Fact]
    public void ClipWithNoFramesOrNoAudioGetsFiniteScoresAndZeroAttention()
    {
        var model = Fit();
        var data = _ml.Data.LoadFromEnumerable([Make("a", 100, frames: 0), Make("b", 101, audio: false), Make("a", 102, frames: 1)]);
        var scored = model.Transform(data);
        var scores = scored.GetColumn<float[]>("Score").ToArray();
        Assert.All(scores, s => { Assert.All(s, v => Assert.True(float.IsFinite(v))); Assert.Equal(1, s.Sum(), 4); });
        var face = scored.GetColumn<float[]>("FaceAttention").ToArray();
        var audio = scored.GetColumn<float[]>("AudioAttention").ToArray();
        Assert.All(face[0], w => Assert.Equal(0, w));          // no frame at all: attention all zero
        Assert.All(audio[1], w => Assert.Equal(0, w));         // no audio: attention all zero
        Assert.Equal([1f, 0f, 0f], face[2]);                   // one real frame takes all the weight
    }

    [Fact]
    public void NaNFeaturesAtPredictionGiveATypedError()
    {
        var model = Fit();
        var bad = Make("a", 5);
        bad.AudioFeatures[3] = float.PositiveInfinity;
        var scored = model.Transform(_ml.Data.LoadFromEnumerable([bad]));
        var e = Assert.ThrowsAny<Exception>(() => scored.GetColumn<float[]>("Score").ToArray());
        while (e is not InvalidInputException && e.InnerException != null) e = e.InnerException;
        var typed = Assert.IsType<InvalidInputException>(e);
        Assert.Contains("AudioFeatures", typed.Message);
    }

    [Fact]
    public void FeatureShapeOtherThanTrainedIsRejectedClearly()
    {
        var model = Fit();
        var other = _ml.Data.LoadFromEnumerable([new { FaceFeatures = new float[5], Label = "a" }]);
        var e = Assert.ThrowsAny<Exception>(() => model.Transform(other));
        Assert.Contains("FaceFeatures", e.Message);
    }
}
