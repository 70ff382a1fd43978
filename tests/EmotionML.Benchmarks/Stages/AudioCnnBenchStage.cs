using System.Diagnostics;
using EmotionML.AudioCnn;
using EmotionML.Training;
using EmotionML.Training.Onnx;
using EmotionML.Training.Torch;
using Microsoft.ML;
using Microsoft.ML.Data;
using static TorchSharp.torch;
using Cnn = EmotionML.Training.AudioCnn.AudioCnnNetwork;
using CnnOptions = EmotionML.Training.AudioCnn.AudioCnnOptions;
using CnnTrainerOptions = EmotionML.Training.AudioCnn.AudioCnnTrainerOptions;

namespace EmotionML.Benchmarks.Stages;

/// <summary>
/// The audio CNN on RAVDESS-sized spectrograms (300 frames × 200 bins, random values: the cost does not depend on them):
/// per-clip inference of the ONNX graph through <see cref="AudioFeatureTransformer"/> (ML.NET transform, and its bare
/// session call) vs a TorchSharp forward of the same untrained network; training time per epoch of the default CPU-sized
/// channels 32-64-128-96-64 vs a forward-only pass, and of 64-128-256-192-128 vs 32-64-128-96-64.
/// </summary>
internal sealed class AudioCnnBenchStage : IBenchStage
{
    public const int Frames = 300, Bins = 200;

    /// <summary>Spectrograms for inference (batch 1 each).</summary>
    public const int InferenceClips = 16;

    /// <summary>Spectrograms per training epoch (3 batches of 32).</summary>
    public const int TrainClips = 96, TrainBatch = 32;

    internal static readonly int[] SmallChannels = [32, 64, 128, 96, 64], LargeChannels = [64, 128, 256, 192, 128];

    public string Name => "audio-cnn";
    public string Description => $"audio CNN on {Frames}×{Bins} spectrograms: ONNX Runtime via AudioFeatureTransformer vs a TorchSharp forward of the same untrained net, per clip; training s/epoch ({TrainClips} spectrograms, batch {TrainBatch}) of channels 32-64-128-96-64 vs a forward-only pass, and 64-128-256-192-128 vs 32-64-128-96-64";
    public int Steps(BenchContext context) => 3;

    private sealed class SpecRow
    {
        [VectorType(Frames * Bins)] public float[] Spectrogram { get; set; } = [];
        public string Label { get; set; } = "";
    }

    public IReadOnlyList<BenchRow> Run(BenchContext context, Action<string?> step)
    {
        var threads = context.TorchThreads;
        TorchRuntime.Initialize(new TorchRuntimeOptions { Threads = threads, Device = ExecutionDevice.Cpu, Seed = 0 });
        var rng = new Random(11);
        float[] Spectrogram() => Enumerable.Range(0, Frames * Bins).Select(_ => (float)(rng.NextDouble() * 10 - 20)).ToArray();
        var rows = new List<BenchRow>();

        // Inference: the same untrained network through ONNX (ML.NET transform, bare session) and TorchSharp.
        var ml = new MLContext(0);
        manual_seed(0);
        using var cnn = new Cnn(new CnnOptions { Channels = SmallChannels });
        cnn.eval();
        var (h, w) = Cnn.FeatureMapSize(Frames, Bins);
        var shape = new AudioCnnShape { Frames = Frames, Bins = Bins, Positions = h * w, Channels = cnn.FeatureChannels };
        using var transformer = new AudioFeatureTransformer(ml, new AudioFeatureOptions { Execution = context.Execution }, shape, AudioCnnOnnx.Export(cnn, Frames, Bins));
        var specs = Enumerable.Range(0, InferenceClips).Select(_ => Spectrogram()).ToList();
        float[] Torch(float[] s)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            return cnn.FeatureSet(tensor(s, [1, 1, Frames, Bins])).data<float>().ToArray();
        }
        float[] Transform(float[] s)
        {
            var view = ml.Data.LoadFromEnumerable([new SpecRow { Spectrogram = s }]);
            return transformer.Transform(view).GetColumn<float[]>(transformer.Options.OutputColumnName).Single();
        }
        // Warm-up, and agreement of the two runtimes on the same input.
        var maxDiff = Transform(specs[0]).Zip(Torch(specs[0])).Max(p => Math.Abs(p.First - p.Second));
        transformer.Run([specs[0]]);
        double bestT = double.MaxValue, bestBare = double.MaxValue, bestTorch = double.MaxValue;
        for (var r = 0; r < context.Repeat; r++)
        {
            double t = 0, bare = 0, torchTime = 0;
            foreach (var s in specs)
            {
                // Alternate clip by clip so other load on the machine falls on all three alike.
                var sw = Stopwatch.StartNew();
                Transform(s);
                t += sw.Elapsed.TotalSeconds;
                sw.Restart();
                transformer.Run([s]);
                bare += sw.Elapsed.TotalSeconds;
                sw.Restart();
                Torch(s);
                torchTime += sw.Elapsed.TotalSeconds;
            }
            bestT = Math.Min(bestT, t); bestBare = Math.Min(bestBare, bare); bestTorch = Math.Min(bestTorch, torchTime);
        }
        step("inference");
        var n = specs.Count;
        string Ms(double total) => BenchContext.F(1000 * total / n, "0.0");
        var torchLabel = $"TorchSharp forward, same untrained net ({threads} threads)";
        rows.Add(new BenchRow(Name, "ms/clip, ML.NET transform (ONNX Runtime), batch 1", Ms(bestT), torchLabel, Ms(bestTorch) + " ms/clip", bestTorch / bestT,
            $"{n} clips, 32-64-128-96-64, n = {h}×{w} positions; max |onnx − torch| = {maxDiff:0.0e0}"));
        rows.Add(new BenchRow(Name, "ms/clip, bare session (AudioFeatureTransformer.Run)", Ms(bestBare), torchLabel, Ms(bestTorch) + " ms/clip", bestTorch / bestBare,
            "the transform without the ML.NET row plumbing"));

