using EmotionML.Experiments;

namespace EmotionML.Cli;

/// <summary>A clip's typed error as the commands report it (JSON <c>error</c> object, table error line).</summary>
/// <param name="Type">The exception type, e.g. <c>MediaFileException</c>.</param>
/// <param name="Problem">For a media file, the <see cref="MediaProblem"/> (Missing, Empty, NotMedia, Corrupt, NoVideo, NoAudio, ToolMissing); else null.</param>
/// <param name="Message">The error message (names the file).</param>
internal sealed record ClipError(string Type, string? Problem, string Message)
{
    public static ClipError From(EmotionMLException e) => new(e.GetType().Name, e is MediaFileException m ? m.Problem.ToString() : null, e.Message);

    /// <summary>"MediaFileException (Corrupt)".</summary>
    public string Kind => Problem is null ? Type : $"{Type} ({Problem})";
}

/// <summary>Reporting the clips a batch command left out.</summary>
internal static class ClipFailures
{
    /// <summary>Writes one error line per failed clip to stderr and returns the set without them.</summary>
    public static FusionFeatureSet Report(CliContext ctx, FusionFeatureSet set)
    {
        foreach (var f in set.Failures)
            ctx.Error.WriteLine($"error: {f.Error.Message} [{ClipError.From(f.Error).Kind}; clip left out]");
        return set.Failures.Count == 0 ? set : set.WithoutFailures();
    }

    /// <summary>The summary line and exit code after a batch: 0 when every clip worked, 1 when any failed.</summary>
    public static int Finish(CliContext ctx, int failed, int total)
    {
        if (failed == 0) return ExitCodes.Ok;
        ctx.Error.WriteLine($"{ClipManifest.Count(failed, "clip")} of {total} failed (listed above); exit code {ExitCodes.RuntimeError}.");
        return ExitCodes.RuntimeError;
    }
}
