using System.Diagnostics;
using EmotionML.Fusion;
using EmotionML.Training;
using EmotionML.Training.Fusion;
using EmotionML.Training.Torch;
using Microsoft.ML;
using Microsoft.ML.Data;
using static TorchSharp.torch;

namespace EmotionML.Benchmarks.Stages;

/// <summary>
/// The fusion head (transformer attention on both modalities, FBP, classifier; default sizes) on generated features of
/// Javanese size (144 clips; 8 frames × 1024-d DenseNet face features; 40 × 64-d audio positions of the default CNN):
/// per-clip inference of the ONNX head (ML.NET transform, and its bare session call) vs the TorchSharp module, and
/// training time per epoch (<see cref="FusionHeadTrainer"/>) vs a forward-only pass over the same clips.
/// </summary>
internal sealed class HeadBenchStage : IBenchStage
{
    public const int Clips = 144, Frames = 8, FaceDim = 1024, Positions = 40, AudioDim = 64, Classes = 6, Batch = 16;

    public string Name => "head";
    public string Description => $"fusion head (transformer × transformer, FBP) on generated Javanese-size features ({Clips} clips, {Frames}×{FaceDim} face, {Positions}×{AudioDim} audio): ONNX head vs the TorchSharp module per clip; training s/epoch vs a forward-only pass";
    public int Steps(BenchContext context) => 2;

    internal sealed class Row
    {
        public string Label { get; set; } = "";
        [VectorType(Frames * FaceDim)] public float[] FaceFeatures { get; set; } = [];
        [VectorType(Frames)] public float[] FrameMask { get; set; } = [];
        [VectorType(Positions * AudioDim)] public float[] AudioFeatures { get; set; } = [];
        [VectorType(Positions)] public float[] AudioMask { get; set; } = [];
    }

    /// <summary>Generated rows: random features, all frames and positions real, labels cycling over the classes.</summary>
    internal static List<Row> MakeRows(int count, int seed)
    {
        var rng = new Random(seed);
        float[] Random(int n) => Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble()).ToArray();
        return Enumerable.Range(0, count).Select(i => new Row
        {
            Label = $"class{i % Classes}",
            FaceFeatures = Random(Frames * FaceDim),
            FrameMask = Enumerable.Repeat(1f, Frames).ToArray(),
            AudioFeatures = Random(Positions * AudioDim),
            AudioMask = Enumerable.Repeat(1f, Positions).ToArray(),
        }).ToList();
    }

    public IReadOnlyList<BenchRow> Run(BenchContext context, Action<string?> step)
    {
        var threads = context.TorchThreads;
        TorchRuntime.Initialize(new TorchRuntimeOptions { Threads = threads, Device = ExecutionDevice.Cpu, Seed = 0 });
        var ml = new MLContext(1);
        var rows = MakeRows(Clips, 3);
        var raw = ml.Data.LoadFromEnumerable(rows);
        var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(raw).Transform(raw);
        var epochs = 1 + context.Repeat;
        FusionHeadTrainingResult? trained = null;
        var trainer = ml.Transforms.EmotionFusionHead(new FusionHeadTrainerOptions
        {
            Trained = r => trained = r,
            Columns = new FusionHeadColumns { Execution = context.Execution },
            Training = new TrainerOptions { MaxEpochs = epochs, BatchSize = Batch, ValidationFraction = 0, Threads = threads, Seed = 1 },
        });
        using var head = trainer.Fit(data);
        var epoch = trained!.Report.Epochs.Skip(1).Min(e => e.Seconds);
        using var module = trained.Module;
        module.eval();
        step("training");

        (Tensor F, Tensor FM, Tensor A, Tensor AM) Tensors(IReadOnlyList<Row> r) => (
            tensor(r.SelectMany(x => x.FaceFeatures).ToArray(), [r.Count, Frames, FaceDim]), tensor(r.SelectMany(x => x.FrameMask).ToArray(), [r.Count, Frames]),
            tensor(r.SelectMany(x => x.AudioFeatures).ToArray(), [r.Count, Positions, AudioDim]), tensor(r.SelectMany(x => x.AudioMask).ToArray(), [r.Count, Positions]));
        float[] Torch(IReadOnlyList<Row> r)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var (f, fm, a, am) = Tensors(r);
            return module.Predict(f, fm, a, am).data<float>().ToArray();
        }
        float[] Transform(Row r) => head.Transform(ml.Data.LoadFromEnumerable([r])).GetColumn<float[]>("Score").Single();
        float[] Bare(Row r) => head.Run([new FusionHeadTransformer.HeadInput(r.FaceFeatures, r.FrameMask, r.AudioFeatures, r.AudioMask)])[0].Scores;

        // Forward-only pass over the 144 clips in training batches: the baseline of an epoch.
        double forward = double.MaxValue;
        for (var r = 0; r < epochs; r++)
        {
            var sw = Stopwatch.StartNew();
            for (var start = 0; start < Clips; start += Batch) Torch(rows.Skip(start).Take(Batch).ToList());
            if (r > 0 || epochs == 1) forward = Math.Min(forward, sw.Elapsed.TotalSeconds);
        }

        // Per-clip inference, alternating the three clip by clip.
        var maxDiff = Transform(rows[0]).Zip(Torch([rows[0]])).Max(p => Math.Abs(p.First - p.Second));
        Bare(rows[0]);
        double bestT = double.MaxValue, bestBare = double.MaxValue, bestTorch = double.MaxValue;
        for (var r = 0; r < context.Repeat; r++)
        {
            double t = 0, bare = 0, torchTime = 0;
            foreach (var row in rows)
            {
                var sw = Stopwatch.StartNew();
                Transform(row);
                t += sw.Elapsed.TotalSeconds;
                sw.Restart();
                Bare(row);
                bare += sw.Elapsed.TotalSeconds;
                sw.Restart();
                Torch([row]);
                torchTime += sw.Elapsed.TotalSeconds;
            }
            bestT = Math.Min(bestT, t); bestBare = Math.Min(bestBare, bare); bestTorch = Math.Min(bestTorch, torchTime);
        }
        step("inference");
        string Ms(double total) => BenchContext.F(1000 * total / Clips, "0.00");
        var torchLabel = $"TorchSharp module (eval, no grad, {threads} threads)";
        return
        [
            new BenchRow(Name, "ms/clip, ML.NET transform (ONNX head), batch 1", Ms(bestT), torchLabel, Ms(bestTorch) + " ms/clip", bestTorch / bestT,
                $"{Clips} clips, best of {context.Repeat}; max |onnx − torch| score = {maxDiff:0.0e0}"),
            new BenchRow(Name, "ms/clip, bare head session (FusionHeadTransformer.Run)", Ms(bestBare), torchLabel, Ms(bestTorch) + " ms/clip", bestTorch / bestBare,
                "the transform without the ML.NET row plumbing"),
            new BenchRow(Name, "s/epoch, FusionHeadTrainer", BenchContext.F(epoch, "0.000"), "forward-only pass, same clips and batches", BenchContext.F(forward, "0.000") + " s",
                forward / epoch, $"{Clips} clips, batch {Batch}, AdamW, default head (m=64, FBP o=256 k=4); best of {epochs - 1} epochs after the first"),
        ];
    }
}
