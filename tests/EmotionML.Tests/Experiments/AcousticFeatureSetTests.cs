using EmotionML.AcousticFeatures;
using EmotionML.Experiments;
using EmotionML.Tests.Spectrogram;
using Microsoft.ML;
using Xunit;

namespace EmotionML.Tests.Experiments;

/// <summary>
/// The acoustic functionals in the experiments' feature set (joined to the audio CNN's positions or alone), a clip that
/// cannot be decoded, and the speaker-adaptation protocol with folds of several speakers.
/// </summary>
public sealed class AcousticFeatureSetTests
{
    private static List<ClipRecord> RavdessWithAMissingClip()
    {
        var clips = ClipManifest.FromShared("ravdess-speech-16k").Where(c => c.Speaker == "01").Take(3).ToList();
        clips.Insert(1, new ClipRecord(Path.Combine(TestData.TempDir("acoustic-set"), "missing.flac"), "angry", "01"));
        return clips;
    }

    [Fact]
    public void AloneTheFunctionalsAreTheAudioFeaturesAndAMissingClipFailsWithoutLosingTheOthers()
    {
        var clips = RavdessWithAMissingClip();
        var set = new FusionFeatureSet { Clips = clips, Frames = 1, FrameMask = new float[clips.Count][] };
        AcousticFeatureSet.Add(new MLContext(0), set);
        Assert.Equal((1, AcousticFeatureNames.Count), set.AudioShape);
        var failure = Assert.Single(set.Failures);
        Assert.Same(clips[1], failure.Clip);
        Assert.Contains("missing.flac", failure.Error.Message);
        Assert.Equal([1f, 0f, 1f, 1f], set.AudioMask!.Select(m => m[0]));
        var extractor = new AcousticFeatureExtractor(new AcousticFeaturesOptions());
        foreach (var i in new[] { 0, 2, 3 })
            Assert.Equal(extractor.Compute(SpectrogramTests.Decode(clips[i].Path)).Values, set.Audio![i]);
        var kept = set.WithoutFailures();
        Assert.Equal(3, kept.Clips.Count);
        Assert.Equal(set.Audio![2], kept.Audio![1]);
    }

