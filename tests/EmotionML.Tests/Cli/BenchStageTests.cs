using System.Text.RegularExpressions;
using EmotionML.Cli;
using EmotionML.Cli.Bench;
using Xunit;

namespace EmotionML.Tests.Cli;

/// <summary>Plumbing of the bench stages (selection, options, output); never timings.</summary>
public sealed class BenchStageTests
{
    [Fact]
    public void EveryHookIsImplementedAndBackbonesRunsOnlyWhenNamed()
    {
        var names = BenchStages.All.Select(s => s.Name).ToList();
        Assert.Equal(["decode", "face", "spectrogram", "face-features", "audio-cnn", "head", "chain", "backbones"], names);
        Assert.All(BenchStages.All, s => Assert.True(s.Implemented, s.Name));
        Assert.DoesNotContain(BenchStages.All, s => s is PendingStage);
        Assert.Equal(names.Where(n => n != "backbones"), BenchStages.Default.Select(s => s.Name));
    }

    [Fact]
    public void HelpListsTheNewStagesAndOptions()
    {
        var r = CliRunner.Run("bench", "--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var word in new[] { "face-features", "audio-cnn", "head", "chain", "backbones", "--fer-train", "--fer-test", "only when named" })
            Assert.Contains(word, r.Output);
        Assert.DoesNotContain("not measured yet", r.Output);
    }

    [Theory]
    [InlineData("--fer-train", "0")]
    [InlineData("--fer-test", "-1")]
    public void BadSampleSizesAreUsageErrors(string option, string value)
    {
        var r = CliRunner.Run("bench", "--stages", "backbones", option, value);
        Assert.Equal(ExitCodes.UsageError, r.ExitCode);
        Assert.Contains(option, r.Error);
    }

    [Fact]
    public void HeadStageExitsZeroAndPrintsARatioLinePerMeasure()
    {
        var md = Path.Combine(TestData.TempDir("bench-head"), "bench.md");
        var r = CliRunner.RunShared("--threads", "1", "bench", "--clips", "1", "--stages", "head", "--repeat", "1", "--markdown", md);
        Assert.True(r.ExitCode == 0, r.Output + r.Error);
        Assert.Contains("ratio = stage wall time", r.Output);
        var lines = File.ReadAllLines(md).Where(l => l.StartsWith("| head |", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, lines.Count);
        // Every line has a numeric ratio cell (the 7th cell); the value itself is not checked.
        Assert.All(lines, l => Assert.Matches(new Regex(@"^\d+\.\d\d$"), l.Split('|')[6].Trim()));
        Assert.Contains(lines, l => l.Contains("TorchSharp", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("s/epoch", StringComparison.Ordinal));
    }

    [Fact]
    public void StagesCanBeCombinedAndKeepTheirRunOrder()
    {
        var md = Path.Combine(TestData.TempDir("bench-two"), "bench.md");
        var r = CliRunner.RunShared("--threads", "1", "bench", "--clips", "1", "--stages", "spectrogram", "decode", "--markdown", md);
        Assert.True(r.ExitCode == 0, r.Output + r.Error);
        var stages = File.ReadAllLines(md).Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| stage", StringComparison.Ordinal))
            .Select(l => l.Split('|')[1].Trim()).Distinct().ToList();
        Assert.Equal(["decode", "spectrogram"], stages);
    }
}
