using System.IO.Compression;
using EmotionML.FaceAlignment;
using EmotionML.FaceFeatures;
using EmotionML.Fusion;
using EmotionML.Tests.Cli;
using EmotionML.Training;
using EmotionML.Training.Fusion;
using EmotionML.VideoInput;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms;
using Xunit;

namespace EmotionML.Tests.Persistence;

/// <summary>A model zip holds what was learned, not where it was trained: deployment settings are given at load time.</summary>
public sealed class DeploymentTests : Fusion.TorchTestBase
{
    private sealed class Row
    {
        public string VideoPath { get; set; } = "";
        public string Label { get; set; } = "";
    }

    private static readonly string[] TrainClips = ["01-01-01_01.mp4", "01-01-03_01.mp4", "02-01-01_01.mp4", "02-01-03_01.mp4"];

    private static OnnxExecutionOptions Cuda() => new() { Device = ExecutionDevice.Cuda, FallbackToCpu = true, IntraOpThreads = 1 };

    /// <summary>Trains face-only on four clips with a feature cache and CUDA asked for everywhere; saves the zip.</summary>
    private static (string Zip, string CacheDir, string Root, IDataView Test, List<Dictionary<string, string>> Here) TrainAndSave(MLContext ml)
    {
        var root = TestData.TempDir("deployment");
        var cacheDir = Path.Combine(root, "blocker", "cache");
        var rows = TrainClips.Select(c => new Row { VideoPath = TestData.Javanese(c), Label = c.Contains("-01_") ? "neutral" : "happy" }).ToList();
        var train = ml.Data.LoadFromEnumerable(rows);
        var toKey = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(train);
        var pipeline = ml.Transforms.LoadVideo(new VideoInputOptions { FrameCount = 2, MaxFrameSide = 320 })
            .Append(ml.Transforms.AlignFaces(new FaceAlignmentOptions { MaxFrames = 2, Execution = Cuda() }))
            .Append(ml.Transforms.ExtractFaceFeatures(new FaceFeatureOptions { Backbone = FaceBackboneKind.MiniXception, CacheDirectory = cacheDir, Execution = Cuda() }))
            .Append(ml.Transforms.EmotionFusionHead(new FusionHeadTrainerOptions
            {
                Head = new FusionHeadOptions { Modalities = Modalities.FaceOnly },
                Training = new TrainerOptions { MaxEpochs = 2, BatchSize = 2, ValidationFraction = 0, Seed = 1, Device = ExecutionDevice.Cuda },
                Columns = new FusionHeadColumns { Execution = Cuda() },
            }));
        var model = pipeline.Fit(toKey.Transform(train));
        Assert.True(Directory.EnumerateFiles(cacheDir, "*", SearchOption.AllDirectories).Any(), "training should have filled the feature cache");
        var test = ml.Data.LoadFromEnumerable(new[] { new Row { VideoPath = TestData.Javanese("03-01-03_01.mp4") } });
        var zip = Path.Combine(root, "model.zip");
        ml.Model.Save(model, test.Schema, zip);
        var here = ModelProcess.DumpHere(model.Transform(test));
        return (zip, cacheDir, root, test, here);
    }

