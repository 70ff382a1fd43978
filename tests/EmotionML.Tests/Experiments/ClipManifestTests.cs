using EmotionML.Experiments;
using EmotionML.FaceFeatures;
using Xunit;

namespace EmotionML.Tests.Experiments;

public sealed class ClipManifestTests
{
    [Fact]
    public void FoldRowsSplitTheRowsByTheFoldsSpeakers()
    {
        var clips = new[] { "a", "b", "c", "a", "c", "b", "c" }.Select((sp, i) => new ClipRecord($"{i}.mp4", "happy", sp)).ToList();
        var folds = ClipManifest.FoldRows(clips, 3).ToList();
        Assert.Equal(ClipManifest.SpeakerFolds(clips, 3).Select(f => string.Join(",", f)), folds.Select(f => string.Join(",", f.Speakers)));
        foreach (var (speakers, test, train) in folds)
        {
            Assert.All(test, i => Assert.Contains(clips[i].Speaker, speakers));
            Assert.All(train, i => Assert.DoesNotContain(clips[i].Speaker, speakers));
            Assert.Equal(Enumerable.Range(0, clips.Count), test.Concat(train).Order());
        }
        // Each row is a test row of exactly one fold (speaker c: rows 2, 4, 6).
        Assert.Equal(Enumerable.Range(0, clips.Count), folds.SelectMany(f => f.Test).Order());
        Assert.Equal([2, 4, 6], folds.Single(f => f.Speakers.Contains("c")).Test);
    }

    [Fact]
    public void SharedDatasetKeepsAudioOnlyRowsLikeTheManifestCommand()
    {
        // One reader, one rule: every labelled row, audio-only CREMA-D files included.
        var clips = ClipManifest.FromShared("cremad-av-sample");
        Assert.Equal(12, clips.Count);
        Assert.Equal(6, clips.Count(c => c.Path.EndsWith(".mp3", StringComparison.Ordinal)));
        Assert.All(clips, c => Assert.True(File.Exists(c.Path), c.Path));
        var csv = Path.Combine(TestData.TempDir("manifest-rule"), "m.csv");
        ClipManifest.Write(csv, clips, relative: true);
        Assert.Equal(clips, ClipManifest.Read(csv));
    }

    [Fact]
    public void AudioOnlyRowsGetAnAllZeroFrameMaskInTheExperiments()
    {
        // The documented rule: an audio-only clip is kept; its face side is absent (mask 0), not an error.
        var audioOnly = ClipManifest.FromShared("cremad-av-sample").First(c => c.Path.EndsWith(".mp3", StringComparison.Ordinal));
        var video = new ClipRecord(TestData.Javanese("01-01-01_01.mp4"), "neutral", "01");
        var set = new FusionFeatureSet { Clips = [video, audioOnly], Frames = 2, FrameMask = new float[2][] };
        var cache = Environment.GetEnvironmentVariable("EMOTIONML_CACHE");
        Environment.SetEnvironmentVariable("EMOTIONML_CACHE", TestData.TempDir("audio-only-cache"));
        try
        {
            FusionExperiment.AddFaceFeatures(new Microsoft.ML.MLContext(0), set,
                [new FaceVariant("basic-minixception", new FaceFeatureOptions { Backbone = FaceBackboneKind.MiniXception })]);
        }
        finally
        {
            Environment.SetEnvironmentVariable("EMOTIONML_CACHE", cache);
        }
        Assert.Empty(set.Failures);
        Assert.Equal(new[] { 1f, 1f }, set.FrameMask[0]);
        Assert.Equal(new[] { 0f, 0f }, set.FrameMask[1]);
        Assert.Equal(new[] { 2, 0 }, set.FramesWithFace);
    }

    [Fact]
    public void QuotedFieldsRoundTrip()
    {
        var dir = TestData.TempDir("manifest-quote");
        var clips = new List<ClipRecord> { new(Path.Combine(dir, "a, \"b\".mp4"), "happy", "0,1"), new(Path.Combine(dir, "c.mp4"), "sad", "2") };
        var csv = Path.Combine(dir, "m.csv");
        ClipManifest.Write(csv, clips, relative: false);
        Assert.Equal(clips, ClipManifest.Read(csv));
    }

    [Fact]
    public void UnknownDatasetIsATypedError()
    {
        var e = Assert.Throws<InvalidInputException>(() => ClipManifest.FromShared("nope"));
        Assert.Equal("dataset 'nope': unknown (known: javanese-av, cremad-av-sample, ravdess-speech-16k).", e.Message);
    }
}