        // Training: seconds per epoch (best epoch after the first, which pays for allocation), and a forward-only pass.
        var trainRows = Enumerable.Range(0, TrainClips).Select(i => new SpecRow { Spectrogram = Spectrogram(), Label = $"c{i % 8}" }).ToList();
        // The trainer needs the spectrogram's [T, F] shape in the column type.
        var schema = SchemaDefinition.Create(typeof(SpecRow));
        schema[nameof(SpecRow.Spectrogram)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Frames, Bins);
        var raw = ml.Data.LoadFromEnumerable(trainRows, schema);
        var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(raw).Transform(raw);
        var epochs = 1 + context.Repeat;
        double Epoch(int[] channels)
        {
            TrainingReport? report = null;
            var trainer = ml.Transforms.TrainAudioCnn(new CnnTrainerOptions
            {
                Trained = r => { report = r.Report; r.Network.Dispose(); r.Classifier.Dispose(); },
                Network = new CnnOptions { Channels = channels },
                Training = new TrainerOptions { MaxEpochs = epochs, BatchSize = TrainBatch, ValidationFraction = 0, Threads = threads, Seed = 1 },
            });
            using var fitted = trainer.Fit(data);
            return report!.Epochs.Skip(1).Min(e => e.Seconds);
        }
        var small = Epoch(SmallChannels);
        step("training 32-64-128-96-64");
        var large = Epoch(LargeChannels);
        step("training 64-128-256-192-128");
        // Forward-only pass over the same spectrograms in the same batches (eval, no grad).
        double forward = double.MaxValue;
        for (var r = 0; r < epochs; r++)
        {
            var sw = Stopwatch.StartNew();
            for (var start = 0; start < TrainClips; start += TrainBatch)
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                var count = Math.Min(TrainBatch, TrainClips - start);
                var batch = trainRows.Skip(start).Take(count).SelectMany(x => x.Spectrogram).ToArray();
                cnn.forward(tensor(batch, [count, 1, Frames, Bins])).data<float>().ToArray();
            }
            if (r > 0 || epochs == 1) forward = Math.Min(forward, sw.Elapsed.TotalSeconds);
        }
        rows.Add(new BenchRow(Name, "s/epoch, train 32-64-128-96-64 (default)", BenchContext.F(small), "forward-only pass, same spectrograms and batches",
            BenchContext.F(forward) + " s", forward / small, $"{TrainClips} spectrograms, batch {TrainBatch}, AdamW, best of {epochs - 1} epochs after the first"));
        rows.Add(new BenchRow(Name, "s/epoch, train 64-128-256-192-128", BenchContext.F(large), "train 32-64-128-96-64, same data", BenchContext.F(small) + " s",
            small / large, $"{Params(LargeChannels) / 1e6:0.00} M vs {Params(SmallChannels) / 1e6:0.00} M parameters"));
        return rows;
    }

    private static double Params(int[] channels)
    {
        using var m = new Cnn(new CnnOptions { Channels = channels });
        return m.ParameterCount;
    }
}
