using System.Text.RegularExpressions;
using EmotionML.Benchmarks;
using EmotionML.Benchmarks.Stages;
using Xunit;

namespace EmotionML.Tests.Cli;

/// <summary>Plumbing of the benchmarks' entry (selection, options, output); never timings.</summary>
public sealed class BenchStageTests
{
    private sealed record Result(int ExitCode, string Output, string Error);

    private static Result Bench(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = BenchProgram.Run(["--shared", SharedPaths.Root, .. args], output, error);
        return new Result(code, output.ToString(), error.ToString());
    }

    private static List<string[]> Lines(string markdown, string stage)
        => File.ReadAllLines(markdown).Where(l => l.StartsWith($"| {stage} |", StringComparison.Ordinal)).Select(l => l.Split('|').Select(c => c.Trim()).ToArray()).ToList();

    [Fact]
    public void StagesRunInTheirOrder()
        => Assert.Equal(["decode", "face", "spectrogram", "acoustic", "face-features", "audio-cnn", "head", "chain", "throughput"], BenchStages.All.Select(s => s.Name));

    [Fact]
    public void HelpListsTheStagesAndOptions()
    {
        var r = Bench("--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var word in new[] { "--clips", "--repeat", "--stages", "--markdown", "face-features", "audio-cnn", "head", "chain", "OpenCV", "scipy" })
            Assert.Contains(word, r.Output);
    }

    [Theory]
    [InlineData("--clips", "0")]
    [InlineData("--clips", "many")]
    [InlineData("--stages", "warp")]
    [InlineData("--repeat", "0")]
    [InlineData("--clips", "500")]
    public void BadUsageExitsWith2AndExplains(string option, string value)
    {
        var r = Bench(option, value);
        Assert.Equal(BenchProgram.UsageError, r.ExitCode);
        Assert.Contains("error:", r.Error);
        Assert.Contains(value == "warp" ? "warp" : option, r.Error);
    }

    [Fact]
    public void HeadStageExitsZeroAndPrintsARatioLinePerMeasure()
    {
        var md = Path.Combine(TestData.TempDir("bench-head"), "bench.md");
        var r = Bench("--threads", "1", "--clips", "1", "--stages", "head", "--repeat", "1", "--markdown", md);
        Assert.True(r.ExitCode == 0, r.Output + r.Error);
        Assert.Contains(BenchProgram.RatioNote, r.Output);
        var lines = Lines(md, "head");
        Assert.Equal(3, lines.Count);
        // Every line has a numeric ratio cell (the 7th cell); the value itself is not checked.
        Assert.All(lines, l => Assert.Matches(new Regex(@"^\d+\.\d\d$"), l[6]));
        Assert.Contains(lines, l => l[4].Contains("TorchSharp", StringComparison.Ordinal));
        Assert.Contains(lines, l => l[2].Contains("s/epoch", StringComparison.Ordinal));
    }

    [Fact]
    public void FaceSpectrogramAndDecodeStagesPrintTheirPeersAndTheHeadlineTable()
    {
        var md = Path.Combine(TestData.TempDir("bench-peers"), "bench.md");
        var r = Bench("--clips", "1", "--stages", "spectrogram", "decode", "face", "--markdown", md);
        Assert.True(r.ExitCode == 0, r.Output + r.Error);
        var text = File.ReadAllText(md);
        Assert.Contains("dotnet run -c Release --project tests/EmotionML.Benchmarks -- ", text);
        Assert.Contains("## Against the peers", text);
        // Run order, not the order named.
        var stages = File.ReadAllLines(md).SkipWhile(l => !l.StartsWith("## Every line", StringComparison.Ordinal))
            .Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| stage", StringComparison.Ordinal))
            .Select(l => l.Split('|')[1].Trim()).Distinct().ToList();
        Assert.Equal(["decode", "face", "spectrogram"], stages);
        Assert.Contains(Lines(md, "decode"), l => l[4].Contains("ffmpeg", StringComparison.Ordinal) && Regex.IsMatch(l[6], @"^\d+\.\d\d$"));
        Assert.Contains(Lines(md, "face"), l => l[4].Contains("OpenCV FaceDetectorYN", StringComparison.Ordinal) && Regex.IsMatch(l[6], @"^\d+\.\d\d$"));
        Assert.Matches(new Regex(@"Face found \(score ≥ 0\.6\): EmotionML \d+/16 frames"), text);
        var spectrogram = Lines(md, "spectrogram");
        Assert.Equal(3, spectrogram.Count);
        // scipy present: a ratio and the agreement; absent: the bench says so.
        if (File.Exists("/usr/bin/python3") && spectrogram[0][6] != "-")
            Assert.Matches(new Regex(@"Spectrogram agreement with scipy: max relative difference of the power \d\.\de-\d+"), text);
        else
            Assert.Contains("scipy peer not run", text);
    }

    [Fact]
    public void AcousticStageComparesWithAubioAndReportsTheF0Agreement()
    {
        var md = Path.Combine(TestData.TempDir("bench-acoustic"), "bench.md");
        var r = Bench("--clips", "2", "--stages", "acoustic", "--repeat", "1", "--markdown", md);
        Assert.True(r.ExitCode == 0, r.Output + r.Error);
        var text = File.ReadAllText(md);
        var lines = Lines(md, "acoustic");
        Assert.Equal(2, lines.Count);
        Assert.Contains("aubio", lines[0][4]);
        Assert.Contains("NWaves Pitch.FromYin", lines[1][4]);
        Assert.All(lines, l => Assert.Matches(new Regex(@"^\d+\.\d\d$"), l[6]));
        // The agreement is a measured fact: 2 Javanese clips, both voiced, both within a semitone of aubio's YIN.
        Assert.Matches(new Regex(@"median F0 within 1 semitone of aubio YIN's on 2/2 clips"), text);
    }
}