    [Fact]
    public void ZipTrainedWithACacheAndCudaLoadsElsewhereWithoutCreatingAnythingAndTakesDeploymentAtLoad()
    {
        var ml = new MLContext(seed: 1);
        var (zip, cacheDir, root, test, here) = TrainAndSave(ml);

        // Nothing of the training machine is in the zip.
        using (var archive = ZipFile.OpenRead(zip))
            foreach (var entry in archive.Entries)
            {
                using var reader = new StreamReader(entry.Open(), System.Text.Encoding.Latin1);
                var text = reader.ReadToEnd();
                Assert.DoesNotContain(cacheDir, text);
                Assert.DoesNotContain("\"Execution\"", text);
                Assert.DoesNotContain("\"CacheDirectory\"", text);
            }

        // The cache folder is gone and cannot be created: its parent is now a file.
        var blocker = Path.Combine(root, "blocker");
        Directory.Delete(blocker, recursive: true);
        File.WriteAllText(blocker, "not a folder");
        var home = Path.Combine(root, "home-that-does-not-exist");
        var there = ModelProcess.DumpInNewProcess(zip, new Dictionary<string, string> { ["HOME"] = home, ["EMOTIONML_CACHE"] = Path.Combine(blocker, "env-cache") },
            TestData.Javanese("03-01-03_01.mp4"));
        Assert.Single(there.Rows);
        foreach (var column in new[] { "FaceFeatures", "Score", "PredictedLabel", "FaceAttention" })
            Assert.True(here[0][column] == there.Rows[0][column], $"column {column} differs in the new process");
        Assert.True(File.Exists(blocker));
        // ONNX Runtime itself may write its telemetry device id under ~/.cache/Microsoft/DeveloperTools; EmotionML writes nothing.
        var written = Directory.Exists(home) ? Directory.EnumerateFiles(home, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(home, f)).ToList() : [];
        Assert.All(written, f => Assert.StartsWith(Path.Combine(".cache", "Microsoft", "DeveloperTools", ".onnxruntime"), f));
        Assert.Equal(new[] { blocker, Path.Combine(root, "model.zip") }.Order(StringComparer.Ordinal), Directory.EnumerateFileSystemEntries(root).Where(e => e != home).Order(StringComparer.Ordinal));

        // A plain load runs on the CPU with no warning: the CUDA request was not saved.
        var plain = new MLContext(seed: 1);
        var plainWarnings = Warnings(plain);
        var plainModel = (TransformerChain<ITransformer>)EmotionModel.Load(plain, zip);
        var plainHead = Assert.IsType<FusionHeadTransformer>(plainModel.Last());
        Assert.Equal(here[0]["Score"], ModelProcess.DumpHere(plainModel.Transform(test))[0]["Score"]);
        Assert.Equal("CPU", plainHead.Provider);
        Assert.Null(Assert.IsType<FaceFeatureTransformer>(plainModel.ElementAt(2)).Cache);
        Assert.DoesNotContain(plainWarnings, w => w.Contains("CUDA"));

        // CUDA given at load time takes effect: the head runs on CUDA, or (no CUDA here) falls back with a warning in mlContext.Log.
        var cuda = new MLContext(seed: 1);
        var cudaWarnings = Warnings(cuda);
        var cudaModel = (TransformerChain<ITransformer>)EmotionModel.Load(cuda, zip, new EmotionDeploymentOptions { Execution = { Device = ExecutionDevice.Cuda } });
        var cudaHead = Assert.IsType<FusionHeadTransformer>(cudaModel.Last());
        Assert.True(cudaHead.Provider == "CUDA:0" || cudaWarnings.Any(w => w.Contains("fusion head: CUDA execution provider unavailable")),
            $"provider {cudaHead.Provider}, warnings: {string.Join(" | ", cudaWarnings)}");
        if (cudaHead.Provider == "CPU")
        {
            // Without fallback the same request fails with a typed error instead.
            var strict = EmotionModel.Load(new MLContext(1), zip, new EmotionDeploymentOptions { Execution = { Device = ExecutionDevice.Cuda, FallbackToCpu = false } });
            var e = Assert.Throws<EmotionMLException>(() => ((FusionHeadTransformer)((TransformerChain<ITransformer>)strict).Last()).Provider);
            Assert.Contains("CUDA", e.Message);
        }

        // A cache folder given at load time is used.
        var cacheAtLoad = Path.Combine(root, "load-cache");
        var cached = (TransformerChain<ITransformer>)EmotionModel.Load(new MLContext(1), zip, new EmotionDeploymentOptions { FeatureCacheDirectory = cacheAtLoad });
        Assert.Equal(here[0]["FaceFeatures"], ModelProcess.DumpHere(cached.Transform(test))[0]["FaceFeatures"]);
        Assert.Single(Directory.EnumerateFiles(cacheAtLoad, "*.emlff", SearchOption.AllDirectories));

        // The CLI's --device on predict is a load-time setting, and the CLI prints the stages' warnings.
        var cli = CliRunner.RunShared("--device", "cuda", "--threads", "1", "predict", zip, TestData.Javanese("03-01-03_01.mp4"), "--json");
        Assert.Equal(0, cli.ExitCode);
        if (cudaHead.Provider == "CPU") Assert.Contains("warning: fusion head: CUDA execution provider unavailable", cli.Error);
        var cpuCli = CliRunner.RunShared("predict", zip, TestData.Javanese("03-01-03_01.mp4"), "--json");
        Assert.Equal(0, cpuCli.ExitCode);
        Assert.DoesNotContain("CUDA", cpuCli.Error);
    }

    private static List<string> Warnings(MLContext ml)
    {
        var list = new List<string>();
        ml.Log += (_, e) =>
        {
            if (e.Kind == ChannelMessageKind.Warning) lock (list) list.Add(e.RawMessage);
        };
        return list;
    }
}
