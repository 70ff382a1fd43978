using EmotionML.VideoInput;
using Microsoft.ML;
using Xunit;

namespace EmotionML.Tests.VideoInput;

/// <summary>
/// The bad-input corpus (docs/bad-input.md): files made by ffmpeg in a temp folder, each of which must give either a
/// typed error or a correct result. "Correct" is checked against an independent plain ffmpeg/ffprobe run.
/// </summary>
public sealed class BadInputCorpusTests : IClassFixture<BadInputCorpusTests.Corpus>
{
    private static readonly string Real = TestData.Javanese("01-01-01_01.mp4");
    private readonly Corpus _corpus;

    public BadInputCorpusTests(Corpus corpus) => _corpus = corpus;

    /// <summary>The scratch folder of the corpus, shared by the tests of this class.</summary>
    public sealed class Corpus
    {
        public string Dir { get; } = TestData.TempDir("bad-input");

        public string File(string name) => Path.Combine(Dir, name);

        /// <summary>A short test clip: testsrc video and a sine, encoded as the arguments say.</summary>
        public string Make(string name, string video, string audio, string seconds, params string[] encode)
            => MediaTools.Make(File(name), [.. (video == "" ? Array.Empty<string>() : ["-f", "lavfi", "-i", video]),
                .. (audio == "" ? Array.Empty<string>() : ["-f", "lavfi", "-i", audio]), "-t", seconds, .. encode]);
    }

    private static VideoInputTransformer.DecodedClip Decode(string path, VideoInputOptions? options = null)
        => new VideoInputTransformer(new MLContext(seed: 1), options ?? new VideoInputOptions()).Decode(path);

    private static MediaProblem Problem(string path, VideoInputOptions? options = null)
        => Assert.Throws<MediaFileException>(() => Decode(path, options)).Problem;

    /// <summary>Frames equal to a plain ffmpeg decode of the same indices, times equal to ffprobe's, audio equal to a plain decode.</summary>
    private static void AssertCorrect(string path, VideoInputTransformer.DecodedClip clip, VideoInputOptions options, bool audio = true)
    {
        var indices = options.SelectFrames(clip.Info.FrameCountEstimate, clip.Info.FrameRate);
        Assert.Equal(Math.Min(options.FrameCount, MediaTools.CountFrames(path)), clip.Frames.Count);
        Assert.Equal(MediaTools.ReferenceFrames(path, indices, clip.Frames.Width, clip.Frames.Height), clip.Frames.Pixels);
        var pts = MediaTools.FrameTimes(path);
        Assert.Equal(indices.Select(i => pts[i] - pts[0]), clip.Frames.Times.Select(t => (double)t), (a, b) => Math.Abs(a - b) < 1e-3);
        if (audio) Assert.Equal(MediaTools.ReferenceAudio(path), clip.Audio);
    }

    [Fact]
    public void RandomBytesNamedMp4AreNotMedia()
    {
        var path = _corpus.File("random.mp4");
        var bytes = new byte[64 * 1024];
        new Random(7).NextBytes(bytes);
        System.IO.File.WriteAllBytes(path, bytes);
        Assert.Equal(MediaProblem.NotMedia, Problem(path));
    }

    public static TheoryData<bool> Layouts() => [false, true];

