using System.Text.Json;
using EmotionML.Cli;
using EmotionML.Core;
using EmotionML.FaceFeatures;
using EmotionML.Experiments;
using EmotionML.VideoInput;
using Microsoft.ML;
using Xunit;

namespace EmotionML.Tests.Cli;

public sealed class CliCommandTests
{
    [Fact]
    public void ManifestForJavaneseListsEveryClipWithLabelAndSpeakerFromLabelsCsv()
    {
        var csv = Path.Combine(TestData.TempDir("cli-manifest"), "javanese.csv");
        var r = CliRunner.RunShared("manifest", "--dataset", "javanese-av", "--out", csv);
        Assert.True(r.ExitCode == 0, r.Error);
        var lines = File.ReadAllLines(csv);
        Assert.Equal("path,label,speaker", lines[0]);
        Assert.Equal(169, lines.Length);

        var expected = File.ReadAllLines(Path.Combine(TestData.JavaneseDir, "labels.csv")).Skip(1)
            .Select(l => l.Split(','))
            .ToDictionary(f => Path.GetFullPath(Path.Combine(TestData.JavaneseDir, f[0])), f => (Label: f[1], Speaker: f[3]));
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
        Assert.All(rows, f => Assert.Equal(3, f.Length));
        foreach (var f in rows)
        {
            Assert.True(Path.IsPathRooted(f[0]), f[0]);
            Assert.True(File.Exists(f[0]), f[0]);
            Assert.Equal(expected[f[0]], (f[1], f[2]));
        }
        Assert.Equal(new[] { "01", "02", "03", "04", "05", "06", "07" }, rows.Select(f => f[2]).Distinct().Order());
        Assert.Equal(new[] { "angry", "fear", "happy", "neutral", "sad", "surprise" }, rows.Select(f => f[1]).Distinct().Order());
        Assert.All(rows.GroupBy(f => f[1]), g => Assert.Equal(28, g.Count()));
        Assert.Contains("168 clips, 7 speakers", r.Output);
    }

    [Fact]
    public void RelativeManifestReadsBackToTheSameFiles()
    {
        var dir = TestData.TempDir("cli-manifest-rel");
        var csv = Path.Combine(dir, "sub", "cremad.csv");
        var r = CliRunner.RunShared("manifest", "--dataset", "cremad-av-sample", "--out", csv, "--relative");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.DoesNotContain(File.ReadAllLines(csv).Skip(1), l => Path.IsPathRooted(l.Split(',')[0]));
        var entries = ClipManifest.Read(csv);
        Assert.Equal(12, entries.Count);
        Assert.All(entries, e => Assert.True(File.Exists(e.Path), e.Path));
        Assert.Equal(new[] { "1001", "1002" }, entries.Select(e => e.Speaker).Distinct().Order());
    }

    [Fact]
    public void ModelsReportsEveryPretrainedModelPresentInSharedFolder()
    {
        var r = CliRunner.RunShared("models", "--check", "--json");
        Assert.True(r.ExitCode == 0, r.Output + r.Error);
        using var doc = JsonDocument.Parse(r.Output);
        var models = doc.RootElement.GetProperty("pretrained").EnumerateArray().ToList();
        Assert.Equal(7, models.Count);
        Assert.All(models, m => Assert.Equal("present", m.GetProperty("state").GetString()));
        foreach (var known in ModelFiles.All)
            Assert.Contains(models, m => m.GetProperty("name").GetString() == known.Name);

        var table = CliRunner.RunShared("models");
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("yunet", table.Output);
        Assert.Contains("emotionml train", table.Output);
    }

    /// <summary>
    /// <c>train-face --shipped-logits</c> also scores FER2013 Training when its activations are cached (has the shipped
    /// network seen Training?): through the cached prefix, equal to ONNX Runtime on the shipped file over the same images.
    /// </summary>
    [Fact]
    public void ShippedLogitsAlsoScoreTheCachedTrainingImagesLikeOnnxRuntime()
    {
        var before = CliRunner.RunShared("--threads", "1", "train-face", "--backbone", "densenet121", "--limit", "1", "--shipped-logits");
        Assert.Equal(0, before.ExitCode);
        Assert.Contains("classifier on FER2013 PublicTest (7 images)", before.Output);
        Assert.Equal(0, CliRunner.RunShared("--threads", "1", "train-face", "--backbone", "densenet121", "--limit", "1", "--copies", "1", "--cache-only").ExitCode);
        var r = CliRunner.RunShared("--threads", "1", "train-face", "--backbone", "densenet121", "--limit", "1", "--shipped-logits");
        Assert.Equal(0, r.ExitCode);
        var training = EmotionML.Training.FaceTuning.FerImages.Load(SharedPaths.Combine("data", "fer2013"), "Training").GroupBy(i => i.Label).OrderBy(g => g.Key).SelectMany(g => g.Take(1)).ToList();
        var shipped = FaceBackbone.Of(FaceBackboneKind.FerDenseNet121);
        var (reference, _) = EmotionML.Training.FaceTuning.FaceLogitsEvaluation.Run(File.ReadAllBytes(shipped.Model.Resolve()), shipped, shipped.LogitsTensor!, training, new OnnxExecutionOptions { IntraOpThreads = 1 });
        Assert.Contains(FormattableString.Invariant($"classifier on FER2013 Training (7 images, cached activations): {100 * reference:0.0} %"), r.Output);
    }

