using EmotionML.Benchmarks.Stages;
using EmotionML.FaceFeatures;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EmotionML.Benchmarks;

/// <summary>Throughput of one backbone.</summary>
/// <param name="Backbone">The backbone.</param>
/// <param name="Frames">Real frames per clip in the benchmark row.</param>
/// <param name="BasicFramesPerSecond">Frames/s of the ML.NET transform with Basic features (all frames in one batch).</param>
/// <param name="CopiesFramesPerSecond">Frames/s of the ML.NET transform with F-Mean (18 copies per frame, one batch per frame).</param>
/// <param name="BareOrtFramesPerSecond">Frames/s of a bare ONNX Runtime session on the same, already preprocessed, batch.</param>
/// <param name="TransformOverBareRatio">Basic transform time / bare session time (≥ 1; the overhead of preprocessing and ML.NET plumbing).</param>
/// <param name="Provider">ONNX Runtime provider used.</param>
/// <param name="RunSize">Images per Run call the stage uses (<see cref="BackboneRunner.MaxBatch"/>).</param>
/// <param name="BareRunSizeFramesPerSecond">Frames/s of the bare session on the same batch split into Run calls of <paramref name="RunSize"/>.</param>
internal sealed record FaceFeatureBenchmarkRow(FaceBackboneKind Backbone, int Frames, double BasicFramesPerSecond, double CopiesFramesPerSecond,
    double BareOrtFramesPerSecond, double TransformOverBareRatio, string Provider, int RunSize = 0, double BareRunSizeFramesPerSecond = 0);

/// <summary>Measures frames/s per backbone, Basic vs 18 copies, and the ML.NET transform against a bare ONNX Runtime session (for the CLI <c>bench</c> command).</summary>
internal static class FaceFeatureBenchmark
{
    private sealed class Row
    {
        public byte[] FaceCrops { get; set; } = [];
        public float[] FrameMask { get; set; } = [];
    }

    /// <summary>Runs each backbone on one synthetic clip of <paramref name="frames"/> frames (content does not change the cost), best of <paramref name="repeats"/>.</summary>
    public static IReadOnlyList<FaceFeatureBenchmarkRow> Run(int frames = 8, int repeats = 2, IEnumerable<FaceBackboneKind>? backbones = null, OnnxExecutionOptions? execution = null)
    {
        var random = new Random(5);
        var crops = new byte[frames * 224 * 224 * 3];
        random.NextBytes(crops);
        var mask = Enumerable.Repeat(1f, frames).ToArray();
        var ml = new MLContext(1);
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.FaceCrops)].ColumnType = new VectorDataViewType(NumberDataViewType.Byte, frames, 224, 224, 3);
        schema[nameof(Row.FrameMask)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, frames);
        var data = ml.Data.LoadFromEnumerable([new Row { FaceCrops = crops, FrameMask = mask }], schema);
        var results = new List<FaceFeatureBenchmarkRow>();
        foreach (var kind in backbones ?? Enum.GetValues<FaceBackboneKind>())
        {
            var b = FaceBackbone.Of(kind);
            var bytes = File.ReadAllBytes(b.Model.Resolve());
            Action Transform(FeatureEnhancement e)
            {
                var t = ml.Transforms.ExtractFaceFeatures(new FaceFeatureOptions { Backbone = kind, Enhancement = e, Execution = execution ?? new() }).Fit(data);
                var output = t.Transform(data);
                return () => output.GetColumn<float[]>("FaceFeatures").ToArray();
            }
            using var runner = new BackboneRunner(b, bytes, execution);
            var input = new float[frames * b.InputLength];
            var scratch = runner.NewScratch();
            for (var f = 0; f < frames; f++) runner.Preprocess(crops.AsSpan(f * 224 * 224 * 3, 224 * 224 * 3), CropCopy.Identity, input, f, scratch);
            using var session = OnnxRunner.Create(b.PrepareGraph(bytes, symbolicBatch: true), execution, "benchmark");
            var tensor = new DenseTensor<float>(input, [frames, b.Channels, b.InputSize, b.InputSize]);
            var runSize = Math.Min(runner.MaxBatch, frames);
            var chunks = Enumerable.Range(0, (frames + runSize - 1) / runSize)
                .Select(i => new DenseTensor<float>(input.AsMemory(i * runSize * b.InputLength, Math.Min(runSize, frames - i * runSize) * b.InputLength),
                    [Math.Min(runSize, frames - i * runSize), b.Channels, b.InputSize, b.InputSize])).ToArray();
            var best = Timing.BestOf(repeats, Transform(FeatureEnhancement.Basic), Transform(FeatureEnhancement.FMean),
                () => { using var r = session.Session.Run([NamedOnnxValue.CreateFromTensor(b.InputName, tensor)]); },
                () => { foreach (var c in chunks) { using var r = session.Session.Run([NamedOnnxValue.CreateFromTensor(b.InputName, c)]); } });
            var (basic, copies, bare, bareRunSize) = (best[0], best[1], best[2], best[3]);
            results.Add(new FaceFeatureBenchmarkRow(kind, frames, frames / basic, frames / copies, frames / bare, basic / bare, session.Provider, runSize, frames / bareRunSize));
        }
        return results;
    }

    /// <summary>
    /// Frames/s of one backbone's ONNX Runtime session (via <see cref="BackboneRunner"/>) on the same <paramref name="frames"/>
    /// preprocessed crops, split into Run calls of each of <paramref name="batchSizes"/> images (best of <paramref name="repeats"/>).
    /// </summary>
    public static IReadOnlyList<(int Batch, double FramesPerSecond)> RunBatchSizes(FaceBackboneKind kind, int frames, IReadOnlyList<int> batchSizes,
        int repeats = 2, OnnxExecutionOptions? execution = null)
    {
        var random = new Random(5);
        var crops = new byte[frames * 224 * 224 * 3];
        random.NextBytes(crops);
        var b = FaceBackbone.Of(kind);
        using var runner = new BackboneRunner(b, File.ReadAllBytes(b.Model.Resolve()), execution);
        var input = new float[frames * b.InputLength];
        var scratch = runner.NewScratch();
        for (var f = 0; f < frames; f++) runner.Preprocess(crops.AsSpan(f * 224 * 224 * 3, 224 * 224 * 3), CropCopy.Identity, input, f, scratch);
        var results = new List<(int, double)>();
        foreach (var batch in batchSizes)
        {
            runner.MaxBatch = Math.Clamp(batch, 1, frames);
            var seconds = Timing.BestOf(repeats, () => runner.Run(input, frames))[0];
            results.Add((batch, frames / seconds));
        }
        return results;
    }
}
