using EmotionML.FaceFeatures;
using EmotionML.Experiments;

namespace EmotionML.Cli.Bench;

/// <summary>
/// The backbone comparison (Table-1 analog, <see cref="BackboneComparison.Run"/>) at the sample sizes of
/// <c>--fer-train</c>/<c>--fer-test</c>: accuracy of a linear classifier on each frozen backbone's FER2013 features, and
/// its wall time against the fastest backbone's. Not run by default (a quality check, not a speed one; the full-size
/// numbers are in docs/results.md).
/// </summary>
internal sealed class BackbonesBenchStage : IBenchStage
{
    public string Name => "backbones";
    public string Description => "backbone comparison (Table-1 analog: FER2013 linear probe per frozen backbone) at --fer-train/--fer-test images per class; wall time vs the fastest backbone; only when named";
    public bool Implemented => true;
    public bool RunByDefault => false;
    public int Steps(BenchContext context) => 3;

    public IReadOnlyList<BenchRow> Run(BenchContext context, Action<string?> step)
    {
        var results = BackboneComparison.Run(context.FerTrainPerClass, context.FerTestPerClass, execution: context.Execution,
            log: line => step(null));
        var fastest = results.Min(r => r.Seconds);
        var fastestName = FaceFeaturesBenchStage.Short(results.First(r => r.Seconds == fastest).Backbone);
        context.Facts.Add($"Backbone comparison (smoke size, {context.FerTrainPerClass}/{context.FerTestPerClass} FER2013 images per class for train/test; see docs/results.md for the full run):");
        context.Facts.Add(BackboneComparison.ToMarkdown(results));
        return results.Select(r => new BenchRow(Name, $"{FaceFeaturesBenchStage.Short(r.Backbone)}: s (features + L-BFGS + eval)", BenchContext.F(r.Seconds, "0.0"),
            $"fastest backbone ({fastestName})", BenchContext.F(fastest, "0.0") + " s", r.Seconds / fastest,
            $"D={r.FeatureDim}, {r.TrainImages} train / {r.TestImages} test images, accuracy {r.Accuracy:P1} (macro {r.MacroAccuracy:P1})")).ToList();
    }
}
