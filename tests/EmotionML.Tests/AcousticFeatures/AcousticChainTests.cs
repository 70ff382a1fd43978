using EmotionML.AcousticFeatures;
using EmotionML.Training;
using EmotionML.Training.Fusion;
using EmotionML.VideoInput;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace EmotionML.Tests.AcousticFeatures;

/// <summary>
/// The functionals as the fusion head's audio features in one ML.NET chain: the stage's one-position mask, the head
/// trained on them, the chain saved and loaded with the same scores.
/// </summary>
public sealed class AcousticChainTests : Fusion.TorchTestBase
{
    private sealed class Row
    {
        public string VideoPath { get; set; } = "";
        public string Label { get; set; } = "";
    }

    [Fact]
    public void AHeadReadsTheFunctionalsAsOneAudioPositionAndTheSavedChainScoresTheSame()
    {
        var ml = new MLContext(1);
        var lines = File.ReadLines(TestData.Ravdess("labels.csv")).Skip(1).Select(l => l.Split(','))
            .Where(p => p[6] is "01" or "02" && p[1] is "neutral" or "angry").Take(12).ToList();
        var data = ml.Data.LoadFromEnumerable(lines.Select(p => new Row { VideoPath = TestData.Ravdess(p[0]), Label = p[1] }).ToList());
        var pipeline = ml.Transforms.LoadVideo(new VideoInputOptions { DecodeVideo = false })
            .Append(ml.Transforms.ExtractAcousticFeatures(new AcousticFeaturesOptions { MaskColumnName = "AcousticMask" }))
            .Append(ml.Transforms.Conversion.MapValueToKey("Label"))
            .AppendCacheCheckpoint(ml)
            .Append(ml.Transforms.EmotionFusionHead(new FusionHeadTrainerOptions
            {
                Head = new FusionHeadOptions { Modalities = Modalities.AudioOnly, AudioAttention = AttentionKind.Self, Standardize = true, ClassifierDropout = 0, AttentionDropout = 0 },
                Columns = new EmotionML.Fusion.FusionHeadColumns { AudioFeaturesColumnName = "AcousticFeatures", AudioMaskColumnName = "AcousticMask" },
                Training = new TrainerOptions { MaxEpochs = 40, BatchSize = 4, LearningRate = 3e-3, ValidationFraction = 0, Seed = 1 },
            }));
        var model = pipeline.Fit(data);
        var scored = model.Transform(data);
        Assert.All(scored.GetColumn<float[]>("AcousticMask"), m => Assert.Equal([1f], m));
        // One audio position: all of the attention on it.
        Assert.All(scored.GetColumn<float[]>("AudioAttention"), a => Assert.Equal(1f, Assert.Single(a), 5));
        // Loud (angry) against quiet (neutral) speech from the functionals' energy: the head learns it on its own clips.
        var accuracy = ml.MulticlassClassification.Evaluate(scored).MicroAccuracy;
        Assert.True(accuracy >= 0.9, $"training accuracy {accuracy:P0}");

        var path = Path.Combine(TestData.TempDir("acoustic-chain"), "chain.zip");
        ml.Model.Save(model, data.Schema, path);
        var loaded = ml.Model.Load(path, out _);
        var before = scored.GetColumn<float[]>("Score").ToArray();
        var after = loaded.Transform(data).GetColumn<float[]>("Score").ToArray();
        for (var i = 0; i < before.Length; i++)
            for (var k = 0; k < before[i].Length; k++) Assert.Equal(before[i][k], after[i][k], 5);
    }

    [Fact]
    public void TheMaskIsZeroForSilenceAndTheStageWritesItOnlyWhenNamed()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(new[] { new AudioOnly { Audio = new float[16000] }, new AudioOnly { Audio = [] } });
        var masked = ml.Transforms.ExtractAcousticFeatures(new AcousticFeaturesOptions { MaskColumnName = "M" }).Fit(data).Transform(data);
        Assert.Equal([[0f], [0f]], masked.GetColumn<float[]>("M").ToArray());
        Assert.Equal(1, ((VectorDataViewType)masked.Schema["M"].Type).Size);
        var plain = ml.Transforms.ExtractAcousticFeatures().Fit(data).Transform(data);
        Assert.Null(plain.Schema.GetColumnOrNull("M"));
        Assert.Null(plain.Schema.GetColumnOrNull("AcousticMask"));
    }

    private sealed class AudioOnly
    {
        public float[] Audio { get; set; } = [];
    }
}
