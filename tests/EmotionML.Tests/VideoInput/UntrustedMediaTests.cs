using EmotionML.VideoInput;
using Microsoft.ML;
using Xunit;

namespace EmotionML.Tests.VideoInput;

/// <summary>
/// Uploaded files may be crafted to make ffmpeg read beyond them: playlists and concat lists that name other files,
/// URLs and protocol prefixes as the path. Each is refused with a typed error, and the other file is never opened.
/// </summary>
public sealed class UntrustedMediaTests
{
    private static readonly string Source = TestData.Javanese("01-01-01_01.mp4");

    private static VideoInputTransformer Stage(VideoInputOptions? options = null) => new(new MLContext(seed: 1), options ?? new VideoInputOptions { FrameCount = 2 });

    /// <summary>
    /// A FIFO as the file a crafted input names: opening it for reading would let the writer below through, so a
    /// writer still waiting after the refusal proves that nothing opened it.
    /// </summary>
    private sealed class Tripwire : IDisposable
    {
        private readonly Task _writer;

        public Tripwire(string path)
        {
            Path = path;
            MediaTools.Run("mkfifo", path);
            _writer = Task.Run(() =>
            {
                using var w = new FileStream(path, FileMode.Open, FileAccess.Write);
                w.WriteByte(0);
            });
        }

        public string Path { get; }

        public bool WasOpened => _writer.Wait(TimeSpan.FromMilliseconds(500));

        public void Dispose()
        {
            // Release the waiting writer.
            if (!_writer.IsCompleted)
                using (var r = new FileStream(Path, FileMode.Open, FileAccess.Read))
                    r.ReadByte();
            _writer.Wait(TimeSpan.FromSeconds(5));
        }
    }

    [Fact]
    public void HlsPlaylistNamedMp4IsRefusedAndTheClipItNamesIsNotRead()
    {
        var dir = TestData.TempDir("hls");
        MediaTools.Make(Path.Combine(dir, "other.ts"), "-i", Source, "-c", "copy", "-f", "mpegts");
        var playlist = Path.Combine(dir, "x.mp4");
        File.WriteAllText(playlist, "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nother.ts\n#EXT-X-ENDLIST\n");
        // Without the whitelists ffmpeg plays the playlist: the other clip's frames come out.
        Assert.NotEmpty(MediaTools.RunBinary("ffmpeg", "-nostdin", "-v", "error", "-i", playlist, "-frames:v", "1", "-f", "rawvideo", "pipe:1"));

        var e = Assert.Throws<MediaFileException>(() => Stage().Decode(playlist));
        Assert.Equal(MediaProblem.UnsupportedFormat, e.Problem);
        Assert.Contains("ffprobe reads it as 'hls'", e.Message);
        Assert.StartsWith(playlist, e.Message);

        // The tripwire works: a plain ffprobe of such a playlist opens the FIFO it names.
        var control = Path.Combine(dir, "control.mp4");
        File.WriteAllText(control, "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\ncontrol.ts\n#EXT-X-ENDLIST\n");
        using (var opened = new Tripwire(Path.Combine(dir, "control.ts")))
        {
            Assert.ThrowsAny<InvalidOperationException>(() => MediaTools.Run("ffprobe", "-v", "error", control));
            Assert.True(opened.WasOpened, "plain ffprobe did not open the segment: the tripwire cannot see anything");
        }

        var trap = Path.Combine(dir, "trap.mp4");
        File.WriteAllText(trap, "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nsegment.ts\n#EXT-X-ENDLIST\n");
        using var tripwire = new Tripwire(Path.Combine(dir, "segment.ts"));
        Assert.Equal(MediaProblem.UnsupportedFormat, Assert.Throws<MediaFileException>(() => Stage().Decode(trap)).Problem);
        Assert.False(tripwire.WasOpened, "the segment named by the playlist was opened");
    }

    [Fact]
    public void ConcatListNamedMp4IsRefusedAndTheFileItNamesIsNotRead()
    {
        var dir = TestData.TempDir("concat");
        File.Copy(Source, Path.Combine(dir, "other.mp4"));
        var list = Path.Combine(dir, "list.mp4");
        File.WriteAllText(list, "ffconcat version 1.0\nfile other.mp4\n");
        Assert.NotEmpty(MediaTools.RunBinary("ffmpeg", "-nostdin", "-v", "error", "-i", list, "-frames:v", "1", "-f", "rawvideo", "pipe:1"));

        var e = Assert.Throws<MediaFileException>(() => Stage().Decode(list));
        Assert.Equal(MediaProblem.UnsupportedFormat, e.Problem);
        Assert.Contains("ffprobe reads it as 'concat'", e.Message);

        var trap = Path.Combine(dir, "trap.mp4");
        File.WriteAllText(trap, "ffconcat version 1.0\nfile part.mp4\n");
        using var tripwire = new Tripwire(Path.Combine(dir, "part.mp4"));
        Assert.Equal(MediaProblem.UnsupportedFormat, Assert.Throws<MediaFileException>(() => Stage().Decode(trap)).Problem);
        Assert.False(tripwire.WasOpened, "the file named by the concat list was opened");
    }

