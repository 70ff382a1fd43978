namespace EmotionML.Cli;

/// <summary>Progress that reports synchronously on the calling thread.</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
