namespace EmotionML;

/// <summary>
/// Where a computation runs: the one device vocabulary of EmotionML, used with <c>DeviceId</c> and <c>FallbackToCpu</c>
/// (default true) by ONNX Runtime (<see cref="OnnxExecutionOptions"/>) and by TorchSharp training alike.
/// </summary>
public enum ExecutionDevice
{
    /// <summary>ONNX Runtime's CPU provider.</summary>
    Cpu,
    /// <summary>NVIDIA CUDA: ONNX Runtime's CUDA provider (needs the application to reference Microsoft.ML.OnnxRuntime.Gpu instead of Microsoft.ML.OnnxRuntime — in this repository, a build with <c>-p:EmlOnnxRuntime=Gpu</c> — and CUDA 13), or libtorch's CUDA device.</summary>
    Cuda,
}