    [Fact]
    public void JoinedTheFunctionalsFollowTheAudioCnnValuesAtEveryPosition()
    {
        var clips = ClipManifest.FromShared("ravdess-speech-16k").Where(c => c.Speaker == "02").Take(2).ToList();
        var set = new FusionFeatureSet { Clips = clips, Frames = 1, FrameMask = new float[2][] };
        // Two positions of three values, numbered so that a wrong copy shows; the mask is left as it is.
        set.Audio = [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]];
        set.AudioMask = [[1, 0], [1, 1]];
        set.AudioShape = (2, 3);
        AcousticFeatureSet.Add(new MLContext(0), set);
        var d = AcousticFeatureNames.Count;
        Assert.Equal((2, 3 + d), set.AudioShape);
        Assert.Equal([[1f, 0f], [1f, 1f]], set.AudioMask);
        var functionals = new AcousticFeatureExtractor(new AcousticFeaturesOptions()).Compute(SpectrogramTests.Decode(clips[1].Path)).Values;
        var row = set.Audio[1];
        Assert.Equal(2 * (3 + d), row.Length);
        Assert.Equal([7f, 8, 9], row[..3]);
        Assert.Equal(functionals, row[3..(3 + d)]);
        Assert.Equal([10f, 11, 12], row[(3 + d)..(6 + d)]);
        Assert.Equal(functionals, row[(6 + d)..]);
    }

    [Fact]
    public void WithFoldsOfSeveralSpeakersTheProtocolHoldsOutWholeFoldsAndAdaptationRemovesEachSpeakersOffset()
    {
        // 4 speakers × 12 clips, 2 classes; one audio value per clip = class + a large speaker offset, so that only a
        // model that removes each speaker's own mean can tell the classes of a held-out speaker.
        var clips = new List<ClipRecord>();
        var audio = new List<float[]>();
        var rng = new Random(5);
        foreach (var (speaker, offset) in new[] { ("s1", 0f), ("s2", 3f), ("s3", 6f), ("s4", 9f) })
            for (var i = 0; i < 12; i++)
            {
                var label = i % 2;
                clips.Add(new ClipRecord($"{speaker}-{i}.wav", label == 0 ? "low" : "high", speaker));
                audio.Add([label + offset + (float)(0.1 * (rng.NextDouble() - 0.5)), (float)rng.NextDouble()]);
            }
        var set = new FusionFeatureSet { Clips = clips, Frames = 1, FrameMask = new float[clips.Count][] };
        set.Audio = [.. audio];
        set.AudioMask = clips.Select(_ => new float[] { 1 }).ToArray();
        set.AudioShape = (1, 2);
        var o = new SpeakerAdaptationOptions { Seeds = [0, 1], Folds = 2, CalibrationClips = 4, IncludeHead = false };
        var rows = SpeakerAdaptationExperiment.Run(new MLContext(0), set, "none", o);
        var plain = rows.Single(r => r.Protocol == AdaptationProtocol.None);
        var transductive = rows.Single(r => r.Protocol == AdaptationProtocol.Transductive);
        var calibrated = rows.Single(r => r.Protocol == AdaptationProtocol.Calibration);
        // Round-robin folds of the sorted speakers; 2 folds × 2 seeds runs per row.
        Assert.Equal(["s1 s3", "s2 s4"], plain.Runs.Select(r => r.Speaker).Distinct());
        Assert.Equal(4, calibrated.Runs.Count);
        Assert.All(transductive.Runs, r => Assert.Equal(24, r.Scored));
        // Each of the fold's 2 speakers gives 4 calibration clips and is scored on its other 8.
        Assert.All(calibrated.Runs, r => Assert.Equal(16, r.Scored));
        Assert.Equal(1.0, transductive.Mean, 3);
        Assert.True(calibrated.Mean > 0.9, $"calibrated {calibrated.Mean:P1}");
        Assert.True(plain.Mean < 0.8, $"plain {plain.Mean:P1}");
        var table = SpeakerAdaptationExperiment.Markdown(rows, "test", set, o);
        Assert.Contains("2 folds by speaker × seeds 0, 1", table);
        Assert.Contains("per held-out fold (mean over seeds)", table);
    }

    [Fact]
    public void AudioSubsetsSplitTheProbesInputIntoFaceWithTheCnnPartTheFunctionalsPartOrBoth()
    {
        var clips = new[] { new ClipRecord("a.mp4", "happy", "01") };
        var set = new FusionFeatureSet { Clips = clips, Frames = 1, FrameMask = [[1]] };
        set.Face["f"] = ([[0f, 0f]], 2);
        set.AudioShape = (4, 3 + AcousticFeatureNames.Count);
        var subsets = EmotionML.Cli.Commands.SpeakerAdaptationEvaluation.AudioSubsets(set, "f");
        Assert.Equal(["CNN + functionals", "CNN", "functionals"], subsets.Select(s => s.Name));
        Assert.Equal(Enumerable.Range(0, 2 + 3 + 65), subsets[0].Columns);
        Assert.Equal([0, 1, 2, 3, 4], subsets[1].Columns);
        Assert.Equal(new[] { 0, 1 }.Concat(Enumerable.Range(5, 65)), subsets[2].Columns);
        Assert.Equal([[3f, 1f], null!], SpeakerAdaptationExperiment.Project([[1f, 2f, 3f], null!], [2, 0]));
    }

    [Fact]
    public void TheProtocolChoosesTheInformativeSubsetOnTheTrainingSpeakers()
    {
        // Column 0 carries the class, columns 1–3 are noise: a probe on the noise alone is at chance.
        var clips = new List<ClipRecord>();
        var audio = new List<float[]>();
        var rng = new Random(9);
        foreach (var speaker in new[] { "a", "b", "c", "d" })
            for (var i = 0; i < 10; i++)
            {
                clips.Add(new ClipRecord($"{speaker}{i}.wav", i % 2 == 0 ? "x" : "y", speaker));
                audio.Add([i % 2 + 0.2f * (float)rng.NextDouble(), (float)rng.NextDouble(), (float)rng.NextDouble(), (float)rng.NextDouble()]);
            }
        var set = new FusionFeatureSet { Clips = clips, Frames = 1, FrameMask = new float[clips.Count][], Audio = [.. audio], AudioMask = clips.Select(_ => new float[] { 1 }).ToArray(), AudioShape = (1, 4) };
        var o = new SpeakerAdaptationOptions { Seeds = [0], CalibrationClips = 4, IncludeHead = false, FeatureSubsets = [("noise", [1, 2, 3]), ("signal", [0])] };
        var rows = SpeakerAdaptationExperiment.Run(new MLContext(0), set, "none", o);
        foreach (var row in rows.Where(r => r.Protocol != AdaptationProtocol.Calibration))
        {
            Assert.All(row.Runs, r => Assert.StartsWith("signal, ", r.Chosen));
            Assert.Equal(1.0, row.Mean, 3);
        }
    }

    [Fact]
    public void MeanScoreAccuracyTakesTheClassWithTheHighestMeanProbability()
    {
        // Row 0: probe A says class 0 (0.6), probe B says class 1 (0.9): the mean picks 1. Row 1: both say 2.
        float[][] a = [[0.6f, 0.3f, 0.1f], [0.1f, 0.2f, 0.7f]];
        float[][] b = [[0.05f, 0.9f, 0.05f], [0.2f, 0.2f, 0.6f]];
        Assert.Equal(1.0, SpeakerAdaptationExperiment.MeanScoreAccuracy([a, b], [1, 2], [0, 1], 3));
        Assert.Equal(0.5, SpeakerAdaptationExperiment.MeanScoreAccuracy([a], [1, 2], [0, 1], 3));
        Assert.Throws<InvalidOperationException>(() => SpeakerAdaptationExperiment.MeanScoreAccuracy([a], [1, 2], [0, 1], 4));
    }

    [Fact]
    public void LateFusionRowsAverageAFaceProbeAndAnAudioProbe()
    {
        // Three classes: the face value tells class 0 from the others, the audio value class 2 from the others; only
        // both together tell all three apart, so each part alone is at most 2/3 right and the late fusion well above that.
        var clips = new List<ClipRecord>();
        var face = new List<float[]>();
        var audio = new List<float[]>();
        var rng = new Random(2);
        foreach (var speaker in new[] { "a", "b", "c", "d" })
            for (var i = 0; i < 12; i++)
            {
                var label = i % 3;
                clips.Add(new ClipRecord($"{speaker}{i}.mp4", $"c{label}", speaker));
                face.Add([(label == 0 ? 1f : 0f) + 0.1f * (float)rng.NextDouble()]);
                audio.Add([(label == 2 ? 1f : 0f) + 0.1f * (float)rng.NextDouble()]);
            }
        var set = new FusionFeatureSet { Clips = clips, Frames = 1, FrameMask = clips.Select(_ => new float[] { 1 }).ToArray(), Audio = [.. audio], AudioMask = clips.Select(_ => new float[] { 1 }).ToArray(), AudioShape = (1, 1) };
        set.Face["f"] = ([.. face], 1);
        var o = new SpeakerAdaptationOptions { Seeds = [0], CalibrationClips = 3, IncludeHead = false, LateFusion = true };
        var rows = SpeakerAdaptationExperiment.Run(new MLContext(0), set, "f", o);
        var late = rows.Where(r => r.Model.StartsWith("late fusion")).ToList();
        Assert.Equal(3, late.Count);
        var plain = late.Single(r => r.Protocol == AdaptationProtocol.None);
        Assert.True(plain.Mean > 0.85, $"late fusion {plain.Mean:P1}");
        Assert.All(plain.Runs, r => Assert.StartsWith("L2 face ", r.Chosen));
        Assert.Equal(4, plain.Runs.Count);
        // The per-fold choice between the joint probe and the late fusion takes one of the two runs as it is.
        var either = rows.Where(r => r.Model.StartsWith("joint or late")).ToList();
        Assert.Equal(3, either.Count);
        foreach (var row in either)
            for (var i = 0; i < row.Runs.Count; i++)
            {
                var run = row.Runs[i];
                var isLate = run.Chosen.StartsWith("late, ");
                Assert.True(isLate || run.Chosen.StartsWith("joint, "), run.Chosen);
                var source = rows.Single(r => r.Protocol == row.Protocol && r.Model == (isLate ? "late fusion: face probe + audio probe" : "linear probe"));
                Assert.Equal(source.Runs[i].Accuracy, run.Accuracy);
            }
    }

    [Fact]
    public void TheCalibrationDrawDependsOnlyOnTheSeedAndTheSpeakerNotOnTheProcess()
    {
        // Literal values: a draw seeded by a per-process hash (HashCode.Combine) would change from one test run to the next.
        var rows = Enumerable.Range(100, 24).ToArray();
        var (calibration, scored) = SpeakerAdaptationExperiment.CalibrationSplit(rows, 6, 1, "03");
        Assert.Equal([104, 109, 111, 117, 118, 119], calibration);
        Assert.Equal(rows.Except(calibration), scored);
        Assert.NotEqual(calibration, SpeakerAdaptationExperiment.CalibrationSplit(rows, 6, 2, "03").Calibration);
    }

    [Fact]
    public void TheCacheKeyFollowsTheSettingsThatChangeTheValuesNotTheColumnNames()
    {
        var key = AcousticFeatureSet.Settings(new AcousticFeaturesOptions());
        Assert.Equal(key, AcousticFeatureSet.Settings(new AcousticFeaturesOptions { MaskColumnName = "M", OutputColumnName = "X", RejectEmptyAudio = true }));
        Assert.NotEqual(key, AcousticFeatureSet.Settings(new AcousticFeaturesOptions { PitchCeiling = 400 }));
        Assert.NotEqual(key, AcousticFeatureSet.Settings(new AcousticFeaturesOptions { VoicingThreshold = 0.4 }));
        Assert.NotEqual(key, AcousticFeatureSet.Settings(new AcousticFeaturesOptions { ActivityRangeDb = 30 }));
    }

    [Fact]
    public void AClipListedTwiceGetsItsFunctionalsTwiceBesideAFailedClip()
    {
        var clips = RavdessWithAMissingClip().Take(3).ToList();
        clips.Add(new ClipRecord(clips[0].Path, clips[0].Label, clips[0].Speaker));
        var (values, active, failures) = AcousticFeatureSet.Compute(new MLContext(0), clips);
        Assert.Same(clips[1], Assert.Single(failures).Clip);
        Assert.Equal(values[0], values[3]);
        Assert.Equal(active[0], active[3]);
        Assert.True(active[0] > 0);
    }
}