    [Theory]
    [MemberData(nameof(Layouts))]
    public void ARealClipTruncatedAtTenOffsetsIsCorrupt(bool indexFirst)
    {
        // As recorded (index at the end: the probe fails) and remuxed with the index first (the probe succeeds and the
        // decode comes up short: the case that used to return part of the clip silently).
        var source = indexFirst ? MediaTools.Make(_corpus.File("faststart.mp4"), "-i", Real, "-c", "copy", "-movflags", "+faststart") : Real;
        var bytes = System.IO.File.ReadAllBytes(source);
        var outcomes = new List<string>();
        foreach (var percent in new[] { 1, 5, 15, 25, 35, 50, 65, 75, 85, 95 })
        {
            var path = _corpus.File($"truncated-{(indexFirst ? "faststart" : "recorded")}-{percent}.mp4");
            System.IO.File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length * percent / 100).ToArray());
            var e = Assert.Throws<MediaFileException>(() => Decode(path));
            Assert.Equal(MediaProblem.Corrupt, e.Problem);
            outcomes.Add(e.Message);
            if (indexFirst)
            {
                // The audio alone is checked against its stated length too.
                e = Assert.Throws<MediaFileException>(() => Decode(path, new VideoInputOptions { DecodeVideo = false }));
                Assert.Equal(MediaProblem.Corrupt, e.Problem);
                outcomes.Add(e.Message);
            }
        }
        if (indexFirst)
        {
            // The short decodes say what is missing.
            Assert.True(outcomes.Any(m => m.Contains("sampled frames decoded: the video stream ended before frame")), string.Join("\n", outcomes));
            Assert.True(outcomes.Any(m => m.Contains("s of audio decoded of the 3.788 s the container states")), string.Join("\n", outcomes));
        }
    }

    [Fact]
    public void ZeroLengthAudioIsNoAudio()
    {
        var path = _corpus.Make("zero.wav", "", "anullsrc=r=16000:cl=mono", "0", "-c:a", "pcm_s16le");
        var audioOnly = new VideoInputOptions { DecodeVideo = false };
        Assert.Equal(MediaProblem.NoAudio, Problem(path, audioOnly));
        Assert.Empty(Decode(path, new VideoInputOptions { DecodeVideo = false, MissingAudio = MissingStreamPolicy.Empty }).Audio);
    }

    [Fact]
    public void OneFrameVideoGivesOneFrameAtTimeZero()
    {
        var path = _corpus.Make("one-frame.mp4", "testsrc=size=160x120:rate=25", "", "1", "-frames:v", "1", "-c:v", "libx264", "-preset", "ultrafast");
        var options = new VideoInputOptions { MissingAudio = MissingStreamPolicy.Empty };
        var clip = Decode(path, options);
        Assert.Equal(1, clip.Frames.Count);
        Assert.Equal([0f], clip.Frames.Times);
        AssertCorrect(path, clip, options, audio: false);
    }

    [Fact]
    public void A4KFrameIsScaledDownAndTheSizeLimitRefusesIt()
    {
        var path = _corpus.Make("4k.mp4", "testsrc2=size=3840x2160:rate=5", "", "0.4", "-c:v", "libx264", "-preset", "ultrafast");
        var options = new VideoInputOptions { MissingAudio = MissingStreamPolicy.Empty, FrameCount = 2 };
        var clip = Decode(path, options);
        Assert.Equal((640, 360), (clip.Frames.Width, clip.Frames.Height));
        AssertCorrect(path, clip, options, audio: false);
        Assert.Equal(MediaProblem.TooLarge, Problem(path, new VideoInputOptions { MissingAudio = MissingStreamPolicy.Empty, MaxSourceFrameSide = 1920 }));
    }

    [Fact]
    public void Vp6FlvDecodesCorrectly()
    {
        var path = TestData.CremadVideo("ANG");
        var options = new VideoInputOptions { FrameCount = 8 };
        AssertCorrect(path, Decode(path, options), options);
    }

    [Theory]
    [InlineData("mjpeg.avi", "mjpeg")]
    [InlineData("vp9.webm", "libvpx-vp9")]
    [InlineData("mpeg4.mkv", "mpeg4")]
    public void OtherCodecsDecodeCorrectly(string name, string codec)
    {
        var extra = codec == "libvpx-vp9" ? new[] { "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k" } : [];
        var path = _corpus.Make(name, "testsrc=size=160x120:rate=10", "sine=frequency=440:sample_rate=48000", "1.5", ["-c:v", codec, .. extra, "-c:a", name.EndsWith(".avi") ? "pcm_s16le" : "libvorbis"]);
        var options = new VideoInputOptions { FrameCount = 6 };
        AssertCorrect(path, Decode(path, options), options);
    }

    [Fact]
    public void VariableFrameRateGivesTheFramesRealTimes()
    {
        // 20 frames 0.1 s apart, then frames 0.05 s apart: the average rate says nothing about where a frame is.
        var path = MediaTools.Make(_corpus.File("vfr.mp4"), "-t", "2", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=20",
            "-vf", "settb=1/1000,setpts='if(lt(N,20),N*0.1,2+(N-20)*0.02)/TB'", "-fps_mode", "vfr", "-c:v", "libx264", "-preset", "ultrafast", "-video_track_timescale", "1000");
        var options = new VideoInputOptions { MissingAudio = MissingStreamPolicy.Empty, FrameCount = 8 };
        var clip = Decode(path, options);
        AssertCorrect(path, clip, options, audio: false);
        var pts = MediaTools.FrameTimes(path);
        Assert.True(pts[21] - pts[20] < 0.07 && pts[1] - pts[0] > 0.09, "the test clip really is variable-rate");
    }

    [Fact]
    public void RotationMetadataGivesUprightFrames()
    {
        var path = MediaTools.Make(_corpus.File("rotated.mp4"), "-i", Real, "-c", "copy", "-metadata:s:v:0", "rotate=90");
        var options = new VideoInputOptions { FrameCount = 4 };
        var clip = Decode(path, options);
        Assert.Equal((270, 360), (clip.Frames.Width, clip.Frames.Height));
        // ffmpeg turns the frames as the container asks; the reference run does the same.
        AssertCorrect(path, clip, options);
    }

    [Theory]
    [InlineData(8000, 1, "pcm_s16le", "wav")]
    [InlineData(44100, 2, "libmp3lame", "mp3")]
    [InlineData(48000, 2, "flac", "flac")]
    [InlineData(48000, 6, "aac", "m4a")]
    [InlineData(44100, 1, "libvorbis", "ogg")]
    public void SampleRatesAndChannelLayoutsGive16kHzMono(int rate, int channels, string codec, string extension)
    {
        var path = MediaTools.Make(_corpus.File($"tone-{rate}-{channels}.{extension}"), "-f", "lavfi", "-i", $"sine=frequency=440:sample_rate={rate}", "-t", "1.5",
            "-ac", channels.ToString(System.Globalization.CultureInfo.InvariantCulture), "-c:a", codec);
        var audio = Decode(path, new VideoInputOptions { DecodeVideo = false }).Audio;
        Assert.Equal(MediaTools.ReferenceAudio(path), audio);
        Assert.InRange(audio.Length / 16000.0, 1.45, 1.6);
        // A 440 Hz tone: 880 zero crossings a second (away from the edges, where codecs fade in and out).
        var middle = audio.AsSpan(1600, 16000);
        var crossings = 0;
        for (var i = 1; i < middle.Length; i++) if ((middle[i - 1] < 0) != (middle[i] < 0)) crossings++;
        Assert.InRange(crossings, 870, 890);
        var rms = Math.Sqrt(middle.ToArray().Average(v => (double)v * v));
        Assert.InRange(rms, 0.03, 1);
    }

    [Fact]
    public void SixtySecondClipIsSampledWithMemoryBoundedByTheFrameCap()
    {
        var path = _corpus.Make("sixty.mp4", "testsrc=size=96x72:rate=10", "sine=frequency=300:sample_rate=16000", "60",
            "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac");
        var options = new VideoInputOptions { FrameCount = 16 };
        var stage = new VideoInputTransformer(new MLContext(seed: 1), options);
        stage.Decode(path); // warm-up: first-call allocations (regex, JSON) are not the clip's
        var before = GC.GetAllocatedBytesForCurrentThread();
        var clip = stage.Decode(path);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(16, clip.Frames.Count);
        Assert.InRange(clip.Frames.Times[^1], 57.5, 59.5);
        Assert.InRange(clip.Audio.Length / 16000.0, 59.9, 60.1);
        var frameBytes = 16L * 96 * 72 * 3;
        Assert.Equal(frameBytes, clip.Frames.Pixels.Length);
        // Managed memory of one decode: the frame cap's array, the audio array, and bounded change (ffmpeg's stderr
        // lines, the probe's JSON): never a copy of the 600 decoded frames or a growing buffer of the output.
        var outputs = frameBytes + clip.Audio.Length * 4L;
        Assert.InRange(allocated, outputs, outputs + 1_500_000);
        Assert.Equal(MediaProblem.TooLarge, Problem(path, new VideoInputOptions { MaxDurationSeconds = 30 }));
    }

    [Theory]
    [InlineData("with spaces/clip one.mp4")]
    [InlineData("ünïcödé/感情 клип.mp4")]
    [InlineData("odd/-i x;$(touch pwned)'\".mp4")]
    public void PathsWithSpacesAndNonAsciiCharactersWork(string relative)
    {
        var path = _corpus.File(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        System.IO.File.Copy(Real, path, overwrite: true);
        var options = new VideoInputOptions { FrameCount = 4 };
        var clip = Decode(path, options);
        var original = Decode(Real, options);
        Assert.Equal(original.Frames.Pixels, clip.Frames.Pixels);
        Assert.Equal(original.Audio, clip.Audio);
        Assert.False(System.IO.File.Exists(Path.Combine(Environment.CurrentDirectory, "pwned")));
        var missing = Path.Combine(Path.GetDirectoryName(path)!, "gone " + Path.GetFileName(path));
        var e = Assert.Throws<MediaFileException>(() => Decode(missing));
        Assert.Equal(MediaProblem.Missing, e.Problem);
        Assert.StartsWith(missing, e.Message);
    }
}
