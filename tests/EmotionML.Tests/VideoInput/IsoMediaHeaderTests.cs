using EmotionML.VideoInput;
using Microsoft.ML;
using Xunit;

namespace EmotionML.Tests.VideoInput;

/// <summary>
/// The in-process MP4/MOV header reader against ffprobe on the same files: every field the decoder uses must agree, and
/// every file the reader is not sure of (other containers, truncated, fragmented, rotated MP4s) must go to ffprobe.
/// </summary>
public sealed class IsoMediaHeaderTests : IClassFixture<IsoMediaHeaderTests.Files>
{
    private static readonly string Real = TestData.Javanese("01-01-01_01.mp4");
    private readonly Files _files;

    public IsoMediaHeaderTests(Files files) => _files = files;

    /// <summary>Test files made once by ffmpeg in a temp folder.</summary>
    public sealed class Files
    {
        public string Dir { get; } = TestData.TempDir("iso-header");

        private readonly Dictionary<string, string> _made = [];

        public string Get(string name)
        {
            lock (_made)
            {
                if (_made.TryGetValue(name, out var done)) return done;
                var path = Path.Combine(Dir, name);
                var src = new[] { "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "2" };
                string[] args = name switch
                {
                    // libx264's default (B-frames: composition offsets and an edit list) with AAC (priming edit).
                    "bframes-aac.mp4" => [.. src, "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac"],
                    "faststart.mp4" => ["-i", Real, "-c", "copy", "-movflags", "+faststart"],
                    "quicktime.mov" => [.. src, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"],
                    "video-only.mp4" => ["-f", "lavfi", "-i", "testsrc=size=96x72:rate=10", "-t", "3", "-c:v", "libx264", "-preset", "ultrafast"],
                    "surround.m4a" => ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "1.5", "-ac", "6", "-c:a", "aac"],
                    "vfr.mp4" => ["-t", "2", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=20", "-vf", "settb=1/1000,setpts='if(lt(N,20),N*0.1,2+(N-20)*0.02)/TB'",
                        "-fps_mode", "vfr", "-c:v", "libx264", "-preset", "ultrafast", "-video_track_timescale", "1000"],
                    "rotated.mp4" => ["-i", Real, "-c", "copy", "-metadata:s:v:0", "rotate=90"],
                    "fragmented.mp4" => ["-i", Real, "-c", "copy", "-movflags", "frag_keyframe+empty_moov"],
                    _ => throw new ArgumentException(name),
                };
                MediaTools.Make(path, args);
                _made[name] = path;
                return path;
            }
        }

        /// <summary>The first <paramref name="percent"/> % of <paramref name="source"/>'s bytes.</summary>
        public string Truncated(string source, int percent)
        {
            var bytes = File.ReadAllBytes(source);
            var path = Path.Combine(Dir, $"{Path.GetFileNameWithoutExtension(source)}-{percent}.mp4");
            File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length * percent / 100).ToArray());
            return path;
        }
    }

    private static MediaInfo Ffprobe(string path)
    {
        var decoder = new MediaDecoder(new VideoInputOptions()) { ReadHeaders = false };
        return decoder.Probe(path, decoder.CheckFile(path));
    }

    private static void AssertSameAsFfprobe(string path)
    {
        var header = IsoMediaHeader.TryRead(Path.GetFullPath(path));
        var probe = Ffprobe(path);
        // The reader answered for this file (null = fell back to ffprobe, which fails here) and names the container as
        // ffprobe does; ffprobe always names one.
        Assert.False(string.IsNullOrEmpty(probe.FormatName));
        Assert.Equal(probe.FormatName, header?.FormatName);
        var read = header!;
        static void Near(double expected, double actual, double tolerance, string what)
            => Assert.True(Math.Abs(expected - actual) <= tolerance, $"{what}: ffprobe {expected}, header {actual}");
        Assert.Equal((probe.HasVideo, probe.Width, probe.Height, probe.FrameCountEstimate, probe.FrameCountExact, probe.VideoStreamIndex),
            (read.HasVideo, read.Width, read.Height, read.FrameCountEstimate, read.FrameCountExact, read.VideoStreamIndex));
        Assert.Equal((probe.HasAudio, probe.AudioSampleRate, probe.AudioChannels, probe.AudioStreamIndex, probe.AudioDurationOwn, probe.DurationEstimated, probe.FormatName),
            (read.HasAudio, read.AudioSampleRate, read.AudioChannels, read.AudioStreamIndex, read.AudioDurationOwn, read.DurationEstimated, read.FormatName));
        Near(probe.FrameRate, read.FrameRate, 1e-3, "frame rate");
        Near(probe.Duration, read.Duration, 1.5e-3, "duration");
        Near(probe.VideoDuration, read.VideoDuration, 1.5e-3, "video duration");
        Near(probe.AudioDuration, read.AudioDuration, 1.5e-3, "audio duration");
        Near(probe.VideoStart, read.VideoStart, 1e-4, "video start");
    }

    public static TheoryData<string> JavaneseClips() => ["01-01-01_01.mp4", "03-02-04_01.mp4", "05-03-05_01.mp4", "07-04-06_01.mp4"];

    [Theory]
    [MemberData(nameof(JavaneseClips))]
    public void JavaneseClipHeadersAgreeWithFfprobe(string clip)
    {
        AssertSameAsFfprobe(TestData.Javanese(clip));
        // The values themselves, for the first clip (ffprobe: 360x270, 2997/100 fps, 113 frames, MP3 44.1 kHz stereo).
        if (clip != "01-01-01_01.mp4") return;
        var h = IsoMediaHeader.TryRead(TestData.Javanese(clip))!;
        Assert.Equal((360, 270, 113L, 44100, 2), (h.Width, h.Height, h.FrameCountEstimate, h.AudioSampleRate, h.AudioChannels));
        Assert.Equal(29.97, h.FrameRate, 1e-9);
        Assert.Equal(3.814, h.Duration, 1e-9);
        Assert.Equal(45200 / 11988.0, h.VideoDuration, 1e-9);
        Assert.Equal(167051 / 44100.0, h.AudioDuration, 1e-9);
    }

    [Theory]
    [InlineData("bframes-aac.mp4")]
    [InlineData("faststart.mp4")]
    [InlineData("video-only.mp4")]
    [InlineData("surround.m4a")]
    [InlineData("vfr.mp4")]
    public void MadeFileHeadersAgreeWithFfprobe(string name) => AssertSameAsFfprobe(_files.Get(name));

    [Fact]
    public void OtherContainersAndOddMp4sGoToFfprobe()
    {
        Assert.Null(IsoMediaHeader.TryRead(TestData.CremadVideo("ANG")));
        Assert.Null(IsoMediaHeader.TryRead(TestData.CremadAudio("ANG")));
        Assert.Null(IsoMediaHeader.TryRead(_files.Get("rotated.mp4")));
        Assert.Null(IsoMediaHeader.TryRead(_files.Get("fragmented.mp4")));
        // QuickTime's version 1 sound description (ffmpeg's .mov with AAC): left to ffprobe.
        Assert.Null(IsoMediaHeader.TryRead(_files.Get("quicktime.mov")));
        // The FLV still decodes, through ffprobe, with ffprobe's values.
        var flv = TestData.CremadVideo("ANG");
        var decoder = new MediaDecoder(new VideoInputOptions());
        Assert.Equal(Ffprobe(flv), decoder.Probe(flv, decoder.CheckFile(flv)));
    }

    [Theory]
    [InlineData(false, 99)]
    [InlineData(false, 60)]
    [InlineData(true, 90)]
    [InlineData(true, 50)]
    [InlineData(true, 2)]
    public void TruncatedFilesGoToFfprobeAndStayCorrupt(bool faststart, int percent)
    {
        // Index at the end: the moov is cut. Index first: the moov is whole but the samples it lists are not all there.
        var path = _files.Truncated(faststart ? _files.Get("faststart.mp4") : Real, percent);
        Assert.Null(IsoMediaHeader.TryRead(path));
        var e = Assert.Throws<MediaFileException>(() => new VideoInputTransformer(new MLContext(1), new VideoInputOptions()).Decode(path));
        Assert.Equal(MediaProblem.Corrupt, e.Problem);
    }

    [Fact]
    public void SamplesPastTheEndOfTheFileGoToFfprobeEvenWhenTheBoxesFit()
    {
        // A recording cut short whose mdat says "to the end of the file" (size 0): every box fits, the samples do not.
        var path = _files.Truncated(_files.Get("faststart.mp4"), 50);
        var bytes = File.ReadAllBytes(path);
        var mdat = IndexOf(bytes, "mdat"u8) - 4;
        Assert.True(mdat > 0);
        bytes.AsSpan(mdat, 4).Clear();
        File.WriteAllBytes(path, bytes);
        Assert.Null(IsoMediaHeader.TryRead(path));
        var e = Assert.Throws<MediaFileException>(() => new VideoInputTransformer(new MLContext(1), new VideoInputOptions()).Decode(path));
        Assert.Equal(MediaProblem.Corrupt, e.Problem);
    }

    [Fact]
    public void ACorruptBoxSizeInsideMoovGoesToFfprobe()
    {
        // A moov whose first child claims more bytes than the moov holds.
        var bytes = File.ReadAllBytes(_files.Get("faststart.mp4"));
        var moov = IndexOf(bytes, "moov"u8) - 4;
        Assert.True(moov > 0);
        bytes[moov + 8] = 0x7F;
        var path = Path.Combine(_files.Dir, "bad-child.mp4");
        File.WriteAllBytes(path, bytes);
        Assert.Null(IsoMediaHeader.TryRead(path));
        Assert.Throws<MediaFileException>(() => new VideoInputTransformer(new MLContext(1), new VideoInputOptions()).Decode(path));
    }

    [Fact]
    public void AnMp4ClipIsDecodedWithOneFfmpegRunAndNoFfprobe()
    {
        var dir = TestData.TempDir("no-probe");
        var calls = Path.Combine(dir, "calls.log");
        var probe = MediaTools.Script(Path.Combine(dir, "probe.sh"), $"echo ffprobe >> '{calls}'\nexec ffprobe \"$@\"");
        var ffmpeg = MediaTools.Script(Path.Combine(dir, "ffmpeg.sh"), $"echo ffmpeg >> '{calls}'\nexec ffmpeg \"$@\"");
        var options = new VideoInputOptions { FrameCount = 4 };
        var stage = new VideoInputTransformer(new MLContext(1), options);
        var clip = stage.Decode(Real, new MediaDecoder(options) { Ffmpeg = ffmpeg, Ffprobe = probe });
        Assert.Equal(["ffmpeg"], File.ReadAllLines(calls));
        // The same frames, times and audio as with ffprobe's values.
        var reference = stage.Decode(Real, new MediaDecoder(options) { ReadHeaders = false });
        Assert.Equal(reference.Frames.Pixels, clip.Frames.Pixels);
        Assert.Equal(reference.Frames.Times, clip.Frames.Times);
        Assert.Equal(reference.Audio, clip.Audio);
        File.WriteAllText(calls, "");
        stage.Decode(TestData.CremadVideo("SAD"), new MediaDecoder(options) { Ffmpeg = ffmpeg, Ffprobe = probe });
        Assert.Equal(["ffprobe", "ffmpeg"], File.ReadAllLines(calls));
    }

    private static int IndexOf(byte[] haystack, ReadOnlySpan<byte> needle) => haystack.AsSpan().IndexOf(needle);
}