    [Theory]
    [InlineData("http://127.0.0.1:9/clip.mp4")]
    [InlineData("https://example.com/clip.mp4")]
    [InlineData("file:///etc/passwd")]
    [InlineData("concat:/a.mp4|/b.mp4")]
    [InlineData("subfile,,start,0,end,100,,:/etc/passwd")]
    [InlineData("data:video/mp4;base64,AAAA")]
    [InlineData("pipe:0")]
    public void UrlsAndProtocolPrefixesAreRefusedBeforeAnyProcessRuns(string path)
    {
        var options = new VideoInputOptions();
        // No program is started: a decoder whose programs do not exist still gives NotAFile, not DecoderUnavailable.
        var decoder = new MediaDecoder(options) { Ffmpeg = "/nonexistent/ffmpeg", Ffprobe = "/nonexistent/ffprobe" };
        var e = Assert.Throws<MediaFileException>(() => Stage(options).Decode(path, decoder));
        Assert.Equal(MediaProblem.NotAFile, e.Problem);
        Assert.StartsWith(path, e.Message);
    }

    [Fact]
    public void DirectoriesAndDevicesAreRefused()
    {
        Assert.Equal(MediaProblem.NotAFile, Assert.Throws<MediaFileException>(() => Stage().Decode(TestData.TempDir("a-dir"))).Problem);
        Assert.Equal(MediaProblem.Empty, Assert.Throws<MediaFileException>(() => Stage().Decode("/dev/zero")).Problem);
        var dir = TestData.TempDir("fifo");
        var fifo = Path.Combine(dir, "pipe.mp4");
        MediaTools.Run("mkfifo", fifo);
        Assert.Equal(MediaProblem.Empty, Assert.Throws<MediaFileException>(() => Stage().Decode(fifo)).Problem);
    }

    [Fact]
    public void ANameThatLooksLikeAnOptionIsReadAsAFile()
    {
        var dir = TestData.TempDir("dash");
        var odd = Path.Combine(dir, "-i.mp4");
        File.Copy(Source, odd);
        var expected = Stage().Decode(Source).Frames.Pixels;
        // Tests do not run in parallel (xunit.runner.json), so the working directory can be moved for a moment.
        var cwd = Environment.CurrentDirectory;
        Environment.CurrentDirectory = dir;
        try
        {
            Assert.Equal(expected, Stage().Decode("-i.mp4").Frames.Pixels);
            Assert.Equal("file:" + odd, MediaDecoder.FileUrl(new MediaDecoder(new VideoInputOptions()).CheckFile("-i.mp4")));
        }
        finally
        {
            Environment.CurrentDirectory = cwd;
        }
    }

    [Fact]
    public void LimitsAreCheckedBeforeDecoding()
    {
        var size = new FileInfo(Source).Length;
        var e = Assert.Throws<MediaFileException>(() => Stage(new VideoInputOptions { MaxFileBytes = size - 1 }).Decode(Source));
        Assert.Equal(MediaProblem.TooLarge, e.Problem);
        Assert.Contains($"{size} bytes; the limit is MaxFileBytes = {size - 1}", e.Message);

        e = Assert.Throws<MediaFileException>(() => Stage(new VideoInputOptions { MaxDurationSeconds = 2 }).Decode(Source));
        Assert.Equal(MediaProblem.TooLarge, e.Problem);
        Assert.Contains("3.814 s long; the limit is MaxDurationSeconds = 2", e.Message);

        e = Assert.Throws<MediaFileException>(() => Stage(new VideoInputOptions { MaxSourceFrameSide = 320 }).Decode(Source));
        Assert.Equal(MediaProblem.TooLarge, e.Problem);
        Assert.Contains("frames of 360x270; the limit is MaxSourceFrameSide = 320", e.Message);

        // A container that understates its duration passes the check; the decode stops at the limit and says so.
        var dir = TestData.TempDir("understated");
        var probe = MediaTools.Script(Path.Combine(dir, "probe.sh"), "ffprobe \"$@\" | sed -E 's/\"duration\": \"[0-9.]+\"/\"duration\": \"1.0\"/g'");
        var limited = new VideoInputOptions { MaxDurationSeconds = 2 };
        e = Assert.Throws<MediaFileException>(() => Stage(limited).Decode(Source, new MediaDecoder(limited) { Ffprobe = probe, ReadHeaders = false }));
        Assert.Equal(MediaProblem.TooLarge, e.Problem);
        Assert.Contains("more than MaxDurationSeconds = 2 s of audio", e.Message);

        Assert.Throws<ArgumentOutOfRangeException>(() => new VideoInputOptions { ProcessTimeout = TimeSpan.Zero }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new VideoInputOptions { MaxDurationSeconds = double.NaN }.Validate());
    }
}
