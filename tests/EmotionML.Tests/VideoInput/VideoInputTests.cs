using EmotionML.VideoInput;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace EmotionML.Tests.VideoInput;

public sealed class VideoInputTests
{
    private readonly MLContext _ml = new(seed: 1);

    private sealed class Clip { public string VideoPath { get; set; } = ""; }

    private sealed class DecodeResult { public string DecodeError { get; set; } = ""; }

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

    [Theory]
    [MemberData(nameof(RealClips))]
    public void OneRunGivesTheFramesTimesAndAudioOfSeparatePlainDecodes(string path)
    {
        var options = new VideoInputOptions { MaxFrameSide = 240 };
        var clip = new VideoInputTransformer(_ml, options).Decode(path);
        var indices = options.SelectFrames(clip.Info.FrameCountEstimate, clip.Info.FrameRate);
        Assert.Equal(indices.Count, clip.Frames.Count);
        // Frames: byte-identical to a separate ffmpeg run that decodes the same frames the old way (select to the end).
        Assert.Equal(MediaTools.ReferenceFrames(path, indices, clip.Frames.Width, clip.Frames.Height), clip.Frames.Pixels);
        // Times: the sampled frames' presentation times as ffprobe lists them.
        var pts = MediaTools.FrameTimes(path);
        Assert.Equal(indices.Select(i => pts[i] - pts[0]).ToArray(), clip.Frames.Times.Select(t => (double)t).ToArray(), (a, b) => Math.Abs(a - b) < 1e-3);
        // Audio: sample-identical to a separate audio-only run.
        Assert.Equal(MediaTools.ReferenceAudio(path), clip.Audio);
    }

    [Fact]
    // The ffprobe path (ReadHeaders = false); the in-process MP4 header path is IsoMediaHeaderTests' one-run test.
    public void OneProbeAndOneFfmpegRunPerClipAndVideoDecodingStopsAfterTheLastSampledFrame()
    {
        var dir = TestData.TempDir("one-run");
        var clip = MediaTools.Make(Path.Combine(dir, "long.mp4"), "-f", "lavfi", "-i", "testsrc=size=96x72:rate=10", "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=16000",
            "-t", "30", "-c:v", "libx264", "-preset", "ultrafast", "-g", "10", "-c:a", "aac");
        var calls = Path.Combine(dir, "calls.log");
        var log = Path.Combine(dir, "ffmpeg-stderr.log");
        // Stand-ins that record each run and raise ffmpeg's log level to 'verbose', which reports frames decoded per input stream.
        var probe = MediaTools.Script(Path.Combine(dir, "probe.sh"), $"echo ffprobe >> '{calls}'\nexec ffprobe \"$@\"");
        var ffmpeg = MediaTools.Script(Path.Combine(dir, "ffmpeg.sh"),
            $"echo ffmpeg >> '{calls}'\nfor a in \"$@\"; do if [ \"$a\" = level+info ]; then set -- \"$@\" level+verbose; else set -- \"$@\" \"$a\"; fi; shift; done\nexec ffmpeg \"$@\" 2>> '{log}'");
        var options = new VideoInputOptions { FrameCount = 3 };
        var stage = new VideoInputTransformer(_ml, options);
        var decoder = new MediaDecoder(options) { Ffmpeg = ffmpeg, Ffprobe = probe, ReadHeaders = false };
        var full = decoder.CheckFile(clip);
        var info = decoder.Probe(clip, full);
        var (frames, audio) = decoder.Decode(clip, full, info, [0, 5, 10], decodeAudio: true);
        Assert.Equal(3, frames.Count);
        Assert.InRange(audio.Length / 16000.0, 29.9, 30.1);
        var decoded = System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(log), @"Input stream #(\d):\d \((video|audio)\): \d+ packets read \(\d+ bytes\); (\d+) frames decoded")
            .ToDictionary(m => (m.Groups[1].Value, m.Groups[2].Value), m => int.Parse(m.Groups[3].Value));
        // 300 frames in the clip; the video input stops a few frames (decoder threads, queue) after frame 10.
        Assert.InRange(decoded[("0", "video")], 11, 40);
        Assert.False(decoded.ContainsKey(("1", "video")), "the audio input decodes no video");
        Assert.False(decoded.ContainsKey(("0", "audio")), "the video input decodes no audio");

