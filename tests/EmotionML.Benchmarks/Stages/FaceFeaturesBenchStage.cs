using EmotionML.FaceFeatures;

namespace EmotionML.Benchmarks.Stages;

/// <summary>
/// Face features per backbone via <see cref="FaceFeatureBenchmark"/>: the ML.NET transform (Basic) vs a bare ONNX Runtime
/// session on the same preprocessed batch, F-Mean (18 copies per frame) vs Basic, and the backbone session at batch
/// sizes 1 and 4 vs all frames in one batch. One synthetic clip of <see cref="Frames"/> 224² crops (content does not change the cost).
/// </summary>
internal sealed class FaceFeaturesBenchStage : IBenchStage
{
    /// <summary>Frames per clip (the head's 8 frames on Javanese).</summary>
    public const int Frames = 8;

    private static readonly FaceBackboneKind[] Backbones = [FaceBackboneKind.FerDenseNet121, FaceBackboneKind.MobileFaceNet, FaceBackboneKind.MiniXception];

    public string Name => "face-features";
    public string Description => $"face backbone features (DenseNet-121, MobileFaceNet, mini-Xception) of {Frames} aligned crops: ML.NET transform vs the bare backbone ONNX session on the same batch; 18 copies vs Basic; batch 1 and 4 vs all {Frames} frames in one batch";
    public int Steps(BenchContext context) => 2 * Backbones.Length;

    public IReadOnlyList<BenchRow> Run(BenchContext context, Action<string?> step)
    {
        var rows = new List<BenchRow>();
        var repeats = context.Repeat;
        foreach (var kind in Backbones)
        {
            var name = Short(kind);
            var r = FaceFeatureBenchmark.Run(Frames, repeats, [kind], context.Execution)[0];
            step(name);
            rows.Add(new BenchRow(Name, $"{name}: frames/s, Basic (ML.NET transform)", BenchContext.F(r.BasicFramesPerSecond, "0.0"),
                "bare ONNX Runtime session, same preprocessed batch, default threading", BenchContext.F(r.BareOrtFramesPerSecond, "0.0") + " frames/s",
                r.BasicFramesPerSecond / r.BareOrtFramesPerSecond, $"1 clip × {Frames} frames, best of {repeats}; transform = preprocessing + ML.NET plumbing + session ({r.Provider})") { Headline = kind == FaceBackboneKind.FerDenseNet121, Goal = "≥ 0.95" });
            rows.Add(new BenchRow(Name, $"{name}: frames/s, Basic (ML.NET transform) vs bare session at the stage's run size", BenchContext.F(r.BasicFramesPerSecond, "0.0"),
                $"bare ONNX Runtime session, same preprocessed frames, Run calls of {r.RunSize}", BenchContext.F(r.BareRunSizeFramesPerSecond, "0.0") + " frames/s",
                r.BasicFramesPerSecond / r.BareRunSizeFramesPerSecond, $"the stage runs {r.RunSize} image(s) per Run call on the CPU (BackboneRunner.CpuImagesPerRun): this line is its preprocessing + ML.NET plumbing alone"));
            rows.Add(new BenchRow(Name, $"{name}: frames/s, F-Mean (18 copies per frame)", BenchContext.F(r.CopiesFramesPerSecond, "0.0"),
                "Basic (ML.NET transform), same frames", BenchContext.F(r.BasicFramesPerSecond, "0.0") + " frames/s",
                18 * r.CopiesFramesPerSecond / r.BasicFramesPerSecond, "ratio = F-Mean frames/s ÷ (Basic frames/s ÷ 18): 18 backbone inputs per frame, several frames' copies per run") { Headline = kind == FaceBackboneKind.FerDenseNet121, Goal = "≥ 0.8" });
            var batches = FaceFeatureBenchmark.RunBatchSizes(kind, Frames, [1, 4, Frames], repeats, context.Execution);
            step(name + " batches");
            var all = batches.Single(b => b.Batch == Frames).FramesPerSecond;
            foreach (var (batch, fps) in batches.Where(b => b.Batch != Frames))
                rows.Add(new BenchRow(Name, $"{name}: frames/s, batch {batch}", BenchContext.F(fps, "0.0"),
                    $"same session, all {Frames} frames in one batch", BenchContext.F(all, "0.0") + " frames/s", fps / all,
                    $"{Frames / batch} Run calls of {batch} vs 1 of {Frames}"));
        }
        return rows;
    }

    internal static string Short(FaceBackboneKind kind) => kind switch
    {
        FaceBackboneKind.FerDenseNet121 => "DenseNet-121",
        FaceBackboneKind.MobileFaceNet => "MobileFaceNet",
        FaceBackboneKind.MiniXception => "mini-Xception",
        _ => kind.ToString(),
    };
}
