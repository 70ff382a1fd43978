using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using EmotionML.Cli.Bench;
using Spectre.Console;
using EmotionML.Experiments;

namespace EmotionML.Cli.Commands;

/// <summary><c>emotionml bench</c>: each stage against a baseline measured in the same run, reported as a ratio.</summary>
internal static class BenchCommand
{
    public const int DefaultClips = 20;

    public static Command Create(Func<CliContext> context)
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
            Description = "Runs of each measurement; the fastest is reported. Default 1.",
            DefaultValueFactory = _ => 1,
            HelpName = "R",
        };
        repeat.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 1) r.AddError("--repeat must be at least 1.");
        });
        var stages = new Option<string[]>("--stages")
        {
            Description = "Stages to measure (default: every implemented one): " +
                string.Join("; ", BenchStages.All.Select(s => $"{s.Name}{(s.Implemented ? s.RunByDefault ? "" : " (only when named)" : " (hook, not measured yet)")}: {s.Description}")) + ".",
            AllowMultipleArgumentsPerToken = true,
            HelpName = "stage",
        };
        stages.AcceptOnlyFromAmong([.. BenchStages.All.Select(s => s.Name)]);
        var ferTrain = new Option<int>("--fer-train")
        {
            Description = "backbones stage: FER2013 training images per class (7 classes). Default 10 (a smoke run; docs/results.md has the full comparison).",
            DefaultValueFactory = _ => 10,
            HelpName = "N",
        };
        var ferTest = new Option<int>("--fer-test")
        {
            Description = "backbones stage: FER2013 test images per class. Default 5.",
            DefaultValueFactory = _ => 5,
            HelpName = "N",
        };
        foreach (var o in new[] { ferTrain, ferTest })
            o.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<int>() < 1) r.AddError($"{o.Name} must be at least 1.");
            });
        var markdown = new Option<FileInfo?>("--markdown")
        {
            Description = "Also write the table, the command and the machine to this Markdown file.",
            HelpName = "out.md",
        };
        var command = new Command("bench", "Benchmark the pipeline stages on the Javanese clips. Every measurement runs against a baseline measured in the same run on the same input; 'ratio' is stage time ÷ baseline time (1.00 = as fast as the baseline, 2.00 = twice as slow).")
        {
            clips, repeat, stages, ferTrain, ferTest, markdown,
        };
        command.SetAction(parse =>
        {
            var ctx = context();
            var selected = parse.GetValue(stages) is { Length: > 0 } names
                ? BenchStages.All.Where(s => names.Contains(s.Name)).ToList()
                : BenchStages.Default.ToList();
            var bench = new BenchContext
            {
                Clips = SelectClips(parse.GetValue(clips) ?? DefaultClips.ToString(CultureInfo.InvariantCulture)),
                Repeat = parse.GetValue(repeat),
                FerTrainPerClass = parse.GetValue(ferTrain),
                FerTestPerClass = parse.GetValue(ferTest),
                Execution = ctx.Execution,
                TorchThreads = ctx.Threads > 0 ? ctx.Threads : Environment.ProcessorCount,
                Log = ctx.Error,
            };
            var rows = new List<BenchRow>();
            var started = DateTime.Now;
            foreach (var stage in selected)
            {
                var steps = stage.Steps(bench);
                if (steps == 0) { rows.AddRange(stage.Run(bench, _ => { })); continue; }
                ctx.WithProgress(stage.Name, steps, step => rows.AddRange(stage.Run(bench, step)));
            }
            var table = new Table().AddColumns("stage", "measure", "value", "baseline", "baseline value", "ratio", "notes");
            foreach (var r in rows)
                table.AddRow(Markup.Escape(r.Stage), Markup.Escape(r.Measure), Markup.Escape(r.Value), Markup.Escape(r.Baseline),
                    Markup.Escape(r.BaselineValue), r.Ratio is { } x ? BenchContext.F(x) : "-", Markup.Escape(r.Notes));
            ctx.Console.Write(table);
            foreach (var fact in bench.Facts) ctx.Console.WriteLine(fact);
            ctx.Console.WriteLine("ratio = stage wall time ÷ baseline wall time, same input, same run.");
            if (parse.GetValue(markdown) is { } md)
            {
                WriteMarkdown(md.FullName, ctx.CommandLine, rows, bench, started);
                ctx.Error.WriteLine($"wrote {md.FullName}");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>N Javanese clips spread evenly over labels.csv (so over every actor and emotion), or all 168.</summary>
    internal static List<string> SelectClips(string spec)
    {
        var all = ClipManifest.FromDataset(ClipManifest.Datasets.Single(d => d.Name == "javanese-av")).Select(e => e.Path).ToList();
        var n = spec == "all" ? all.Count : int.Parse(spec, CultureInfo.InvariantCulture);
        if (n > all.Count) throw new UsageException($"--clips {n}: the Javanese set has {all.Count} clips.");
        var picked = Enumerable.Range(0, n).Select(i => all[(int)((long)i * all.Count / n)]).ToList();
        foreach (var p in picked)
            if (!File.Exists(p)) throw new MediaFileException(p, MediaProblem.Missing, "listed in data/javanese-av/labels.csv");
        return picked;
    }

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

    private static void WriteMarkdown(string path, string commandLine, List<BenchRow> rows, BenchContext bench, DateTime started)
    {
        static string Cell(string s) => s.Replace("|", "\\|");
        var sb = new StringBuilder();
        sb.Append("```\n").Append(commandLine).Append("\n```\n\n");
        sb.Append($"Run {started:yyyy-MM-dd HH:mm}, {bench.Clips.Count} Javanese clips, best of {bench.Repeat}, ONNX Runtime on {bench.Execution.Device}. Machine: {Machine()}.\n\n");
        sb.Append("| stage | measure | value | baseline | baseline value | ratio | notes |\n|---|---|---|---|---|---|---|\n");
        foreach (var r in rows)
            sb.Append($"| {Cell(r.Stage)} | {Cell(r.Measure)} | {Cell(r.Value)} | {Cell(r.Baseline)} | {Cell(r.BaselineValue)} | {(r.Ratio is { } x ? BenchContext.F(x) : "-")} | {Cell(r.Notes)} |\n");
        sb.Append('\n');
        foreach (var fact in bench.Facts) sb.Append(fact).Append("\n\n");
        sb.Append("ratio = stage wall time ÷ baseline wall time on the same input in the same run (lower is better; 1.00 = as fast as the baseline).\n");
        var dir = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        File.WriteAllText(path, sb.ToString());
    }
}
