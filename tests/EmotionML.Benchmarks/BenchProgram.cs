using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using EmotionML.Benchmarks.Stages;
using Spectre.Console;

namespace EmotionML.Benchmarks;

/// <summary>
/// The benchmarks' entry: <c>dotnet run -c Release --project tests/EmotionML.Benchmarks -- [--stages ...] [--repeat R]
/// [--clips N|all] [--markdown out.md]</c>. Every stage runs beside its peer (the tool a user would pick instead) on the same
/// input in the same run; each line gives EmotionML's value, the peer's, and the speed ratio.
/// </summary>
public static class BenchProgram
{
    public const int DefaultClips = 20;

    /// <summary>Process entry.</summary>
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Parses and runs; returns the exit code (0 ok, 2 usage error, 1 failure).</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var clips = new Option<string>("--clips")
        {
            Description = $"How many Javanese clips (data/javanese-av) to measure, spread evenly over the 168 and so over all actors: a number, or 'all'. Default {DefaultClips}.",
            DefaultValueFactory = _ => DefaultClips.ToString(CultureInfo.InvariantCulture),
            HelpName = "N|all",
        };
        clips.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<string>();
            if (v != "all" && !(int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0))
                r.AddError($"--clips must be a positive number or 'all', not '{v}'.");
        });
        var repeat = new Option<int>("--repeat")
        {
            Description = "Rounds of each measurement (EmotionML and its peer alternate within a round); the fastest round of each is reported. Default 1.",
            DefaultValueFactory = _ => 1,
            HelpName = "R",
        };
        repeat.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 1) r.AddError("--repeat must be at least 1.");
        });
        var stages = new Option<string[]>("--stages")
        {
            Description = "Stages to measure (default: all): " + string.Join("; ", BenchStages.All.Select(s => $"{s.Name}: {s.Description}")) + ".",
            AllowMultipleArgumentsPerToken = true,
            HelpName = "stage",
        };
        stages.AcceptOnlyFromAmong([.. BenchStages.All.Select(s => s.Name)]);
        var threads = new Option<int>("--threads")
        {
            Description = "TorchSharp threads for the TorchSharp peers and trainings (default: one per core).",
            DefaultValueFactory = _ => Environment.ProcessorCount,
            HelpName = "N",
        };
        var shared = new Option<DirectoryInfo?>("--shared")
        {
            Description = "The shared folder with models/ and data/ (default: EMOTIONML_SHARED, else ../shared).",
            HelpName = "dir",
        };
        var markdown = new Option<FileInfo?>("--markdown")
        {
            Description = "Also write the table, the command and the machine to this Markdown file (docs/performance.md is made this way).",
            HelpName = "out.md",
        };
        var root = new RootCommand("EmotionML benchmarks: each pipeline stage beside its peer (OpenCV's YuNet pipeline, scipy.signal.stft, a full ffmpeg decode, bare ONNX Runtime sessions, TorchSharp) on the same Javanese clips in the same run. ratio = EmotionML's speed ÷ the peer's (2.00 = twice as fast as the peer, 0.50 = half as fast).")
        {
            clips, repeat, stages, threads, shared, markdown,
        };
        var code = 0;
        root.SetAction(parse =>
        {
            if (parse.GetValue(shared) is { } dir) SharedPaths.Root = dir.FullName;
            var selected = parse.GetValue(stages) is { Length: > 0 } names
                ? BenchStages.All.Where(s => names.Contains(s.Name)).ToList()
                : BenchStages.All.ToList();
            var bench = new BenchContext
            {
                Clips = BenchClips.Select(parse.GetValue(clips) ?? DefaultClips.ToString(CultureInfo.InvariantCulture)),
                Repeat = parse.GetValue(repeat),
                Execution = new OnnxExecutionOptions(),
                TorchThreads = parse.GetValue(threads),
                Log = error,
            };
            var rows = new List<BenchRow>();
            var started = DateTime.Now;
            var load = LoadAverage();
            foreach (var stage in selected)
            {
                var done = 0;
                var steps = stage.Steps(bench);
                rows.AddRange(stage.Run(bench, step => error.WriteLine($"{stage.Name}: {++done}/{steps}{(step is null ? "" : " " + step)}")));
            }
            var loadAfter = LoadAverage();
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No });
            console.Profile.Width = 220;
            var table = new Table().AddColumns("stage", "measure", "EmotionML", "peer", "peer value", "ratio", "notes");
            foreach (var r in rows)
                table.AddRow(Markup.Escape(r.Stage), Markup.Escape(r.Measure), Markup.Escape(r.Value), Markup.Escape(r.Peer),
                    Markup.Escape(r.PeerValue), r.Ratio is { } x ? BenchContext.F(x) : "-", Markup.Escape(r.Notes));
            console.Write(table);
            foreach (var fact in bench.Facts) output.WriteLine(fact);
            output.WriteLine(RatioNote);
            if (parse.GetValue(markdown) is { } md)
            {
                var line = "dotnet run -c Release --project tests/EmotionML.Benchmarks -- " + string.Join(' ', args);
                WriteMarkdown(md.FullName, line, rows, bench, started, load, loadAfter);
                error.WriteLine($"wrote {md.FullName}");
            }
            return 0;
        });
        var config = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        try
        {
            var parsed = root.Parse(args);
            if (parsed.Errors.Count > 0)
            {
                foreach (var e in parsed.Errors) error.WriteLine($"error: {e.Message}");
                error.WriteLine("See --help.");
                return UsageError;
            }
            code = parsed.Invoke(config);
        }
        catch (BenchUsageException e)
        {
            error.WriteLine($"error: {e.Message} See --help.");
            return UsageError;
        }
        catch (EmotionMLException e)
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }
        return code;
    }

    /// <summary>Exit code of a bad command line.</summary>
    public const int UsageError = 2;

    /// <summary>In the Markdown file, the line after which the text is kept when the file is written again.</summary>
    internal const string KeptMarker = "<!-- Kept when this file is regenerated: everything below this line. -->";

    internal const string RatioNote = "ratio = EmotionML's speed ÷ the peer's on the same input in the same run (higher is better; 1.00 = as fast as the peer).";

    /// <summary>The command that measures one stage alone, with this run's clips and repeats.</summary>
    internal static string StageCommand(string stage, BenchContext bench)
        => $"dotnet run -c Release --project tests/EmotionML.Benchmarks -- --stages {stage} --clips {bench.Clips.Count} --repeat {bench.Repeat}";

    /// <summary>A one-line description of this machine for the report.</summary>
    internal static string Machine()
    {
        var cpu = "unknown CPU";
        try
        {
            if (File.Exists("/proc/cpuinfo"))
                cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        }
        catch (IOException) { }
        return $"{Environment.ProcessorCount} logical cores ({cpu}), {RuntimeInformation.OSDescription}, .NET {Environment.Version}";
    }

    /// <summary>The 1-minute load average (Linux), or "unknown".</summary>
    internal static string LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "unknown";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static void WriteMarkdown(string path, string commandLine, List<BenchRow> rows, BenchContext bench, DateTime started, string load, string loadAfter)
    {
        static string Cell(string s) => s.Replace("|", "\\|");
        var sb = new StringBuilder();
        sb.Append("# Performance\n\n");
        sb.Append("Generated by one command (rerun it to refresh this file; take the figures on a quiet machine):\n\n");
        sb.Append("```\n").Append(commandLine).Append("\n```\n\n");
        sb.Append($"Run {started:yyyy-MM-dd HH:mm}, {bench.Clips.Count} Javanese clips, best of {bench.Repeat}, ONNX Runtime on {bench.Execution.Device}. ");
        sb.Append($"Machine: {Machine()}. Load average (1 min) {load} before the run, {loadAfter} after.\n\n");
        var peers = rows.Where(r => r.Headline && r.Ratio is not null).ToList();
        if (peers.Count > 0)
        {
            sb.Append("## Against the peers\n\n| stage | EmotionML | peer | ratio | goal | command |\n|---|---|---|---|---|---|\n");
            foreach (var r in peers)
                sb.Append($"| {Cell(r.Stage)}: {Cell(r.Measure)} | {Cell(r.Value)} | {Cell(r.Peer)}: {Cell(r.PeerValue)} | {BenchContext.F(r.Ratio!.Value)} | {Cell(r.Goal)} | `{Cell(StageCommand(r.Stage, bench))}` |\n");
            sb.Append('\n');
        }
        sb.Append("## Every line\n\nEach stage's own command: `").Append(StageCommand("<stage>", bench)).Append("`.\n\n");
        sb.Append("| stage | measure | EmotionML | peer | peer value | ratio | notes |\n|---|---|---|---|---|---|---|\n");
        foreach (var r in rows)
            sb.Append($"| {Cell(r.Stage)} | {Cell(r.Measure)} | {Cell(r.Value)} | {Cell(r.Peer)} | {Cell(r.PeerValue)} | {(r.Ratio is { } x ? BenchContext.F(x) : "-")} | {Cell(r.Notes)} |\n");
        sb.Append('\n');
        foreach (var fact in bench.Facts) sb.Append(fact).Append("\n\n");
        sb.Append(RatioNote).Append('\n');
        // Hand-written notes below the marker (what each line measures, the GPU section) survive regeneration.
        if (File.Exists(path) && File.ReadAllText(path) is var old && old.IndexOf(KeptMarker, StringComparison.Ordinal) is var at and >= 0)
            sb.Append('\n').Append(old[at..]);
        var dir = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        File.WriteAllText(path, sb.ToString());
    }
}

