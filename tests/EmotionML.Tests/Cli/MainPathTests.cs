using System.Globalization;
using System.Text.Json;
using EmotionML.Cli;
using EmotionML.Experiments;
using EmotionML.FaceGeometry;
using EmotionML.VideoInput;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace EmotionML.Tests.Cli;

/// <summary>
/// The commands a user runs, on real clips, each kept small (a few clips, 1 epoch, 2 frames): train-audio → train →
/// predict, batch survival of predict/extract/evaluate, parallel runs equal to sequential ones.
/// </summary>
[Collection(MainPathFixture.Collection)]
public sealed class MainPathTests(MainPathFixture f)
{
    private static readonly string[] Emotions = ["angry", "fear", "happy", "neutral"];

    private static JsonElement[] JsonClips(CliRunner.Result r) => JsonDocument.Parse(r.Output).RootElement.GetProperty("clips").EnumerateArray().ToArray();

    [Fact]
    public void TrainedModelPredictsEveryClipWithADistributionAndAttentionOfTheRightLength()
    {
        var paths = f.TestClips.Select(c => c.Path).ToArray();
        var r = CliRunner.RunShared(["predict", f.Model, .. paths, "--json"]);
        Assert.True(r.ExitCode == 0, r.Error);
        var clips = JsonClips(r);
        Assert.Equal(paths, clips.Select(c => c.GetProperty("path").GetString()));
        // Independent reference: the same zip loaded in this process through the library's prediction engine.
        var ml = new Microsoft.ML.MLContext(seed: 0);
        using var engine = EmotionModel.CreatePredictionEngine(ml, EmotionModel.Load(ml, f.Model));
        foreach (var c in clips)
        {
            var probabilities = c.GetProperty("probabilities").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetSingle());
            Assert.Equal(Emotions, probabilities.Keys.Order());
            Assert.Equal(1.0, probabilities.Values.Sum(), 5);
            var expected = engine.Predict(c.GetProperty("path").GetString()!);
            foreach (var (name, p) in probabilities) Assert.Equal(expected.Probabilities[name], p, 5);
            Assert.Equal(probabilities.MaxBy(p => p.Value).Key, c.GetProperty("emotion").GetString());
            var face = c.GetProperty("faceAttention").EnumerateArray().Select(x => x.GetSingle()).ToArray();
            var audio = c.GetProperty("audioAttention").EnumerateArray().Select(x => x.GetSingle()).ToArray();
            Assert.Equal(MainPathFixture.Frames, face.Length);
            Assert.Equal(MainPathFixture.AudioPositions, audio.Length);
            // Every test clip is longer than the 3 s spectrogram: all positions real, weights a distribution.
            Assert.Equal(1.0, audio.Sum(), 4);
            Assert.Equal(1.0, face.Sum(), 4);
        }
    }

    [Fact]
    public void AnAudioOnlyClipIsPredictedFromItsAudio()
    {
        var r = CliRunner.RunShared("predict", f.Model, TestData.CremadAudio("ANG"), "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        var clip = JsonClips(r).Single();
        Assert.All(clip.GetProperty("faceAttention").EnumerateArray(), a => Assert.Equal(0f, a.GetSingle()));
        Assert.Equal(1.0, clip.GetProperty("audioAttention").EnumerateArray().Sum(a => a.GetSingle()), 4);
        Assert.Equal(1.0, clip.GetProperty("probabilities").EnumerateObject().Sum(p => p.Value.GetSingle()), 5);
    }

    [Fact]
    public void PredictOverGoodBrokenGoodReturnsTwoResultsAndOneTypedErrorAndExits1()
    {
        string good = f.TestClips[0].Path, good2 = f.TestClips[1].Path;
        var r = CliRunner.RunShared("predict", f.Model, good, f.Broken, good2, "--json");
        Assert.Equal(ExitCodes.RuntimeError, r.ExitCode);
        var clips = JsonClips(r);
        Assert.Equal(new[] { good, f.Broken, good2 }, clips.Select(c => c.GetProperty("path").GetString()));
        Assert.True(clips[0].TryGetProperty("emotion", out _));
        Assert.True(clips[2].TryGetProperty("emotion", out _));
        var error = clips[1].GetProperty("error");
        Assert.Equal("MediaFileException", error.GetProperty("type").GetString());
        Assert.Equal("NotMedia", error.GetProperty("problem").GetString());
        Assert.StartsWith(f.Broken + ":", error.GetProperty("message").GetString());
        Assert.False(clips[1].TryGetProperty("emotion", out _));
        Assert.Contains($"error: {f.Broken}:", r.Error);
        Assert.Contains("1 clip of 3 failed", r.Error);

        // Tables: the good clips' results and an error line for the bad one, in input order.
        var missing = Path.Combine(f.Dir, "no-such-clip.mp4");
        var t = CliRunner.RunShared("predict", f.Model, good, missing);
        Assert.Equal(ExitCodes.RuntimeError, t.ExitCode);
        var goodAt = t.Output.IndexOf($"{good}: ", StringComparison.Ordinal);
        var errorAt = t.Output.IndexOf($"{missing}: error MediaFileException (Missing): {missing}: file not found", StringComparison.Ordinal);
        Assert.True(goodAt >= 0 && errorAt > goodAt, t.Output);
        Assert.Contains($"error: {missing}: file not found", t.Error);
        Assert.DoesNotContain("   at ", t.Error);
    }

    [Fact]
    public void PredictInParallelGivesExactlyTheSequentialOutputInInputOrder()
    {
        string[] paths = [f.TestClips[2].Path, f.Broken, f.TestClips[0].Path, f.TestClips[3].Path, f.TestClips[1].Path];
        var one = CliRunner.RunShared(["predict", f.Model, .. paths, "--json", "--parallel", "1"]);
        var two = CliRunner.RunShared(["predict", f.Model, .. paths, "--json", "--parallel", "2"]);
        Assert.Equal(ExitCodes.RuntimeError, one.ExitCode);
        Assert.Equal(ExitCodes.RuntimeError, two.ExitCode);
        Assert.Equal(paths, JsonClips(two).Select(c => c.GetProperty("path").GetString()));
        // ffmpeg's own words in the error message name its context's memory address ("[mov,mp4,… @ 0x5583d219f280]"),
        // which differs between processes and runs; everything else is byte-identical.
        static string WithoutAddresses(string s) => System.Text.RegularExpressions.Regex.Replace(s, "@ 0x[0-9a-f]+", "@ 0x…");
        Assert.Equal(WithoutAddresses(one.Output), WithoutAddresses(two.Output));
        var zero = CliRunner.RunShared(["predict", f.Model, paths[0], "--parallel", "0"]);
        Assert.Equal(ExitCodes.UsageError, zero.ExitCode);
        Assert.Contains("--parallel 0: give 1 or more.", zero.Error);
    }

    [Fact]
    public void ExtractWritesOneRowPerGoodClipWithTheDocumentedColumnsAndReportsTheBadOne()
    {
        var clips = f.Clips.Take(3).Append(new ClipRecord(f.Broken, "happy", "09")).Append(f.Clips[3]).ToList();
        var manifest = Path.Combine(f.Dir, "extract.csv");
        ClipManifest.Write(manifest, clips, relative: false);
        string Extract(int parallel)
        {
            var csv = Path.Combine(f.Dir, $"features-{parallel}.csv");
            var r = f.RunFresh("extract", "--manifest", manifest, "--frames", $"{MainPathFixture.Frames}", "--backbone", "minixception", "--audio-cnn", f.AudioCnn, "--out", csv, "--parallel", $"{parallel}");
            Assert.Equal(ExitCodes.RuntimeError, r.ExitCode);
            Assert.Contains($"error: {f.Broken}:", r.Error);
            Assert.Contains("clip left out", r.Error);
            Assert.Contains("1 clip of 5 failed", r.Error);
            return csv;
        }
        var sequential = Extract(1);
        var lines = File.ReadAllLines(sequential);
        var header = lines[0].Split(',');
        var expected = new[] { "path", "label", "speaker", "frames_with_face" }
            .Concat(Enumerable.Range(0, 128).Select(i => $"f{i}")).Concat(Enumerable.Range(0, 8).Select(i => $"a{i}"));
        Assert.Equal(expected, header);
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
        var good = clips.Where(c => c.Path != f.Broken).ToList();
        Assert.Equal(good.Select(c => (c.Path, c.Label, c.Speaker)), rows.Select(r => (r[0], r[1], r[2])));
        Assert.All(rows, r =>
        {
            Assert.Equal(header.Length, r.Length);
            Assert.InRange(int.Parse(r[3], CultureInfo.InvariantCulture), 0, MainPathFixture.Frames);
            Assert.All(r.Skip(4), v => Assert.True(double.IsFinite(double.Parse(v, CultureInfo.InvariantCulture)), v));
        });
        // These clips show one face throughout: found in both frames.
        Assert.All(rows, r => Assert.Equal("2", r[3]));
        Assert.Equal(File.ReadAllBytes(sequential), File.ReadAllBytes(Extract(2)));
    }

    [Fact]
    public void ExtractWithGeometryAddsOneColumnPerMeasureEqualToTheStagesFrameMean()
    {
        var clips = f.Clips.Take(2).ToList();
        var manifest = Path.Combine(f.Dir, "extract-geometry.csv");
        ClipManifest.Write(manifest, clips, relative: false);
        var csv = Path.Combine(f.Dir, "features-geometry.csv");
        var r = f.RunFresh("extract", "--manifest", manifest, "--frames", $"{MainPathFixture.Frames}", "--backbone", "minixception", "--geometry", "--out", csv);
        Assert.True(r.ExitCode == 0, r.Error);
        var lines = File.ReadAllLines(csv);
        var header = lines[0].Split(',');
        Assert.Equal(FaceGeometryMeasures.Names, header.Skip(4 + 128));
        // Reference: the stage on the same clips, averaged over the frames with a face here.
        var ml = new MLContext(0);
        var data = ml.Data.LoadFromEnumerable(clips.Select(c => new ClipRow { VideoPath = c.Path }));
        var t = ml.Transforms.LoadVideo(new VideoInputOptions { FrameCount = MainPathFixture.Frames, DecodeAudio = false }).Append(ml.Transforms.AlignFaces(MainPathFixture.Frames))
            .Append(ml.Transforms.ExtractFaceGeometry()).Fit(data).Transform(data);
        var geometry = t.GetColumn<float[]>("FaceGeometry").ToArray();
        var found = t.GetColumn<bool[]>("FaceFound").ToArray();
        for (var i = 0; i < clips.Count; i++)
        {
            var row = lines[i + 1].Split(',').Skip(4 + 128).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            var faces = Enumerable.Range(0, MainPathFixture.Frames).Where(k => found[i][k]).ToArray();
            Assert.NotEmpty(faces);
            for (var j = 0; j < FaceGeometryMeasures.Count; j++)
            {
                var expected = faces.Average(k => (double)geometry[i][k * FaceGeometryMeasures.Count + j]);
                Assert.True(Math.Abs(expected - row[j]) <= 1e-5 * Math.Max(1, Math.Abs(expected)), $"{FaceGeometryMeasures.Names[j]}: {row[j]} against {expected} (6 significant digits)");
            }
        }
        // A clip without any face: NaN, not zeros that would read as a closed mouth.
        Assert.All(EmotionML.Cli.Commands.ExtractCommand.GeometryMeans(new float[2 * FaceGeometryMeasures.Count], 2), v => Assert.True(double.IsNaN(v)));
    }

    [Fact]
    public void ExtractWithAcousticAddsTheNamedFunctionalsOfTheStageAndLeavesOutABadClip()
    {
        var clips = f.Clips.Take(2).Append(new ClipRecord(f.Broken, "happy", "01")).ToList();
        var manifest = Path.Combine(f.Dir, "extract-acoustic.csv");
        ClipManifest.Write(manifest, clips, relative: false);
        var csv = Path.Combine(f.Dir, "features-acoustic.csv");
        var r = f.RunFresh("extract", "--manifest", manifest, "--frames", $"{MainPathFixture.Frames}", "--backbone", "minixception", "--acoustic", "--out", csv);
        Assert.Equal(ExitCodes.RuntimeError, r.ExitCode);
        Assert.Contains(Path.GetFileName(f.Broken), r.Error);
        var lines = File.ReadAllLines(csv);
        Assert.Equal(3, lines.Length);
        Assert.Equal(EmotionML.AcousticFeatures.AcousticFeatureNames.All, lines[0].Split(',').Skip(4 + 128));
        // Reference: the stage on the same two clips.
        var ml = new MLContext(0);
        var data = ml.Data.LoadFromEnumerable(clips.Take(2).Select(c => new ClipRow { VideoPath = c.Path }));
        var expected = ml.Transforms.LoadVideo(new VideoInputOptions { DecodeVideo = false }).Append(ml.Transforms.ExtractAcousticFeatures()).Fit(data).Transform(data)
            .GetColumn<float[]>("AcousticFeatures").ToArray();
        for (var i = 0; i < 2; i++)
        {
            var row = lines[i + 1].Split(',');
            Assert.Equal(clips[i].Path, row[0]);
            Assert.Equal(expected[i], row.Skip(4 + 128).Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray());
        }
    }

    [Fact]
    public void ExtractWithoutTheFaceWritesTheFunctionalsOfAudioFilesAndLeavesOutABadOne()
    {
        var speech = ClipManifest.FromShared("ravdess-speech-16k").Where(c => c.Speaker == "03").Take(2).ToList();
        // A video without a sound track has nothing to measure: a typed NoAudio error, left out like the broken file.
        var silent = MediaTools.Make(Path.Combine(f.Dir, "no-audio.mp4"), "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-t", "1", "-pix_fmt", "yuv420p");
        var clips = speech.Append(new ClipRecord(f.Broken, "happy", "01")).Append(new ClipRecord(silent, "sad", "01")).ToList();
        var manifest = Path.Combine(f.Dir, "extract-no-face.csv");
        ClipManifest.Write(manifest, clips, relative: false);
        var csv = Path.Combine(f.Dir, "features-no-face.csv");
        var r = f.RunFresh("extract", "--manifest", manifest, "--acoustic", "--no-face", "--out", csv);
        Assert.Equal(ExitCodes.RuntimeError, r.ExitCode);
        Assert.Contains(Path.GetFileName(f.Broken), r.Error);
        Assert.Contains($"error: {silent}:", r.Error);
        Assert.Contains("MediaFileException (NoAudio); clip left out", r.Error);
        Assert.Contains("2 clips of 4 failed", r.Error);
        Assert.Contains("2 clips → ", r.Output);
        Assert.Contains("(65 acoustic functionals)", r.Output);
        var lines = File.ReadAllLines(csv);
        Assert.Equal(3, lines.Length);
        Assert.Equal(new[] { "path", "label", "speaker" }.Concat(EmotionML.AcousticFeatures.AcousticFeatureNames.All), lines[0].Split(','));
        var ml = new MLContext(0);
        var data = ml.Data.LoadFromEnumerable(speech.Select(c => new ClipRow { VideoPath = c.Path }));
        var expected = ml.Transforms.LoadVideo(new VideoInputOptions { DecodeVideo = false }).Append(ml.Transforms.ExtractAcousticFeatures()).Fit(data).Transform(data)
            .GetColumn<float[]>("AcousticFeatures").ToArray();
        for (var i = 0; i < 2; i++)
        {
            var row = lines[i + 1].Split(',');
            Assert.Equal([speech[i].Path, speech[i].Label, "03"], row.Take(3));
            Assert.Equal(expected[i], row.Skip(3).Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray());
        }
    }

    [Theory]
    [InlineData("--no-face needs --acoustic or --audio-cnn", "--no-face")]
    [InlineData("--geometry measures the face", "--no-face", "--acoustic", "--geometry")]
    public void ExtractWithoutTheFaceRefusesOptionsThatNeedNoneOrTheFace(string message, params string[] options)
    {
        var r = CliRunner.RunShared(["extract", "--dataset", "javanese-av", "--out", Path.Combine(f.Dir, "unused.csv"), .. options]);
        Assert.Equal(ExitCodes.UsageError, r.ExitCode);
        Assert.Contains(message, r.Error);
        Assert.False(File.Exists(Path.Combine(f.Dir, "unused.csv")));
    }

    [Fact]
    public void EvaluateRunsTwoSpeakerFoldsAndLeavesOutABadClip()
    {
        var clips = f.Clips.Append(new ClipRecord(f.Broken, "happy", "01")).ToList();
        var manifest = Path.Combine(f.Dir, "evaluate.csv");
        ClipManifest.Write(manifest, clips, relative: false);
        var md = Path.Combine(f.Dir, "evaluate.md");
        var r = CliRunner.RunShared("--threads", "1", "evaluate", "--manifest", manifest, "--folds", "2", "--frames", $"{MainPathFixture.Frames}", "--backbone", "minixception",
            "--audio-cnn", f.AudioCnn, "--epochs", "1", "--markdown", md);
        Assert.Equal(ExitCodes.RuntimeError, r.ExitCode);
        Assert.Contains($"error: {f.Broken}:", r.Error);
        Assert.Contains("1 clip of 9 failed", r.Error);
        Assert.Contains("2-fold speaker-independent, 8 clips", r.Output);
        // Pooled confusion matrix: every good clip counted once.
        var counts = r.Output.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal) && Emotions.Any(e => l.StartsWith($"| {e} |", StringComparison.Ordinal)))
            .Select(l => l.Split('|', StringSplitOptions.TrimEntries).Skip(2).SkipLast(2).Sum(int.Parse)).ToList();
        Assert.Equal(4, counts.Count);
        Assert.All(counts, c => Assert.Equal(2, c));
        var table = File.ReadAllText(md);
        Assert.Contains("Data: 8 clips, 2 speakers, 2-fold", table);
    }

    [Fact]
    public void TrainAudioRunsTwoSpeakerFoldsAndWritesALoadableCnn()
    {
        var md = Path.Combine(f.Dir, "train-audio.md");
        var onnx = Path.Combine(f.Dir, "cnn-cv.onnx");
        var r = f.RunFresh("--threads", "1", "train-audio", "--manifest", f.SpeechManifest, "--folds", "2", "--epochs", "1", "--channels", "8-8-8-8-8", "--out", onnx, "--markdown", md);
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("audio CNN, 2-fold speaker-independent CV: accuracy", r.Output);
        var text = File.ReadAllText(md);
        Assert.Contains("8 clips, 2 speakers", text);
        var perFold = text[(text.IndexOf("per fold: ", StringComparison.Ordinal) + 10)..].Split('\n')[0].Split(", ");
        Assert.Equal(new[] { "01", "02" }, perFold.Select(p => p.Split(' ')[0]));
        using var transformer = EmotionML.AudioCnn.AudioFeatureTransformer.FromOnnxFile(new Microsoft.ML.MLContext(0), onnx);
        Assert.Equal((300, 200, MainPathFixture.AudioPositions, 8), (transformer.Shape.Frames, transformer.Shape.Bins, transformer.Shape.Positions, transformer.Shape.Channels));
    }
}
