using System.Globalization;

namespace EmotionML.Cli.Bench;

/// <summary>
/// One line of the bench table. <see cref="Ratio"/> is the stage's wall time divided by the baseline's wall time on the
/// same input in the same run (1.00 = as fast as the baseline, 2.00 = twice as slow, 0.50 = twice as fast).
/// </summary>
internal sealed record BenchRow(string Stage, string Measure, string Value, string Baseline, string BaselineValue, double? Ratio, string Notes);

/// <summary>What a bench stage gets: the clips, repeats, ONNX settings, and a place to leave data for later stages.</summary>
internal sealed class BenchContext
{
    public required IReadOnlyList<string> Clips { get; init; }

    /// <summary>Runs per measurement; the best (fastest) run is reported.</summary>
    public required int Repeat { get; init; }

    public required OnnxExecutionOptions Execution { get; init; }

    public required TextWriter Log { get; init; }

    /// <summary>TorchSharp threads for the TorchSharp baselines and training (the global --threads, else one per core).</summary>
    public int TorchThreads { get; init; } = Environment.ProcessorCount;

    /// <summary>FER2013 training images per class for the <c>backbones</c> stage (Table-1 analog smoke run).</summary>
    public int FerTrainPerClass { get; init; } = 10;

    /// <summary>FER2013 test images per class for the <c>backbones</c> stage.</summary>
    public int FerTestPerClass { get; init; } = 5;

    /// <summary>Facts for the report (e.g. the face-found rate), printed under the table.</summary>
    public List<string> Facts { get; } = [];

    public static string F(double v, string format = "0.00") => v.ToString(format, CultureInfo.InvariantCulture);
}

/// <summary>A measured pipeline stage of <c>emotionml bench</c>.</summary>
internal interface IBenchStage
{
    /// <summary>The --stages name.</summary>
    string Name { get; }

    /// <summary>What it measures and against which baseline (shown by --help).</summary>
    string Description { get; }

    /// <summary>False for a named hook that has no measurement yet.</summary>
    bool Implemented { get; }

    /// <summary>Whether the stage runs when --stages is not given (default: when implemented).</summary>
    bool RunByDefault => Implemented;

    /// <summary>Progress steps this stage will report.</summary>
    int Steps(BenchContext context);

    /// <summary>Measures; calls <paramref name="step"/> once per progress step.</summary>
    IReadOnlyList<BenchRow> Run(BenchContext context, Action<string?> step);
}

/// <summary>
/// A named hook for a stage whose measurement is still to be written (face features, audio CNN, fusion head, whole
/// chain). Replace the entry in <see cref="BenchStages.All"/> with a real <see cref="IBenchStage"/>.
/// </summary>
internal sealed class PendingStage(string name, string description) : IBenchStage
{
    public string Name => name;
    public string Description => description;
    public bool Implemented => false;
    public int Steps(BenchContext context) => 0;
    public IReadOnlyList<BenchRow> Run(BenchContext context, Action<string?> step)
        => [new BenchRow(name, "(not measured yet)", "-", "-", "-", null, "hook only: " + description)];
}

/// <summary>The bench stages, in run order.</summary>
internal static class BenchStages
{
    public static IReadOnlyList<IBenchStage> All { get; } =
    [
        new DecodeBenchStage(),
        new FaceBenchStage(),
        new SpectrogramBenchStage(),
        new FaceFeaturesBenchStage(),
        new AudioCnnBenchStage(),
        new HeadBenchStage(),
        new ChainBenchStage(),
        new BackbonesBenchStage(),
    ];

    /// <summary>The stages run when --stages is not given.</summary>
    public static IEnumerable<IBenchStage> Default => All.Where(s => s.RunByDefault);
}
