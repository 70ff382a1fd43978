using EmotionML.Spectrogram;
using EmotionML.FaceFeatures;
using EmotionML.Training;
using EmotionML.Training.AudioCnn;
using EmotionML.Training.Fusion;
using EmotionML.VideoInput;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Xunit;

namespace EmotionML.Tests.Persistence;

/// <summary>The typed consumer API over a loaded zip agrees with batch Transform, across threads, with label names from the zip.</summary>
public sealed class PredictionEngineTests : Fusion.TorchTestBase
{
    private sealed class Row
    {
        public string VideoPath { get; set; } = "";
        public string Label { get; set; } = "";
    }

    // Emotion codes of the Javanese set: 01 neutral, 03 happy, 06 angry.
    private static readonly (string Code, string Name)[] Emotions = [("01", "neutral"), ("03", "happy"), ("06", "angry")];

    private static string Clip(string actor, string code) => TestData.Javanese($"{actor}-01-{code}_01.mp4");

    private static string TrainAndSave()
    {
        var ml = new MLContext(seed: 2);
        var rows = new[] { "01", "02" }.SelectMany(a => Emotions.Select(e => new Row { VideoPath = Clip(a, e.Code), Label = e.Name })).ToList();
        var train = ml.Data.LoadFromEnumerable(rows);
        var toKey = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(train);
        var fast = new TrainerOptions { MaxEpochs = 2, BatchSize = 3, ValidationFraction = 0, Seed = 1 };
        var pipeline = ml.Transforms.LoadVideo(new VideoInputOptions { FrameCount = 3, MaxFrameSide = 320 })
            .Append(ml.Transforms.AlignFaces(3))
            .Append(ml.Transforms.ExtractFaceFeatures(FaceBackboneKind.MiniXception))
            .Append(ml.Transforms.SpeechSpectrogram(new SpeechSpectrogramOptions { Frames = 100 }))
            .AppendCacheCheckpoint(ml)
            .Append(ml.Transforms.TrainAudioCnn(new AudioCnnTrainerOptions { Network = new AudioCnnOptions { Channels = [4, 4, 4, 4, 4] }, Training = fast }))
            .Append(ml.Transforms.EmotionFusionHead(new FusionHeadTrainerOptions
            {
                Head = new FusionHeadOptions { FbpOutputDim = 8, FbpFactor = 2, TransformerDim = 8 },
                Training = fast,
            }));
        var model = pipeline.Fit(toKey.Transform(train));
        var zip = Path.Combine(TestData.TempDir("engine"), "model.zip");
        ml.Model.Save(model, train.Schema, zip);
        return zip;
    }

    private static readonly Lazy<string> Zip = new(TrainAndSave);

    // A test set without 'neutral': the engine's names still come from the zip.
    private static readonly string[] TestClips = [Clip("03", "03"), Clip("03", "06"), Clip("04", "06")];

    [Fact]
    public void EngineEqualsBatchTransformAndKeepsTheZipsClassNames()
    {
        var ml = new MLContext(seed: 1);
        var model = EmotionModel.Load(ml, Zip.Value);
        using var engine = EmotionModel.CreatePredictionEngine(ml, model);
        Assert.Equal(["angry", "happy", "neutral"], engine.Classes);

        var batch = model.Transform(ml.Data.LoadFromEnumerable(TestClips.Select(p => new Row { VideoPath = p, Label = "happy" })));
        var scores = batch.GetColumn<float[]>("Score").ToList();
        var predicted = batch.GetColumn<uint>("PredictedLabel").ToList();
        var face = batch.GetColumn<float[]>("FaceAttention").ToList();
        var audio = batch.GetColumn<float[]>("AudioAttention").ToList();
        var found = batch.GetColumn<bool[]>("FaceFound").ToList();
        VBuffer<ReadOnlyMemory<char>> keys = default;
        batch.Schema["PredictedLabel"].GetKeyValues(ref keys);
        var keyNames = keys.DenseValues().Select(k => k.ToString()).ToArray();

        for (var i = 0; i < TestClips.Length; i++)
        {
            var p = engine.Predict(TestClips[i]);
            Assert.Equal(keyNames[predicted[i] - 1], p.Emotion);
            Assert.Equal(scores[i], p.Probabilities.Values.ToArray());
            Assert.Equal(engine.Classes, p.Probabilities.Keys.ToArray());
            Assert.Equal(scores[i].Max(), p.Probabilities[p.Emotion]);
            Assert.Equal(face[i], p.FaceAttention.ToArray());
            Assert.Equal(audio[i], p.AudioAttention.ToArray());
            Assert.Equal(found[i], p.FaceFound.ToArray());
            Assert.Equal(3, p.FaceAttention.Count);
            Assert.NotEmpty(p.AudioAttention);
            Assert.True(p.AnyFaceFound);
        }
    }

    [Fact]
    public void FourThreadsWithTheirOwnEnginesOnOneModelAgree()
    {
        var ml = new MLContext(seed: 1);
        var model = EmotionModel.Load(ml, Zip.Value);
        string Digest(EmotionPrediction p) => string.Join(";", p.Emotion, string.Join(",", p.Probabilities.Values.Select(v => BitConverter.SingleToInt32Bits(v))),
            string.Join(",", p.FaceAttention.Select(v => BitConverter.SingleToInt32Bits(v))), string.Join(",", p.AudioAttention.Select(v => BitConverter.SingleToInt32Bits(v))));
        string[] Run()
        {
            using var engine = EmotionModel.CreatePredictionEngine(ml, model);
            return TestClips.Concat(TestClips).Select(c => Digest(engine.Predict(c))).ToArray();
        }
        var reference = Run();
        var results = new string[4][];
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() => results[t] = Run())).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        foreach (var r in results) Assert.Equal(reference, r);
    }

    [Fact]
    public void AModelWithoutAHeadIsRejectedClearly()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[] { new Row { VideoPath = TestClips[0] } });
        var model = ml.Transforms.LoadVideo(new VideoInputOptions { FrameCount = 1 }).Fit(data);
        var e = Assert.Throws<ArgumentException>(() => EmotionModel.CreatePredictionEngine(ml, model));
        Assert.StartsWith("The model has no 'Score' column", e.Message);
    }
}