    [Fact]
    public void ShippedLogitsOfAFaceRecognitionBackboneIsATypedErrorThatSaysWhatToUse()
    {
        var r = CliRunner.RunShared("train-face", "--backbone", "mobilefacenet", "--shipped-logits", "--limit", "1");
        Assert.Equal(ExitCodes.RuntimeError, r.ExitCode);
        Assert.Contains("has no emotion classifier", r.Error);
        Assert.Contains("--head-only", r.Error);
    }

    [Fact]
    public void AnUnknownExtraBackboneIsNamedInTheError()
    {
        var r = CliRunner.RunShared("evaluate", "--speaker-adaptation", "--probe-only", "--extra-backbones", "resnet50");
        Assert.NotEqual(ExitCodes.Ok, r.ExitCode);
        Assert.Contains("--extra-backbones resnet50", r.Error);
    }

    [Fact]
    public void GeometryAloneWithExtraBackbonesIsAUsageErrorNotASilentlyIgnoredFlag()
    {
        var r = CliRunner.RunShared("evaluate", "--speaker-adaptation", "--probe-only", "--geometry", "alone", "--extra-backbones", "mobilefacenet");
        Assert.Equal(ExitCodes.UsageError, r.ExitCode);
        Assert.Contains("--geometry alone uses the landmark measures instead of every backbone's features", r.Error);
    }

    [Fact]
    public void SkippingFacelessFramesWithSpeakerAdaptationIsAUsageErrorNotASilentlyIgnoredFlag()
    {
        var r = CliRunner.RunShared("evaluate", "--speaker-adaptation", "--probe-only", "--skip-faceless-frames");
        Assert.Equal(ExitCodes.UsageError, r.ExitCode);
        Assert.Contains("--skip-faceless-frames is not supported with --speaker-adaptation", r.Error);
    }

    [Fact]
    public void ModelsFlagsMissingFilesAndSaysWhereTheyComeFrom()
    {
        var empty = TestData.TempDir("cli-models-empty");
        var r = CliRunner.Run("--shared", empty, "models", "--check");
        Assert.Equal(ExitCodes.RuntimeError, r.ExitCode);
        Assert.Contains("missing", r.Output);
        Assert.Contains("npm pack faceplugin-face-recognition-js@0.0.1", r.Output);
        Assert.Equal(0, CliRunner.Run("--shared", empty, "models").ExitCode);
    }

    [Theory]
    [InlineData("no-such-command")]
    [InlineData("manifest", "--out", "x.csv")]
    [InlineData("manifest", "--dataset", "afew", "--out", "x.csv")]
    [InlineData("predict")]
    [InlineData("--threads", "-1", "models")]
    [InlineData("--device", "tpu", "models")]
    [InlineData("models", "--bogus")]
    public void BadUsageExitsWith2AndExplains(params string[] args)
    {
        var r = CliRunner.Run(args);
        Assert.Equal(ExitCodes.UsageError, r.ExitCode);
        Assert.Contains("error:", r.Error);
        Assert.Contains("--help", r.Error);
    }

    [Fact]
    public void HelpExplainsEveryCommandAndOption()
    {
        var root = CliRunner.Run("--help");
        Assert.Equal(0, root.ExitCode);
        foreach (var word in new[] { "predict", "manifest", "models", "--shared", "--device", "--threads" })
            Assert.Contains(word, root.Output);
        var predict = CliRunner.Run("predict", "--help");
        Assert.Contains("--json", predict.Output);
    }

    private sealed class Clip { public string VideoPath { get; set; } = ""; }

    /// <summary>A real model zip (a LoadVideo-only chain): loadable, but with no classifier head.</summary>
    private static string VideoOnlyModel()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[] { new Clip { VideoPath = TestData.Javanese("02-01-03_01.mp4") } });
        var model = ml.Transforms.LoadVideo(new VideoInputOptions { FrameCount = 2 }).Fit(data);
        var zip = Path.Combine(TestData.TempDir("cli-predict"), "video-only.zip");
        ml.Model.Save(model, data.Schema, zip);
        return zip;
    }

    [Fact]
    public void PredictWithAModelThatHasNoScoreColumnSaysSo()
    {
        var r = CliRunner.RunShared("predict", VideoOnlyModel(), TestData.Javanese("02-01-03_01.mp4"), "--json");
        Assert.Equal(ExitCodes.RuntimeError, r.ExitCode);
        Assert.Contains("no Score column", r.Error);
        Assert.DoesNotContain("   at ", r.Error);
    }

    [Fact]
    public void PredictOnAFileThatIsNotAModelExitsWith1()
    {
        var dir = TestData.TempDir("cli-notzip");
        var zip = Path.Combine(dir, "model.zip");
        File.WriteAllText(zip, "not a zip");
        var r = CliRunner.RunShared("predict", zip, TestData.Javanese("02-01-03_01.mp4"));
        Assert.Equal(ExitCodes.RuntimeError, r.ExitCode);
        Assert.Contains("cannot be loaded", r.Error);
    }

    [Fact]
    public void ScoresBecomeProbabilities()
    {
        Assert.Equal(new[] { 0.25f, 0.75f }, EmotionML.Cli.Commands.PredictCommand.ToProbabilities([0.25f, 0.75f]));
        var p = EmotionML.Cli.Commands.PredictCommand.ToProbabilities([1f, 1f, 1f, 1f]);
        Assert.All(p, v => Assert.Equal(0.25f, v, 5));
    }
}
