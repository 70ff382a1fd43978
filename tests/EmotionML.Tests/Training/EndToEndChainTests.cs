using EmotionML.FaceFeatures;
using EmotionML.Spectrogram;
using EmotionML.Tests.Persistence;
using EmotionML.Training;
using EmotionML.Training.AudioCnn;
using EmotionML.Training.Fusion;
using EmotionML.VideoInput;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Xunit;

namespace EmotionML.Tests.Training;

/// <summary>
/// The whole system as one ML.NET chain on real clips: video path → frames/audio → aligned faces → face features and
/// spectrogram → audio CNN (trained in the same Fit) → attention/FBP head; evaluated with ML.NET, saved as one zip and
/// loaded in a new process that never loads TorchSharp, with identical outputs.
/// </summary>
public sealed class EndToEndChainTests : Fusion.TorchTestBase
{
    private sealed class Row
    {
        public string VideoPath { get; set; } = "";
        public string Label { get; set; } = "";
        public string Speaker { get; set; } = "";
    }

    [Fact]
    public void WholeChainFitsEvaluatesSavesAndReloadsInAProcessWithoutTorchSharp()
    {
        var ml = new MLContext(seed: 3);
        // Actors 01 and 02, sentence 01, four emotions: 8 clips to train on; one more clip per emotion of actor 03 to score.
        string[] emotions = ["01", "03", "05", "06"];
        string[] names = ["neutral", "happy", "fear", "angry"];
        List<Row> Clips(string actor) => emotions.Select((e, i) => new Row { VideoPath = TestData.Javanese($"{actor}-01-{e}_01.mp4"), Label = names[i], Speaker = actor }).ToList();
        var train = ml.Data.LoadFromEnumerable(Clips("01").Concat(Clips("02")).ToList());
        var test = ml.Data.LoadFromEnumerable(Clips("03"));
        var toKey = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(train);

        var fast = new TrainerOptions { MaxEpochs = 3, BatchSize = 4, ValidationFraction = 0, Seed = 1 };
        var pipeline = ml.Transforms.LoadVideo(new VideoInputOptions { FrameCount = 4 })
            .Append(ml.Transforms.AlignFaces(4))
            .Append(ml.Transforms.ExtractFaceFeatures(FaceBackboneKind.MiniXception))
            .Append(ml.Transforms.SpeechSpectrogram(new SpeechSpectrogramOptions { Frames = 100 }))
            .AppendCacheCheckpoint(ml)
            .Append(ml.Transforms.TrainAudioCnn(new AudioCnnTrainerOptions { Network = new AudioCnnOptions { Channels = [8, 8, 8, 8, 8] }, Training = fast }))
            .Append(ml.Transforms.EmotionFusionHead(new FusionHeadTrainerOptions
            {
                Head = new FusionHeadOptions { FbpOutputDim = 16, FbpFactor = 2, TransformerDim = 8 },
                Training = new TrainerOptions { MaxEpochs = 3, BatchSize = 4, ValidationFraction = 0, Seed = 1 },
            }));
        var model = pipeline.Fit(toKey.Transform(train));

        var scored = model.Transform(toKey.Transform(test));
        var metrics = ml.MulticlassClassification.Evaluate(scored);
        Assert.Equal(4, metrics.ConfusionMatrix.NumberOfClasses);
        // ML.NET's accuracy against an independent count of PredictedLabel == Label.
        var labels = scored.GetColumn<uint>("Label").ToArray();
        var predicted = scored.GetColumn<uint>("PredictedLabel").ToArray();
        Assert.Equal(labels.Zip(predicted).Count(p => p.First == p.Second) / 4.0, metrics.MicroAccuracy, 12);
        Assert.Equal(4, metrics.ConfusionMatrix.Counts.Sum(r => r.Sum()));

        var zip = Path.Combine(TestData.TempDir("e2e"), "emotion.zip");
        ml.Model.Save(model, test.Schema, zip);
        var here = ModelProcess.DumpHere(model.Transform(test));
        var there = ModelProcess.DumpInNewProcess(zip, Clips("03").Select(c => c.VideoPath).ToArray());
        Assert.Equal(here.Count, there.Rows.Count);
        foreach (var column in new[] { "FaceFeatures", "Spectrogram", "AudioFeatures", "Score", "PredictedLabel", "FaceAttention", "AudioAttention" })
            for (var i = 0; i < here.Count; i++)
                Assert.True(here[i][column] == there.Rows[i][column], $"row {i} column {column} differs after reload");
        Assert.DoesNotContain(there.Assemblies, a => a.StartsWith("TorchSharp", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain("EmotionML.Training", there.Assemblies);
    }
}
