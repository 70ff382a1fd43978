using System.Text.Json;
using EmotionML.Experiments;
using EmotionML.FaceFeatures;
using EmotionML.Spectrogram;
using EmotionML.Tests.Cli;
using EmotionML.Training;
using EmotionML.Training.Fusion;
using EmotionML.VideoInput;
using Microsoft.ML;
using Xunit;

namespace EmotionML.Tests.Experiments;

/// <summary>
/// The experiments' numbers come from the product's own chain: the head an experiment fold trains on cached features,
/// appended to the chain's feature stages, saved as a zip and run through <c>emotionml predict</c> on the fold's clips,
/// gives the scores and the accuracy the experiment reported for that fold.
/// </summary>
[Collection(MainPathFixture.Collection)]
public sealed class FoldModelTests(MainPathFixture f) : Fusion.TorchTestBase
{
    private sealed class Row
    {
        public string VideoPath { get; set; } = "";
    }

    [Fact]
    public void EachFoldsSavedModelPredictsWhatTheExperimentReported()
    {
        var ml = new MLContext(0);
        var frames = MainPathFixture.Frames;
        // Clips shorter than the 3 s spectrogram (1.9–2.6 s): their padded audio rows are masked, so the experiment's
        // masks must be the chain's for the numbers to agree.
        string[] names = ["03-02-04_01.mp4", "03-02-06_01.mp4", "03-03-04_01.mp4", "03-03-06_01.mp4", "04-01-04_01.mp4", "04-01-06_01.mp4", "04-02-04_01.mp4", "04-02-03_01.mp4"];
        var clips = ClipManifest.FromShared("javanese-av").Where(c => names.Contains(Path.GetFileName(c.Path))).ToList();
        Assert.Equal(8, clips.Count);
        var set = new FusionFeatureSet { Clips = clips, Frames = frames, FrameMask = new float[clips.Count][] };
        var variant = new FaceVariant("basic-minixception", new FaceFeatureOptions { Backbone = FaceBackboneKind.MiniXception });
        FusionExperiment.AddFaceFeatures(ml, set, [variant]);
        FusionExperiment.AddAudioFeatures(ml, set, f.AudioCnn, 300);
        Assert.Empty(set.Failures);
        Assert.Contains(set.AudioMask!, m => m.Contains(0f));
        var heads = new List<(string[] Speakers, ITransformer Head)>();
        var cv = FusionExperiment.Run(ml, set, variant.Name, new FusionHeadOptions { TransformerDim = 8, FbpOutputDim = 16, FbpFactor = 2 },
            new TrainerOptions { MaxEpochs = 2, BatchSize = 4, ValidationFraction = 0, Seed = 1 }, 2, "fold check", foldHeads: (s, h) => heads.Add((s, h)));
        Assert.Equal(2, heads.Count);

        var data = ml.Data.LoadFromEnumerable(new[] { new Row { VideoPath = clips[0].Path } });
        var features = ml.Transforms.LoadVideo(new VideoInputOptions { FrameCount = frames })
            .Append(ml.Transforms.AlignFaces(frames))
            .Append(ml.Transforms.ExtractFaceFeatures(variant.Options))
            .Append(ml.Transforms.SpeechSpectrogram())
            .Append(ml.Transforms.ExtractAudioFeatures(f.AudioCnn))
            .Fit(data);
        var scores = cv.Scores.ToDictionary(s => s.Path);
        for (var k = 0; k < heads.Count; k++)
        {
            var (speakers, head) = heads[k];
            var zip = Path.Combine(f.Dir, $"fold{k}.zip");
            ml.Model.Save(features.Append(head), data.Schema, zip);
            var test = clips.Where(c => speakers.Contains(c.Speaker)).ToList();
            var r = CliRunner.RunShared(["predict", zip, .. test.Select(c => c.Path), "--json"]);
            Assert.True(r.ExitCode == 0, r.Error);
            var predicted = JsonDocument.Parse(r.Output).RootElement.GetProperty("clips").EnumerateArray().ToList();
            var correct = 0;
            for (var i = 0; i < test.Count; i++)
            {
                var probabilities = predicted[i].GetProperty("probabilities");
                var reported = scores[test[i].Path].Scores;
                for (var c = 0; c < cv.Classes.Length; c++)
                    Assert.Equal(reported[c], probabilities.GetProperty(cv.Classes[c]).GetSingle(), 1e-4f);
                if (predicted[i].GetProperty("emotion").GetString() == test[i].Label) correct++;
            }
            Assert.Equal(cv.Folds[k].Accuracy, (double)correct / test.Count, 12);
        }
    }
}
