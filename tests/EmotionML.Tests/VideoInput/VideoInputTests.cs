using EmotionML.VideoInput;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace EmotionML.Tests.VideoInput;

public sealed class VideoInputTests
{
    private readonly MLContext _ml = new(seed: 1);

    private sealed class Clip { public string VideoPath { get; set; } = ""; }

    private (int Count, int W, int H, float[] Times, float[] Audio, byte[] Frames) Decode(string path, VideoInputOptions? options = null)
    {
        var data = _ml.Data.LoadFromEnumerable([new Clip { VideoPath = path }]);
        var t = _ml.Transforms.LoadVideo(options ?? new VideoInputOptions()).Fit(data);
        var output = t.Transform(data);
        var row = output.Preview(1).RowView[0].Values.ToDictionary(kv => kv.Key, kv => kv.Value);
        return ((int)row["FrameCount"], (int)row["FrameWidth"], (int)row["FrameHeight"],
            ((VBuffer<float>)row["FrameTimes"]).DenseValues().ToArray(), ((VBuffer<float>)row["Audio"]).DenseValues().ToArray(),
            ((VBuffer<byte>)row["Frames"]).DenseValues().ToArray());
    }

    public static TheoryData<string> RealClips() =>
    [
        TestData.Javanese("01-01-01_01.mp4"), TestData.Javanese("03-02-04_01.mp4"), TestData.Javanese("07-04-06_01.mp4"),
        TestData.CremadVideo("ANG"), TestData.CremadVideo("SAD"),
    ];

    [Theory]
    [MemberData(nameof(RealClips))]
    public void FrameCountsAndDurationsAgreeWithFfprobe(string path)
    {
        var total = MediaTools.CountFrames(path);
        var videoDuration = MediaTools.StreamDuration(path, "v:0");
        var audioDuration = MediaTools.StreamDuration(path, "a:0");
        var (count, w, h, times, audio, frames) = Decode(path);

        Assert.Equal(Math.Min(16, total), count);
        Assert.Equal(count * w * h * 3, frames.Length);
        Assert.Equal(count, times.Length);
        Assert.True(times.Zip(times.Skip(1)).All(p => p.Second > p.First), "frame times increase");
        Assert.InRange(times[^1], videoDuration * 0.8, videoDuration);
        Assert.InRange(audio.Length / 16000.0, audioDuration - 0.05, audioDuration + 0.05);
        Assert.True(audio.Max(Math.Abs) > 0.01, "audio is not silent");
        // Frames are real pictures: not constant.
        Assert.True(frames.Distinct().Count() > 50);
    }

    [Fact]
    public void RatePolicyDecodesFramesAtTheRequestedRate()
    {
        var path = TestData.Javanese("02-03-05_01.mp4");
        var duration = MediaTools.StreamDuration(path, "v:0");
        var (count, _, _, times, _, _) = Decode(path, new VideoInputOptions { Sampling = FrameSampling.Rate, FramesPerSecond = 4, FrameCount = 100 });
        Assert.InRange(count, (int)(duration * 4) - 1, (int)(duration * 4) + 1);
        Assert.InRange(times[1] - times[0], 0.2, 0.3);
        var capped = Decode(path, new VideoInputOptions { Sampling = FrameSampling.Rate, FramesPerSecond = 30, FrameCount = 10 });
        Assert.Equal(10, capped.Count);
    }

    [Fact]
    public void UniformSelectionIsSpreadOverTheClip()
    {
        var o = new VideoInputOptions { FrameCount = 4 };
        Assert.Equal([12, 37, 62, 87], o.SelectFrames(100, 30));
        Assert.Equal([0, 1, 2], o.SelectFrames(3, 30));
        Assert.Empty(o.SelectFrames(0, 30));
    }

    [Fact]
    public void LargeFramesAreScaledDown()
    {
        var (_, w, h, _, _, _) = Decode(TestData.CremadVideo("HAP"), new VideoInputOptions { MaxFrameSide = 240 });
        Assert.Equal(240, w);
        Assert.Equal(180, h);
    }

    [Fact]
    public void MissingFileGivesTypedErrorWithPath()
    {
        var path = Path.Combine(TestData.TempDir("missing"), "nope.mp4");
        var e = Assert.Throws<MediaFileException>(() => Decode(path));
        Assert.Equal(MediaProblem.Missing, e.Problem);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void EmptyFileGivesTypedError()
    {
        var path = Path.Combine(TestData.TempDir("empty"), "empty.mp4");
        File.WriteAllBytes(path, []);
        Assert.Equal(MediaProblem.Empty, Assert.Throws<MediaFileException>(() => Decode(path)).Problem);
    }

    [Fact]
    public void TextFileRenamedMp4IsNotMedia()
    {
        var path = Path.Combine(TestData.TempDir("text"), "notes.mp4");
        File.WriteAllText(path, "These are meeting notes, not a video.\nSecond line.\n");
        var e = Assert.Throws<MediaFileException>(() => Decode(path));
        Assert.Equal(MediaProblem.NotMedia, e.Problem);
        Assert.Contains("notes.mp4", e.Message);
    }

    [Fact]
    public void TruncatedMp4IsCorrupt()
    {
        var source = File.ReadAllBytes(TestData.Javanese("01-01-01_01.mp4"));
        var path = Path.Combine(TestData.TempDir("trunc"), "truncated.mp4");
        File.WriteAllBytes(path, source.AsSpan(0, source.Length / 3).ToArray());
        var e = Assert.Throws<MediaFileException>(() => Decode(path));
        Assert.Equal(MediaProblem.Corrupt, e.Problem);
    }

    [Fact]
    public void ClipWithoutAudioThrowsOrGivesEmptyAudio()
    {
        var path = MediaTools.Make(Path.Combine(TestData.TempDir("noaudio"), "silent.mp4"), "-i", TestData.Javanese("01-01-02_01.mp4"), "-an", "-c:v", "copy");
        Assert.Equal(MediaProblem.NoAudio, Assert.Throws<MediaFileException>(() => Decode(path)).Problem);
        var (count, _, _, _, audio, _) = Decode(path, new VideoInputOptions { MissingAudio = MissingStreamPolicy.Empty });
        Assert.Empty(audio);
        Assert.Equal(16, count);
    }

    [Fact]
    public void AudioOnlyFileThrowsOrGivesNoFrames()
    {
        var path = TestData.CremadAudio("NEU");
        Assert.Equal(MediaProblem.NoVideo, Assert.Throws<MediaFileException>(() => Decode(path)).Problem);
        var (count, _, _, _, audio, frames) = Decode(path, new VideoInputOptions { MissingVideo = MissingStreamPolicy.Empty });
        Assert.Equal(0, count);
        Assert.Empty(frames);
        Assert.InRange(audio.Length / 16000.0, 1.0, 4.0);
    }

    [Fact]
    public void EstimatorRejectsMissingOrMistypedInputColumn()
    {
        var data = _ml.Data.LoadFromEnumerable([new { Other = "x" }]);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => _ml.Transforms.LoadVideo().Fit(data));
        Assert.Contains("VideoPath", e.Message);
        var numeric = _ml.Data.LoadFromEnumerable([new { VideoPath = 3f }]);
        Assert.Throws<ArgumentOutOfRangeException>(() => _ml.Transforms.LoadVideo().Fit(numeric));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ml.Transforms.LoadVideo(new VideoInputOptions { FrameCount = 0 }));
    }
}
