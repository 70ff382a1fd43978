using Microsoft.ML.Runtime;

namespace EmotionML.Core;

/// <summary>
/// The one logging path of the stages: warnings go to the <see cref="IHost"/>'s channel, so an application sees them in
/// <c>mlContext.Log</c> (kind <c>Warning</c>); the library never writes to the console.
/// </summary>
internal static class StageLog
{
    public static void Warning(IHost host, string message)
    {
        using var channel = host.Start("EmotionML");
        channel.Warning(message);
    }

    /// <summary>Execution options whose warnings (CUDA fallback) go to <paramref name="host"/>: a copy of <paramref name="execution"/>.</summary>
    public static OnnxExecutionOptions Routed(OnnxExecutionOptions execution, IHost host)
    {
        var copy = execution.Clone();
        copy.Warning = message => Warning(host, message);
        return copy;
    }
}
