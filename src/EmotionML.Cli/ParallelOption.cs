using System.CommandLine;

namespace EmotionML.Cli;

/// <summary>The --parallel option of predict and extract.</summary>
internal static class ParallelOption
{
    /// <summary>Default of --parallel: two workers where there are two cores (the ffmpeg decode of one clip overlaps the other's networks).</summary>
    public static int Default => Math.Min(2, Environment.ProcessorCount);

    /// <summary>The --parallel option of predict and extract.</summary>
    public static Option<int> Create() => new("--parallel")
    {
        Description = $"Clips processed at once, each worker with its own copy of the model (results are the same and in input order). Default min(2, cores) = {Default}.",
        DefaultValueFactory = _ => Default,
        HelpName = "N",
    };

    /// <summary>Reads --parallel; a value below 1 is a usage error.</summary>
    public static int Read(ParseResult parse, Option<int> option)
    {
        var n = parse.GetValue(option);
        return n >= 1 ? n : throw new UsageException($"--parallel {n}: give 1 or more.");
    }
}
