using System.CommandLine;
using System.CommandLine.Help;
using EmotionML.Cli.Commands;

namespace EmotionML.Cli;

/// <summary>The <c>emotionml</c> command line: global options, the command list, error handling and exit codes.</summary>
public static class EmotionMLCli
{
    /// <summary>
    /// Parses <paramref name="args"/> and runs the command. Output goes to <paramref name="output"/> and messages to
    /// <paramref name="error"/> (the process's stdout/stderr when null). Returns the exit code: 0 ok, 1 runtime error,
    /// 2 usage error.
    /// </summary>
    public static int Run(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        var interactive = output == null && !Console.IsOutputRedirected;
        output ??= Console.Out;
        error ??= Console.Error;
        CliContext? context = null;
        var globals = new GlobalOptions();
        var root = BuildRootCommand(globals, () => context ?? throw new InvalidOperationException("context not ready"));
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && parse.Action is not HelpAction)
        {
            foreach (var e in parse.Errors) error.WriteLine($"error: {e.Message}");
            error.WriteLine("Run 'emotionml --help' (or 'emotionml <command> --help') for usage.");
            return ExitCodes.UsageError;
        }
        // --shared sets the process-wide SharedPaths.Root; put it back on return so in-process callers (tests) are unaffected.
        var previousShared = SharedPaths.Root;
        try
        {
            context = new CliContext(output, error, interactive)
            {
                CommandLine = "emotionml " + string.Join(' ', args.Select(a => a.Any(char.IsWhiteSpace) ? $"\"{a}\"" : a)),
            };
            ApplyGlobalOptions(parse, globals, context);
            return parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (UsageException e)
        {
            error.WriteLine($"error: {e.Message}");
            error.WriteLine("Run 'emotionml --help' (or 'emotionml <command> --help') for usage.");
            return ExitCodes.UsageError;
        }
        catch (EmotionMLException e)
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.RuntimeError;
        }
        catch (Exception e) when (e.InnerException is EmotionMLException inner)
        {
            // ML.NET wraps exceptions thrown inside a cursor; the typed one inside is what the user needs.
            error.WriteLine($"error: {inner.Message}");
            return ExitCodes.RuntimeError;
        }
        catch (Exception e)
        {
            error.WriteLine($"error: unexpected {e.GetType().Name}: {e.Message}");
            error.WriteLine(e.ToString());
            return ExitCodes.RuntimeError;
        }
        finally
        {
            SharedPaths.Root = previousShared;
        }
    }

    /// <summary>
    /// The command tree. To add a command (e.g. train, evaluate from EmotionML.Training), add a file under Commands/
    /// with a static <c>Create(Func&lt;CliContext&gt;)</c> and list it here.
    /// </summary>
    internal static RootCommand BuildRootCommand(GlobalOptions globals, Func<CliContext> context)
    {
        var root = new RootCommand("emotionml: audio-video emotion recognition with EmotionML (Zhou et al., ICMI 2019).\n" +
            "Exit codes: 0 ok, 1 runtime error (message on stderr), 2 usage error.")
        {
            globals.Shared,
            globals.Device,
            globals.Threads,
        };
        root.Subcommands.Add(PredictCommand.Create(context));
        root.Subcommands.Add(ManifestCommand.Create(context));
        root.Subcommands.Add(ModelsCommand.Create(context));
        root.Subcommands.Add(TrainAudioCommand.Create(context));
        root.Subcommands.Add(TrainFaceCommand.Create(context));
        root.Subcommands.Add(EvaluateCommand.Create(context));
        root.Subcommands.Add(TrainCommand.Create(context));
        root.Subcommands.Add(ExtractCommand.Create(context));
        return root;
    }

    private static void ApplyGlobalOptions(ParseResult parse, GlobalOptions globals, CliContext context)
    {
        if (parse.GetValue(globals.Shared) is { } shared)
        {
            if (!shared.Exists) throw new UsageException($"--shared {shared.FullName}: folder not found.");
            SharedPaths.Root = shared.FullName;
        }
        context.Device = parse.GetValue(globals.Device) == "cuda" ? ExecutionDevice.Cuda : ExecutionDevice.Cpu;
        context.Threads = parse.GetValue(globals.Threads);
        context.Execution.Device = context.Device;
        context.Execution.IntraOpThreads = context.Threads;
    }
}

/// <summary>The options every command accepts (recursive on the root command).</summary>
internal sealed class GlobalOptions
{
    /// <summary>--shared: the folder holding models/ and data/.</summary>
    public Option<DirectoryInfo?> Shared { get; } = new("--shared")
    {
        Description = "Folder that holds the shared models/ and data/ (default: $EMOTIONML_SHARED, else ../shared found from the working directory or the tool's folder).",
        Recursive = true,
        HelpName = "dir",
    };

    /// <summary>--device: where ONNX graphs (and, later, training) run.</summary>
    public Option<string> Device { get; } = MakeDeviceOption();

    /// <summary>--threads: ONNX Runtime intra-op threads (and TorchSharp threads for training).</summary>
    public Option<int> Threads { get; } = MakeThreadsOption();

    private static Option<string> MakeDeviceOption()
    {
        var o = new Option<string>("--device")
        {
            Description = "Where ONNX graphs run: cpu or cuda (cuda needs ONNX Runtime's GPU package — in the repository a build with -p:EmlOnnxRuntime=Gpu; the installed tool has the CPU one — and CUDA 13; otherwise it falls back to the CPU with a warning). Default cpu.",
            Recursive = true,
            DefaultValueFactory = _ => "cpu",
        };
        o.AcceptOnlyFromAmong("cpu", "cuda");
        return o;
    }

    private static Option<int> MakeThreadsOption()
    {
        var o = new Option<int>("--threads")
        {
            Description = "Threads for ONNX Runtime (intra-op) and training; 0 lets the runtime choose. Default 0.",
            Recursive = true,
            HelpName = "N",
        };
        o.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 0) r.AddError("--threads must be 0 or positive.");
        });
        return o;
    }
}
