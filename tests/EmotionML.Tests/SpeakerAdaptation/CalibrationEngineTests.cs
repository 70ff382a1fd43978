using EmotionML.FaceFeatures;
using EmotionML.SpeakerAdaptation;
using EmotionML.Training;
using EmotionML.Training.Fusion;
using EmotionML.VideoInput;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Xunit;

namespace EmotionML.Tests.SpeakerAdaptation;

/// <summary>The consumer API with calibration clips gives what the batch path gives for the same clips as the speaker's data.</summary>
public sealed class CalibrationEngineTests : Fusion.TorchTestBase
{
    private sealed class Row
    {
        public string VideoPath { get; set; } = "";
        public string Label { get; set; } = "";
        public string Speaker { get; set; } = "";
    }

    private static string Clip(string actor, string code) => TestData.Javanese($"{actor}-01-{code}_01.mp4");

    private static readonly (string Code, string Name)[] Emotions = [("01", "neutral"), ("03", "happy"), ("06", "angry")];

    private static string TrainAndSave()
    {
        var ml = new MLContext(seed: 3);
        var rows = new[] { "01", "02" }.SelectMany(a => Emotions.Select(e => new Row { VideoPath = Clip(a, e.Code), Label = e.Name, Speaker = a })).ToList();
        var train = ml.Data.LoadFromEnumerable(rows);
        var toKey = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(train);
        var pipeline = ml.Transforms.LoadVideo(new VideoInputOptions { FrameCount = 2, MaxFrameSide = 320, DecodeAudio = false })
            .Append(ml.Transforms.AlignFaces(2))
            .Append(ml.Transforms.ExtractFaceFeatures(FaceBackboneKind.MiniXception))
            .Append(ml.Transforms.NormalizeBySpeaker(new SpeakerNormalizationOptions { AudioFeaturesColumnName = null }))
            .AppendCacheCheckpoint(ml)
            .Append(ml.Transforms.EmotionFusionHead(new FusionHeadTrainerOptions
            {
                Head = new FusionHeadOptions { Modalities = Modalities.FaceOnly, TransformerDim = 8 },
                Training = new TrainerOptions { MaxEpochs = 2, BatchSize = 3, ValidationFraction = 0, Seed = 1 },
            }));
        var model = pipeline.Fit(toKey.Transform(train));
        var zip = Path.Combine(TestData.TempDir("speaker-engine"), "model.zip");
        ml.Model.Save(model, train.Schema, zip);
        return zip;
    }

    private static readonly Lazy<string> Zip = new(TrainAndSave);

    private static readonly string[] Person = [Clip("03", "01"), Clip("03", "03"), Clip("03", "06")];

    [Fact]
    public void CalibratedEngineEqualsTheBatchPathOverTheSameClips()
    {
        var ml = new MLContext(seed: 1);
        var model = EmotionModel.Load(ml, Zip.Value);
        var batch = model.Transform(ml.Data.LoadFromEnumerable(Person.Select(p => new Row { VideoPath = p, Label = "happy", Speaker = "person" })));
        var scores = batch.GetColumn<float[]>("Score").ToList();

        using var engine = EmotionModel.CreatePredictionEngine(ml, model, Person);
        Assert.True(engine.NeedsCalibration);
        for (var i = 0; i < Person.Length; i++)
        {
            var p = engine.Predict(Person[i]);
            var s = p.Probabilities.Values.ToArray();
            for (var k = 0; k < s.Length; k++) Assert.True(Math.Abs(scores[i][k] - s[k]) <= 1e-5, $"clip {i} class {k}: batch {scores[i][k]}, engine {s[k]}");
        }

        // Another person's calibration changes the statistics and so the scores; the batch path agrees again.
        var other = new[] { Clip("04", "01"), Clip("04", "03"), Clip("04", "06") };
        engine.Calibrate(other);
        var otherBatch = model.Transform(ml.Data.LoadFromEnumerable(other.Select(p => new Row { VideoPath = p, Label = "happy", Speaker = "x" }))).GetColumn<float[]>("Score").ToList();
        var again = engine.Predict(other[0]).Probabilities.Values.ToArray();
        for (var k = 0; k < again.Length; k++) Assert.True(Math.Abs(otherBatch[0][k] - again[k]) <= 1e-5);
        Assert.NotEqual(scores[0], engine.Predict(Person[0]).Probabilities.Values.ToArray());
    }

    [Fact]
    public void AnAdaptedModelNeedsCalibrationWithEnoughClips()
    {
        var ml = new MLContext(seed: 1);
        var model = EmotionModel.Load(ml, Zip.Value);
        using var engine = EmotionModel.CreatePredictionEngine(ml, model);
        Assert.Equal("The model normalises by speaker: call Calibrate with a few unlabelled clips of the person first (or EmotionModel.CreatePredictionEngine with calibrationClips).",
            Assert.Throws<InvalidOperationException>(() => engine.Predict(Person[0])).Message);
        Assert.Equal("Speaker 'calibration' has 1 clip; speaker normalisation needs at least 2 (MinClipsPerSpeaker) to estimate a speaker's statistics.",
            Assert.Throws<InvalidInputException>(() => engine.Calibrate([Person[0]])).Message);
    }
}
