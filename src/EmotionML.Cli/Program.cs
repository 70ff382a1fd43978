namespace EmotionML.Cli;

/// <summary>Process entry point of the <c>emotionml</c> tool; all the work is in <see cref="EmotionMLCli.Run"/>.</summary>
internal static class Program
{
    private static int Main(string[] args) => EmotionMLCli.Run(args);
}
