using System.Diagnostics;
using System.Globalization;

namespace EmotionML.Benchmarks.Stages;

/// <summary>
/// One line of the bench table: EmotionML's value, the peer's, and <see cref="Ratio"/> = EmotionML's speed ÷ the peer's on
/// the same input in the same run (2.00 = twice as fast as the peer). <see cref="Headline"/> lines go to the top of
/// docs/performance.md with their <see cref="Goal"/>.
/// </summary>
internal sealed record BenchRow(string Stage, string Measure, string Value, string Peer, string PeerValue, double? Ratio, string Notes)
{
    public bool Headline { get; init; }

    public string Goal { get; init; } = "";
}

/// <summary>What a bench stage gets: the clips, repeats, ONNX settings, and a place to leave facts for the report.</summary>
internal sealed class BenchContext
{
    public required IReadOnlyList<string> Clips { get; init; }

    /// <summary>Rounds per measurement; the best (fastest) round of each side is reported.</summary>
    public required int Repeat { get; init; }

    public required OnnxExecutionOptions Execution { get; init; }

    public required TextWriter Log { get; init; }

    /// <summary>TorchSharp threads for the TorchSharp peers and trainings.</summary>
    public int TorchThreads { get; init; } = Environment.ProcessorCount;

    /// <summary>Facts for the report (e.g. the face-found rates), printed under the table.</summary>
    public List<string> Facts { get; } = [];

    public static string F(double v, string format = "0.00") => v.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>The 16 kHz mono audio of every clip (one frame decoded, not timed), with a step per clip.</summary>
    public List<float[]> DecodeAudio(Action<string?> step)
    {
        var video = new EmotionML.VideoInput.VideoInputTransformer(new Microsoft.ML.MLContext(seed: 0), new EmotionML.VideoInput.VideoInputOptions { FrameCount = 1 });
        return Clips.Select(c =>
        {
            var a = video.Decode(c).Audio;
            step(Path.GetFileName(c));
            return a;
        }).ToList();
    }
}

/// <summary>
/// The one timing helper of the benchmarks: every side is warmed up once, then each round runs all sides item by item,
/// alternating (so that load from elsewhere on the machine falls on all alike), and the best round of each side is kept.
/// </summary>
internal static class Timing
{
    /// <summary>Best-of-<paramref name="repeat"/> total seconds of each side over <paramref name="items"/>; <paramref name="step"/> after each item of each round.</summary>
    public static double[] BestOf<T>(int repeat, IReadOnlyList<T> items, IReadOnlyList<Action<T>> sides, Action<T>? step = null)
    {
        if (items.Count > 0)
            foreach (var side in sides) side(items[0]); // warm-up: sessions, first-run allocations, binaries from disk
        var best = Enumerable.Repeat(double.MaxValue, sides.Count).ToArray();
        var sw = new Stopwatch();
        for (var r = 0; r < Math.Max(1, repeat); r++)
        {
            var sums = new double[sides.Count];
            foreach (var item in items)
            {
                for (var s = 0; s < sides.Count; s++)
                {
                    sw.Restart();
                    sides[s](item);
                    sums[s] += sw.Elapsed.TotalSeconds;
                }
                step?.Invoke(item);
            }
            for (var s = 0; s < sides.Count; s++) best[s] = Math.Min(best[s], sums[s]);
        }
        return best;
    }

    /// <summary>Best-of-<paramref name="repeat"/> seconds of each side run once per round (alternating).</summary>
    public static double[] BestOf(int repeat, params Action[] sides)
        => BestOf(repeat, [0], sides.Select(a => (Action<int>)(_ => a())).ToList());

    /// <summary>Seconds of one run.</summary>
    public static double Seconds(Action action)
    {
        var sw = Stopwatch.StartNew();
        action();
        return sw.Elapsed.TotalSeconds;
    }
}

/// <summary>A measured pipeline stage of the benchmarks.</summary>
internal interface IBenchStage
{
    /// <summary>The --stages name.</summary>
    string Name { get; }

    /// <summary>What it measures and against which peer (shown by --help).</summary>
    string Description { get; }

    /// <summary>Progress steps this stage will report.</summary>
    int Steps(BenchContext context);

    /// <summary>Measures; calls <paramref name="step"/> once per progress step.</summary>
    IReadOnlyList<BenchRow> Run(BenchContext context, Action<string?> step);
}

/// <summary>The bench stages, in run order.</summary>
internal static class BenchStages
{
    public static IReadOnlyList<IBenchStage> All { get; } =
    [
        new DecodeBenchStage(),
        new FaceBenchStage(),
        new SpectrogramBenchStage(),
        new AcousticBenchStage(),
        new FaceFeaturesBenchStage(),
        new AudioCnnBenchStage(),
        new HeadBenchStage(),
        new ChainBenchStage(),
        new ThroughputBenchStage(),
    ];
}
