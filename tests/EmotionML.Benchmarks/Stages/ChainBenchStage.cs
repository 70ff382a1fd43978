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
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;
using Cnn = EmotionML.Training.AudioCnn.AudioCnnNetwork;
using CnnOptions = EmotionML.Training.AudioCnn.AudioCnnOptions;

namespace EmotionML.Benchmarks.Stages;

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
        var audioCnn = new AudioFeatureTransformer(ml, new AudioFeatureOptions { Execution = execution }, shape, AudioCnnOnnx.Export(cnn, spectrogram.Frames, spectrogram.Bins));
        Add("audio CNN", audioCnn);
        var headData = ml.Data.LoadFromEnumerable(HeadBenchStage.MakeRows(48, 5));
        headData = ml.Transforms.Conversion.MapValueToKey("Label").Fit(headData).Transform(headData);
        var head = ml.Transforms.EmotionFusionHead(new FusionHeadTrainerOptions
        {
            Columns = new FusionHeadColumns { Execution = execution },
            Training = new TrainerOptions { MaxEpochs = 1, BatchSize = 16, ValidationFraction = 0, Threads = threads, Seed = 1 },
        }).Fit(headData);
        Add("fusion head", head);
        step("build");

        var lastStaged = new Dictionary<string, double[]>();
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
        // The same chain with spinning ONNX Runtime threads: a copy (saved and loaded, so it gets its own sessions) whose
        // sessions are created while spinning is allowed.
        ITransformer spinning;
        using (var zip = new MemoryStream())
        {
            ml.Model.Save(new TransformerChain<ITransformer>([.. stages.Select(s => s.Transformer)]), One(clips[0]).Schema, zip);
            zip.Position = 0;
            spinning = ml.Model.Load(zip, out _);
        }
        float[] Spinning(string clip) => spinning.Transform(One(clip)).GetColumn<float[]>("Score").Single();
        OnnxRunner.AllowSpinning = true;
        try
        {
            Spinning(clips[0]);
        }
        finally
        {
            OnnxRunner.AllowSpinning = false;
        }

        // The bare parts: each part's own engine on inputs made beforehand (outside the timing) from the same clip.
        var bare = new Bare(execution, spectrogram, clips, audioCnn, (FusionHeadTransformer)head);
        step("bare inputs");

        double[]? bestStages = null;
        var wholeTimes = Timing.BestOf(context.Repeat, clips,
        [
            c => Whole(c),
            c => Spinning(c),
            bare.Run,
            c =>
            {
                var t = Staged(c);
                lastStaged[c] = t;
            },
        ], c => step(Path.GetFileName(c)));
        // The staged side's per-stage times of its best round are not kept by the helper: take each stage's clip sum of the last round.
        bestStages = new double[stages.Count];
        foreach (var t in lastStaged.Values)
            for (var i = 0; i < t.Length; i++) bestStages[i] += t[i];
        var bestWhole = wholeTimes[0];
        var n = clips.Count;
        var best = bestStages!;
        var total = best.Sum();
        string Ms(double s) => BenchContext.F(1000 * s / n, "0");
        var rows = new List<BenchRow>
        {
            new(Name, "ms/clip, whole chain (VideoPath → Score)", Ms(bestWhole), "sum of the stages run one by one", Ms(total) + " ms/clip", total / bestWhole,
                $"{n} clips × {Frames} frames, best of {context.Repeat}; ML.NET computes only what Score needs"),
            new(Name, "ms/clip, whole chain vs its bare parts", Ms(bestWhole), "full ffmpeg decode + bare YuNet (native size) + bare DenseNet-121 session + spectrogram + audio CNN session + head session", Ms(wholeTimes[2]) + " ms/clip", wholeTimes[2] / bestWhole,
                "the bare parts run on inputs prepared outside the timing; goal: whole ≤ 1.3× their sum") { Headline = true, Goal = "≥ 0.77 (chain ≤ 1.3× its bare parts)" },
            new(Name, "ms/clip, whole chain, ONNX Runtime threads not spinning (default)", Ms(bestWhole), "same chain, sessions spinning between runs", Ms(wholeTimes[1]) + " ms/clip", wholeTimes[1] / bestWhole,
                "session.intra_op.allow_spinning = 0 vs 1: 4 sessions (YuNet, DenseNet-121, audio CNN, head) run one after another per clip"),
        };
        for (var i = 0; i < stages.Count; i++)
            rows.Add(new BenchRow(Name, $"ms/clip, {stages[i].Name}", Ms(best[i]), "sum of the stages", Ms(total) + " ms/clip", null,
                $"share of the clip: {100 * best[i] / total:0.0} %"));
        return rows;
    }

    /// <summary>The chain's parts run bare: a full ffmpeg decode, the YuNet and DenseNet-121 sessions, the spectrogram, the audio CNN and head sessions.</summary>
    private sealed class Bare
    {
        private readonly RunOptions _runOptions = new();
        private readonly OnnxRunner _yunet, _densenet;
        private readonly SpeechSpectrogramExtractor _spectrogram;
        private readonly AudioFeatureTransformer _audio;
        private readonly FusionHeadTransformer _head;
        private readonly Dictionary<string, (OrtValue[] Frames, OrtValue Crops, float[] Audio, FusionHeadTransformer.HeadInput Head)> _inputs = [];

        public Bare(OnnxExecutionOptions execution, SpeechSpectrogramOptions spectrogram, IReadOnlyList<string> clips, AudioFeatureTransformer audio, FusionHeadTransformer head)
        {
            var yunetBytes = File.ReadAllBytes(ModelFiles.YuNet.Resolve());
            _yunet = OnnxRunner.Create(YuNetDetector.SymbolicInput(yunetBytes), execution, "bare YuNet");
            var b = FaceBackbone.Of(FaceBackboneKind.FerDenseNet121);
            var backbone = File.ReadAllBytes(b.Model.Resolve());
            _densenet = OnnxRunner.Create(b.PrepareGraph(backbone, symbolicBatch: true), execution, "bare DenseNet-121");
            _spectrogram = new SpeechSpectrogramExtractor(spectrogram);
            _audio = audio;
            _head = head;
            var video = new VideoInputTransformer(new MLContext(0), new VideoInputOptions { FrameCount = Frames });
            using var aligner = new FaceAligner(new YuNetDetector(yunetBytes, execution), new FaceAlignmentOptions { MaxFrames = Frames });
            using var runner = new BackboneRunner(b, backbone, execution);
            foreach (var clip in clips)
            {
                var d = video.Decode(clip);
                var f = d.Frames;
                var bytes = f.Width * f.Height * 3;
                int w = (f.Width + 31) / 32 * 32, h = (f.Height + 31) / 32 * 32;
                var frames = new OrtValue[f.Count];
                for (var i = 0; i < f.Count; i++)
                {
                    var chw = new float[3 * w * h];
                    for (var y = 0; y < f.Height; y++)
                        for (var x = 0; x < f.Width; x++)
                            for (var c = 0; c < 3; c++)
                                chw[(2 - c) * w * h + y * w + x] = f.Pixels[i * bytes + (y * f.Width + x) * 3 + c];
                    frames[i] = OrtValue.CreateTensorValueFromMemory(chw, [1, 3, h, w]);
                }
                var aligned = aligner.Align(f.Pixels, f.Count, f.Width, f.Height);
                var real = (int)aligned.Mask.Sum();
                var input = new float[Math.Max(1, real) * b.InputLength];
                var scratch = runner.NewScratch();
                for (var i = 0; i < real; i++) runner.Preprocess(aligned.Crops.AsSpan(i * 224 * 224 * 3, 224 * 224 * 3), CropCopy.Identity, input, i, scratch);
                var crops = OrtValue.CreateTensorValueFromMemory(input, [Math.Max(1, real), b.Channels, b.InputSize, b.InputSize]);
                var face = new float[Frames * b.FeatureDim];
                runner.Run(input, Math.Max(1, real)).Features.AsSpan(0, real * b.FeatureDim).CopyTo(face);
                var audioFeatures = _audio.Run([_spectrogram.Compute(d.Audio)])[0];
                var positions = audioFeatures.Length / _audio.Shape.Channels;
                _inputs[clip] = (frames, crops, d.Audio, new FusionHeadTransformer.HeadInput(face, aligned.Mask, audioFeatures, Enumerable.Repeat(1f, positions).ToArray()));
            }
        }

        public void Run(string clip)
        {
            DecodeBenchStage.FullDecode(clip);
            var (frames, crops, audio, head) = _inputs[clip];
            foreach (var frame in frames)
            {
                using var r = _yunet.Session.Run(_runOptions, ["input"], [frame], _yunet.Session.OutputNames);
            }
            using (var r = _densenet.Session.Run(_runOptions, ["input"], [crops], [FaceBackbone.PreparedFeatureOutput])) { }
            _audio.Run([_spectrogram.Compute(audio)]);
            _head.Run([head]);
        }
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
