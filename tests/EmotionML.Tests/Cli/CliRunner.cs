using EmotionML.Cli;

namespace EmotionML.Tests.Cli;

/// <summary>Runs the emotionml command line in-process and captures what it writes.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static Result Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = EmotionMLCli.Run(args, output, error);
        return new Result(code, output.ToString(), error.ToString());
    }

    /// <summary>Runs with <c>--shared</c> set to the shared folder the tests use.</summary>
    public static Result RunShared(params string[] args) => Run(["--shared", SharedPaths.Root, .. args]);
}
