namespace EmotionML.Cli;

/// <summary>Exit codes of the <c>emotionml</c> tool.</summary>
public static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Ok = 0;

    /// <summary>The command ran and failed (missing file, bad model, decoding error...). The message is on stderr.</summary>
    public const int RuntimeError = 1;

    /// <summary>The command line is wrong (unknown command or option, missing argument, bad value).</summary>
    public const int UsageError = 2;
}

/// <summary>A command-line value that parsed but cannot be used; reported like a parse error (exit code 2).</summary>
internal sealed class UsageException(string message) : Exception(message);
