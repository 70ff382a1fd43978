using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace EmotionML.Benchmarks.Stages;

/// <summary>
/// Clips per second of <c>emotionml extract</c> over a manifest of the bench clips (decode, align, DenseNet-121 Basic
/// features) with one worker (<c>--parallel 1</c>, ONNX Runtime choosing its threads) and two (<c>--parallel 2 --threads 1</c>), each run in a fresh process with an empty feature cache,
/// so the figure includes what a user pays: process start, model load and the per-clip work.
/// </summary>
internal sealed class ThroughputBenchStage : IBenchStage
{
    public string Name => "throughput";
    public string Description => "emotionml extract over the bench clips with --parallel 1 and --parallel 2 (fresh process, empty cache each run): clips/s at 1 and 2 workers";
    public int Steps(BenchContext context) => 2 * (context.Repeat + 1);

    public IReadOnlyList<BenchRow> Run(BenchContext context, Action<string?> step)
    {
        var cli = CliDll();
        var work = Directory.CreateTempSubdirectory("emotionml-throughput-");
        try
        {
            var manifest = Path.Combine(work.FullName, "clips.csv");
            var sb = new StringBuilder("path,label,speaker\n");
            foreach (var c in context.Clips) sb.Append('"').Append(c.Replace("\"", "\"\"")).Append("\",neutral,00\n");
            File.WriteAllText(manifest, sb.ToString());
            var run = 0;
            void Extract(int parallel, int threads)
            {
                var cache = Path.Combine(work.FullName, $"cache-{run++}");
                var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
                foreach (var a in new[] { cli, "--threads", threads.ToString(CultureInfo.InvariantCulture), "extract", "--manifest", manifest, "--frames", "8",
                             "--out", Path.Combine(work.FullName, $"out-{parallel}.csv"), "--parallel", parallel.ToString(CultureInfo.InvariantCulture) })
                    psi.ArgumentList.Add(a);
                psi.Environment["EMOTIONML_CACHE"] = cache;
                using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start dotnet");
                var err = p.StandardError.ReadToEndAsync();
                p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                if (p.ExitCode != 0) throw new InvalidOperationException($"emotionml extract --parallel {parallel} failed ({p.ExitCode}): {err.Result.Trim()}");
                Directory.Delete(cache, recursive: true);
                step($"--parallel {parallel}");
            }
            var best = Timing.BestOf(context.Repeat, () => Extract(1, 0), () => Extract(2, 1));
            var n = context.Clips.Count;
            var same = File.ReadAllText(Path.Combine(work.FullName, "out-1.csv")) == File.ReadAllText(Path.Combine(work.FullName, "out-2.csv"));
            return
            [
                new BenchRow(Name, "clips/s, emotionml --threads 1 extract --parallel 2", BenchContext.F(n / best[1]),
                    "emotionml --threads 0 extract --parallel 1 (one worker, ONNX Runtime chooses its threads)", BenchContext.F(n / best[0]) + " clips/s", best[0] / best[1],
                    $"{n} clips × 8 frames, DenseNet-121 Basic, fresh process and empty cache each run, best of {context.Repeat}; outputs {(same ? "identical" : "DIFFERENT")}"),
            ];
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    /// <summary>The built tool next to this repository's benchmarks (same configuration).</summary>
    private static string CliDll()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "EmotionML.sln"))) dir = dir.Parent;
        if (dir is null) throw new InvalidOperationException("the repository root (EmotionML.sln) is not above the benchmarks' folder");
        var config = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        var dll = Path.Combine(dir.FullName, "src", "EmotionML.Cli", "bin", config, "net10.0", "EmotionML.Cli.dll");
        return File.Exists(dll) ? dll : throw new InvalidOperationException($"{dll} is missing: build the solution first (dotnet build EmotionML.sln -c {config}).");
    }
}
