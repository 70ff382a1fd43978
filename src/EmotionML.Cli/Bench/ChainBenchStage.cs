using System.Diagnostics;
using System.Reflection;
using EmotionML.AudioCnn;
using EmotionML.FaceAlignment;
using EmotionML.FaceFeatures;
using EmotionML.Fusion;
using EmotionML.Spectrogram;
using EmotionML.Training;
using EmotionML.Training.Fusion;
using EmotionML.Training.Onnx;
using EmotionML.Training.Torch;
using EmotionML.VideoInput;
using Microsoft.ML;
using Microsoft.ML.Data;
using static TorchSharp.torch;
using Cnn = EmotionML.Training.AudioCnn.AudioCnn;
using CnnOptions = EmotionML.Training.AudioCnn.AudioCnnOptions;

namespace EmotionML.Cli.Bench;

/// <summary>
/// The whole chain per clip, VideoPath → Score: decode (8 frames + audio) → YuNet + alignment → DenseNet-121 features →
/// spectrogram (300 × 200) → audio CNN (32-64-128-96-64, untrained: the cost does not depend on the weights) → fusion
/// head (default size, trained for one epoch on generated features of the same shapes). The chain is timed as ML.NET
/// runs it (only what Score needs), against the sum of the stages run one at a time on the previous stage's cached
/// output; each stage's line gives its share of that sum.
/// </summary>
internal sealed class ChainBenchStage : IBenchStage
{
    public const int Frames = 8, MaxClips = 8;

    public string Name => "chain";
    public string Description => $"whole chain per clip (decode {Frames} frames → align → DenseNet-121 → spectrogram → audio CNN → head) on up to {MaxClips} of the clips vs the sum of its stages run one by one; each stage's share of that sum";
    public bool Implemented => true;
    public int Steps(BenchContext context) => 1 + Picked(context).Count * context.Repeat;

    private sealed class ClipRow
    {
        public string VideoPath { get; set; } = "";
    }

    private static List<string> Picked(BenchContext context)
    {
        var n = Math.Min(MaxClips, context.Clips.Count);
        return Enumerable.Range(0, n).Select(i => context.Clips[i * context.Clips.Count / n]).ToList();
    }

