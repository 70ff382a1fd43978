using Microsoft.ML;
using Microsoft.ML.Runtime;
using Spectre.Console;

namespace EmotionML.Cli;

/// <summary>
/// What every command gets: the output writers, Spectre consoles on them, and the global options (--shared, --device,
/// --threads) already applied. Commands added later (train, evaluate) read <see cref="Execution"/> and <see cref="Threads"/>.
/// </summary>
internal sealed class CliContext
{
    public CliContext(TextWriter output, TextWriter error, bool interactive)
    {
        Output = output;
        Error = error;
        Console = MakeConsole(output, interactive);
        Progress = MakeConsole(error, interactive);
    }

    /// <summary>Standard output: results (tables, JSON, CSV paths).</summary>
    public TextWriter Output { get; }

    /// <summary>Standard error: messages, warnings, progress.</summary>
    public TextWriter Error { get; }

    /// <summary>Spectre console on <see cref="Output"/>, for tables.</summary>
    public IAnsiConsole Console { get; }

    /// <summary>Spectre console on <see cref="Error"/>, for progress bars (so that stdout stays machine-readable).</summary>
    public IAnsiConsole Progress { get; }

    /// <summary>ONNX execution settings from --device and --threads, for the stages the CLI builds itself.</summary>
    public OnnxExecutionOptions Execution { get; } = new();

    /// <summary>--threads (0 = let the runtimes choose).</summary>
    public int Threads { get; set; }

    /// <summary>The command line as typed (for reports).</summary>
    public string CommandLine { get; set; } = "emotionml";

    /// <summary>--device.</summary>
    public ExecutionDevice Device { get; set; } = ExecutionDevice.Cpu;

    /// <summary>
    /// An MLContext whose warnings (CUDA fallback, skipped items: what the stages send to <c>mlContext.Log</c>) are
    /// printed on <see cref="Error"/> as <c>warning: ...</c>.
    /// </summary>
    public MLContext CreateMLContext(int? seed)
    {
        var ml = new MLContext(seed);
        ml.Log += (_, e) =>
        {
            if (e.Kind != ChannelMessageKind.Warning) return;
            lock (Error) Error.WriteLine($"warning: {e.RawMessage}");
        };
        return ml;
    }

    /// <summary>The deployment settings from --device and --threads, for models the CLI loads.</summary>
    public EmotionDeploymentOptions Deployment => new() { Execution = { Device = Execution.Device, IntraOpThreads = Execution.IntraOpThreads } };

    /// <summary>Runs <paramref name="work"/> with a progress bar of <paramref name="total"/> steps on stderr.</summary>
    public void WithProgress(string description, int total, Action<Action<string?>> work)
    {
        Progress.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(description), maxValue: Math.Max(1, total));
                work(step =>
                {
                    if (step != null) task.Description = Markup.Escape($"{description}: {step}");
                    task.Increment(1);
                });
            });
    }

    private static IAnsiConsole MakeConsole(TextWriter writer, bool interactive)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Detect : InteractionSupport.No,
        });
        // Redirected output (a file, a pipe, a test) has no terminal width: use a wide one rather than 80 columns.
        if (!interactive) console.Profile.Width = 200;
        return console;
    }
}