        File.WriteAllText(calls, "");
        var whole = stage.Decode(clip, decoder);
        Assert.Equal(["ffprobe", "ffmpeg"], File.ReadAllLines(calls));
        Assert.Equal(3, whole.Frames.Count);
    }

    [Fact]
    public void OnErrorSkipKeepsTheGoodRowsAndLogsTheBadFile()
    {
        var dir = TestData.TempDir("skip");
        var broken = Path.Combine(dir, "broken {1}.mp4");
        var source = File.ReadAllBytes(TestData.Javanese("01-01-01_01.mp4"));
        File.WriteAllBytes(broken, source.AsSpan(0, source.Length / 2).ToArray());
        string good1 = TestData.Javanese("01-01-01_01.mp4"), good2 = TestData.Javanese("03-02-04_01.mp4");
        var ml = new MLContext(seed: 1);
        var warnings = new List<string>();
        ml.Log += (_, e) => { if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning) lock (warnings) warnings.Add(e.Message); };
        var data = ml.Data.LoadFromEnumerable(new[] { good1, broken, good2 }.Select(p => new Clip { VideoPath = p }));
        var options = new VideoInputOptions { FrameCount = 4, MaxFrameSide = 160, OnError = DecodeErrorPolicy.Skip };
        var output = ml.Transforms.LoadVideo(options).Fit(data).Transform(data);

        // One pass over the rows (each pass decodes again, and warns again).
        var counts = new List<int>();
        var frames = new List<byte[]>();
        var audio = new List<float[]>();
        var errors = new List<string>();
        using (var cursor = output.GetRowCursor(output.Schema))
        {
            var count = cursor.GetGetter<int>(output.Schema["FrameCount"]);
            var pixels = cursor.GetGetter<VBuffer<byte>>(output.Schema["Frames"]);
            var samples = cursor.GetGetter<VBuffer<float>>(output.Schema["Audio"]);
            var error = cursor.GetGetter<ReadOnlyMemory<char>>(output.Schema["DecodeError"]);
            while (cursor.MoveNext())
            {
                int c = 0;
                VBuffer<byte> p = default;
                VBuffer<float> a = default;
                ReadOnlyMemory<char> t = default;
                count(ref c);
                pixels(ref p);
                samples(ref a);
                error(ref t);
                counts.Add(c);
                frames.Add(p.DenseValues().ToArray());
                audio.Add(a.DenseValues().ToArray());
                errors.Add(t.ToString());
            }
        }
        Assert.Equal(3, counts.Count);
        var alone = new VideoInputTransformer(ml, new VideoInputOptions { FrameCount = 4, MaxFrameSide = 160 });
        foreach (var (row, path) in new[] { (0, good1), (2, good2) })
        {
            var expected = alone.Decode(path);
            Assert.Equal(4, counts[row]);
            Assert.Equal(expected.Frames.Pixels, frames[row]);
            Assert.Equal(expected.Audio, audio[row]);
            Assert.Equal("", errors[row]);
        }
        Assert.Equal(0, counts[1]);
        Assert.Empty(frames[1]);
        Assert.Empty(audio[1]);
        Assert.StartsWith($"Corrupt: {broken}: media file is truncated or damaged", errors[1]);
        var warning = Assert.Single(warnings, w => w.Contains("Skipped clip"));
        Assert.Contains(broken, warning);
        Assert.Contains("[Corrupt]", warning);

        // The documented way to leave the skipped rows out.
        var good = ml.Data.FilterByCustomPredicate<DecodeResult>(output, r => r.DecodeError.Length > 0);
        Assert.Equal([good1, good2], good.GetColumn<string>("VideoPath").ToArray());

        // The default still stops at the bad row, with the typed error.
        var strict = ml.Transforms.LoadVideo(new VideoInputOptions { FrameCount = 4, MaxFrameSide = 160 }).Fit(data).Transform(data);
        var e = Assert.ThrowsAny<Exception>(() => strict.GetColumn<int>("FrameCount").ToArray());
        while (e is not MediaFileException && e.InnerException != null) e = e.InnerException;
        Assert.Equal(MediaProblem.Corrupt, Assert.IsType<MediaFileException>(e).Problem);
        Assert.DoesNotContain(strict.Schema, c => c.Name == "DecodeError");
    }

    [Fact]
    public void OnErrorIsSavedByNameAndReadBack()
    {
        var data = _ml.Data.LoadFromEnumerable([new Clip { VideoPath = TestData.Javanese("01-01-01_01.mp4") }]);
        var model = _ml.Transforms.LoadVideo(new VideoInputOptions { OnError = DecodeErrorPolicy.Skip, Sampling = FrameSampling.Rate, ProcessTimeout = TimeSpan.FromSeconds(7) }).Fit(data);
        var file = Path.Combine(TestData.TempDir("save-onerror"), "model.zip");
        _ml.Model.Save(model, data.Schema, file);
        using (var zip = System.IO.Compression.ZipFile.OpenRead(file))
        {
            var text = string.Join("\n", zip.Entries.Select(en =>
            {
                using var reader = new StreamReader(en.Open(), System.Text.Encoding.UTF8);
                return reader.ReadToEnd();
            }));
            Assert.Contains("\"OnError\":\"Skip\"", text);
            Assert.Contains("\"Sampling\":\"Rate\"", text);
        }
        var loaded = (VideoInputTransformer)_ml.Model.Load(file, out _);
        Assert.Equal(DecodeErrorPolicy.Skip, loaded.Options.OnError);
        Assert.Equal(TimeSpan.FromSeconds(7), loaded.Options.ProcessTimeout);
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