    public IReadOnlyList<BenchRow> Run(BenchContext context, Action<string?> step)
    {
        var threads = context.TorchThreads;
        TorchRuntime.Initialize(new TorchRuntimeOptions { Threads = threads, Device = ExecutionDevice.Cpu, Seed = 0 });
        var ml = new MLContext(0);
        var clips = Picked(context);
        var execution = context.Execution;
        IDataView One(string clip) => ml.Data.LoadFromEnumerable([new ClipRow { VideoPath = clip }]);

        // Build the chain stage by stage (the estimators only look at the schema).
        var stages = new List<(string Name, ITransformer Transformer)>();
        var view = One(clips[0]);
        void Add(string name, ITransformer t) { stages.Add((name, t)); view = t.Transform(view); }
        Add("decode", ml.Transforms.LoadVideo(new VideoInputOptions { FrameCount = Frames }).Fit(view));
        Add("align", ml.Transforms.AlignFaces(new FaceAlignmentOptions { MaxFrames = Frames, Execution = execution }).Fit(view));
        Add("DenseNet-121 features", ml.Transforms.ExtractFaceFeatures(new FaceFeatureOptions { Backbone = FaceBackboneKind.FerDenseNet121, Execution = execution }).Fit(view));
        var spectrogram = new SpeechSpectrogramOptions();
        Add("spectrogram", ml.Transforms.SpeechSpectrogram(spectrogram).Fit(view));
        manual_seed(0);
        using var cnn = new Cnn(new CnnOptions { Channels = AudioCnnBenchStage.SmallChannels });
        cnn.eval();
        var (h, w) = Cnn.FeatureMapSize(spectrogram.Frames, spectrogram.Bins);
        var shape = new AudioCnnShape { Frames = spectrogram.Frames, Bins = spectrogram.Bins, Positions = h * w, Channels = cnn.FeatureChannels };
        Add("audio CNN", new AudioFeatureTransformer(ml, new AudioFeatureOptions { Execution = execution }, shape, AudioCnnOnnx.Export(cnn, spectrogram.Frames, spectrogram.Bins)));
        var headData = ml.Data.LoadFromEnumerable(HeadBenchStage.MakeRows(48, 5));
        headData = ml.Transforms.Conversion.MapValueToKey("Label").Fit(headData).Transform(headData);
        var head = ml.MulticlassClassification.Trainers.EmotionFusionHead(new FusionHeadTrainerOptions
        {
            Columns = new FusionHeadColumns { Execution = execution },
            Training = new TrainerOptions { MaxEpochs = 1, BatchSize = 16, ValidationFraction = 0, Threads = threads, Seed = 1 },
        }).Fit(headData);
        Add("fusion head", head);
        step("build");

        float[] Whole(string clip)
        {
            var v = One(clip);
            foreach (var (_, t) in stages) v = t.Transform(v);
            return v.GetColumn<float[]>("Score").Single();
        }
        double[] Staged(string clip)
        {
            var times = new double[stages.Count];
            var v = One(clip);
            for (var i = 0; i < stages.Count; i++)
            {
                var sw = Stopwatch.StartNew();
                var next = ml.Data.Cache(stages[i].Transformer.Transform(v));
                Force(next, next.Schema.Where(c => !c.IsHidden && v.Schema.GetColumnOrNull(c.Name) is null));
                times[i] = sw.Elapsed.TotalSeconds;
                v = next;
            }
            return times;
        }
        // Warm-up outside the timing: process starts, session creation, first-run allocations.
        Whole(clips[0]);
        Staged(clips[0]);

        double bestWhole = double.MaxValue;
        double[]? bestStages = null;
        for (var r = 0; r < context.Repeat; r++)
        {
            double whole = 0;
            var sums = new double[stages.Count];
            foreach (var clip in clips)
            {
                // Alternate the two clip by clip so other load on the machine hits both alike.
                var sw = Stopwatch.StartNew();
                Whole(clip);
                whole += sw.Elapsed.TotalSeconds;
                var t = Staged(clip);
                for (var i = 0; i < t.Length; i++) sums[i] += t[i];
                step(Path.GetFileName(clip));
            }
            bestWhole = Math.Min(bestWhole, whole);
            if (bestStages is null || sums.Sum() < bestStages.Sum()) bestStages = sums;
        }
        var n = clips.Count;
        var best = bestStages!;
        var total = best.Sum();
        string Ms(double s) => BenchContext.F(1000 * s / n, "0");
        var rows = new List<BenchRow>
        {
            new(Name, "ms/clip, whole chain (VideoPath → Score)", Ms(bestWhole), "sum of the stages run one by one", Ms(total) + " ms/clip", bestWhole / total,
                $"{n} clips × {Frames} frames, best of {context.Repeat}; ML.NET computes only what Score needs"),
        };
        for (var i = 0; i < stages.Count; i++)
            rows.Add(new BenchRow(Name, $"ms/clip, {stages[i].Name}", Ms(best[i]), "sum of the stages", Ms(total) + " ms/clip", best[i] / total,
                $"ratio = share of the clip: {100 * best[i] / total:0.0} %"));
        return rows;
    }

    /// <summary>Reads every value of <paramref name="columns"/> (so a cache fills them and the stage's work is done).</summary>
    private static void Force(IDataView view, IEnumerable<DataViewSchema.Column> columns)
    {
        var list = columns.ToList();
        using var cursor = view.GetRowCursor(list);
        var getters = list.Select(c => (Action)typeof(ChainBenchStage).GetMethod(nameof(Getter), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(c.Type.RawType).Invoke(null, [cursor, c])!).ToList();
        while (cursor.MoveNext())
            foreach (var g in getters) g();
    }

    private static Action Getter<T>(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        var getter = cursor.GetGetter<T>(column);
        T value = default!;
        return () => getter(ref value);
    }
}
