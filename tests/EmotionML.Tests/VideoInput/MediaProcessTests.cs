using System.Diagnostics;
using EmotionML.VideoInput;
using Microsoft.ML;
using Xunit;

namespace EmotionML.Tests.VideoInput;

/// <summary>The ffmpeg/ffprobe child processes: time limit, cancellation, and ffprobe output that cannot be read.</summary>
public sealed class MediaProcessTests
{
    private static readonly string Clip = TestData.Javanese("01-01-01_01.mp4");

    /// <summary>A stand-in program that writes its process id to <paramref name="pidFile"/> and then hangs.</summary>
    private static string Hanging(string dir, string pidFile) => MediaTools.Script(Path.Combine(dir, "hang.sh"), $"echo $$ > '{pidFile}'\nexec sleep 60");

    private static int WaitForPid(string pidFile)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid)) return pid;
            Thread.Sleep(20);
        }
        throw new TimeoutException("the stand-in never started");
    }

    private static void AssertGone(int pid)
    {
        var sw = Stopwatch.StartNew();
        while (MediaTools.IsRunning(pid) && sw.Elapsed < TimeSpan.FromSeconds(5)) Thread.Sleep(20);
        Assert.False(MediaTools.IsRunning(pid), $"process {pid} is still running");
    }

    [Fact]
    public void HangingProbeIsKilledAfterTheTimeoutWithATypedError()
    {
        var dir = TestData.TempDir("timeout");
        var pidFile = Path.Combine(dir, "pid");
        var options = new VideoInputOptions { ProcessTimeout = TimeSpan.FromSeconds(1) };
        var decoder = new MediaDecoder(options) { Ffprobe = Hanging(dir, pidFile), ReadHeaders = false };
        var sw = Stopwatch.StartNew();
        var e = Assert.Throws<MediaFileException>(() => new VideoInputTransformer(new MLContext(1), options).Decode(Clip, decoder));
        Assert.InRange(sw.Elapsed.TotalSeconds, 0.9, 20);
        Assert.Equal(MediaProblem.TimedOut, e.Problem);
        Assert.Contains("hang.sh was stopped after ProcessTimeout = 1 s", e.Message);
        AssertGone(WaitForPid(pidFile));
    }

    [Fact]
    public void HangingDecoderIsKilledAfterTheTimeout()
    {
        var dir = TestData.TempDir("timeout-ffmpeg");
        var pidFile = Path.Combine(dir, "pid");
        // The real probe runs without the short limit (on a loaded machine it may take more than a second itself).
        var prober = new MediaDecoder(new VideoInputOptions());
        var full = prober.CheckFile(Clip);
        var info = prober.Probe(Clip, full);
        var decoder = new MediaDecoder(new VideoInputOptions { ProcessTimeout = TimeSpan.FromSeconds(1) }) { Ffmpeg = Hanging(dir, pidFile) };
        var e = Assert.Throws<MediaFileException>(() => decoder.Decode(Clip, full, info, [0, 1], decodeAudio: true));
        Assert.Equal(MediaProblem.TimedOut, e.Problem);
        Assert.Contains("hang.sh was stopped after ProcessTimeout = 1 s", e.Message);
        AssertGone(WaitForPid(pidFile));
    }

    [Fact]
    public void CancellationKillsTheRunningDecoder()
    {
        var dir = TestData.TempDir("cancel");
        var pidFile = Path.Combine(dir, "pid");
        var options = new VideoInputOptions();
        var decoder = new MediaDecoder(options) { Ffmpeg = Hanging(dir, pidFile) };
        using var cts = new CancellationTokenSource();
        var task = Task.Run(() => new VideoInputTransformer(new MLContext(1), options).Decode(Clip, decoder, cts.Token));
        var pid = WaitForPid(pidFile);
        Assert.True(MediaTools.IsRunning(pid));
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => task.GetAwaiter().GetResult());
        AssertGone(pid);
    }

    public static TheoryData<string, string> MalformedProbeOutputs() => new()
    {
        { "not json at all", "ffprobe output is not valid JSON" },
        { "[1, 2]", "the top level is not an object" },
        { """{"streams": {"codec_type": "video"}}""", "'streams' is not an array" },
        { """{"streams": [{"index": 0, "codec_type": "video"}]}""", "the video stream states no frame size" },
        { """{"streams": [{"index": 0, "codec_type": "video", "width": "wide", "height": 270}]}""", "the video stream states no frame size" },
        { """{"streams": [{"codec_type": "audio", "sample_rate": "44100"}]}""", "a stream has no index" },
        { """{"streams": [{"index": 0, "codec_type": 7}]}""", "no audio or video stream" },
    };

    [Theory]
    [MemberData(nameof(MalformedProbeOutputs))]
    public void MalformedProbeOutputGivesATypedError(string json, string detail)
    {
        var e = Assert.Throws<MediaFileException>(() => MediaDecoder.ParseProbe("clip.mp4", json));
        Assert.Contains(detail, e.Message);
        Assert.StartsWith("clip.mp4: ", e.Message);
        Assert.Equal(detail == "no audio or video stream" ? MediaProblem.NotMedia : MediaProblem.Corrupt, e.Problem);
    }

    [Fact]
    public void MalformedProbeOutputFromTheProgramGivesATypedError()
    {
        var dir = TestData.TempDir("bad-probe");
        var options = new VideoInputOptions();
        var decoder = new MediaDecoder(options) { Ffprobe = MediaTools.Script(Path.Combine(dir, "probe.sh"), """echo '{"streams": [{"index": 0, "codec_type": "video", "height": 270}]}'"""), ReadHeaders = false };
        var e = Assert.Throws<MediaFileException>(() => new VideoInputTransformer(new MLContext(1), options).Decode(Clip, decoder));
        Assert.Equal(MediaProblem.Corrupt, e.Problem);
        Assert.Contains("the video stream states no frame size", e.Message);
    }

    [Fact]
    public void MissingDecoderProgramIsDecoderUnavailable()
    {
        var options = new VideoInputOptions();
        var decoder = new MediaDecoder(options) { Ffprobe = "/nonexistent/ffprobe", ReadHeaders = false };
        var e = Assert.Throws<MediaFileException>(() => new VideoInputTransformer(new MLContext(1), options).Decode(Clip, decoder));
        Assert.Equal(MediaProblem.DecoderUnavailable, e.Problem);
        // An MP4 whose headers are read in process needs no ffprobe, but still ffmpeg.
        decoder = new MediaDecoder(options) { Ffmpeg = "/nonexistent/ffmpeg", Ffprobe = "/nonexistent/ffprobe" };
        e = Assert.Throws<MediaFileException>(() => new VideoInputTransformer(new MLContext(1), options).Decode(Clip, decoder));
        Assert.Equal(MediaProblem.DecoderUnavailable, e.Problem);
    }
}