/// <summary>The Javanese clips the stages measure.</summary>
internal static class BenchClips
{
    /// <summary>N clips spread evenly over data/javanese-av/labels.csv (so over every actor and emotion), or all 168.</summary>
    public static List<string> Select(string spec)
    {
        var dir = SharedPaths.Combine("data", "javanese-av");
        var labels = Path.Combine(dir, "labels.csv");
        if (!File.Exists(labels)) throw new MediaFileException(labels, MediaProblem.Missing, "the Javanese clips' label file");
        var all = File.ReadLines(labels).Skip(1).Where(l => l.Length > 0).Select(l => Path.Combine(dir, l.Split(',')[0])).ToList();
        var n = spec == "all" ? all.Count : int.Parse(spec, CultureInfo.InvariantCulture);
        if (n > all.Count) throw new BenchUsageException($"--clips {n}: the Javanese set has {all.Count} clips.");
        var picked = Enumerable.Range(0, n).Select(i => all[(int)((long)i * all.Count / n)]).ToList();
        foreach (var p in picked)
            if (!File.Exists(p)) throw new MediaFileException(p, MediaProblem.Missing, "listed in data/javanese-av/labels.csv");
        return picked;
    }
}

/// <summary>A command-line value that cannot be honoured (exit code 2).</summary>
internal sealed class BenchUsageException(string message) : Exception(message);
