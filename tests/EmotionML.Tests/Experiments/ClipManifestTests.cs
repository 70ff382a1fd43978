using EmotionML.Experiments;
using Xunit;

namespace EmotionML.Tests.Experiments;

public sealed class ClipManifestTests
{
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
