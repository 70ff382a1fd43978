namespace EmotionML;

/// <summary>
/// Where and how a loaded model runs on this machine: the deployment settings, which a model zip never holds. A zip holds
/// what was learned (sizes, attention kinds, enhancement, label names, the ONNX graphs); the execution device, threads,
/// CUDA fallback and the face-feature cache folder belong to the machine that runs it and are given when loading
/// (<see cref="EmotionModel.Load(Microsoft.ML.MLContext, string, EmotionDeploymentOptions?)"/>). Model search paths are
/// not needed at load time: every ONNX graph a chain uses is stored in its zip.
/// </summary>
public sealed class EmotionDeploymentOptions
{
    /// <summary>How every ONNX graph of the model runs (device, device id, CPU fallback, threads). Default: CPU, ONNX Runtime's threads.</summary>
    public OnnxExecutionOptions Execution { get; set; } = new();

    /// <summary>Folder of the on-disk face-feature cache; null (default) turns caching off. The folder is created when the model is loaded.</summary>
    public string? FeatureCacheDirectory { get; set; }

    internal EmotionDeploymentOptions Clone() => new() { Execution = Execution.Clone(), FeatureCacheDirectory = FeatureCacheDirectory };

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Execution, nameof(Execution));
        Execution.Validate();
    }
}
