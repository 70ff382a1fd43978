using Microsoft.ML.OnnxRuntime;
using Xunit;

namespace EmotionML.Tests;

/// <summary>What this machine and build have, probed once.</summary>
internal static class Machine
{
    private static readonly Lazy<bool> OnnxCuda = new(() =>
    {
        try
        {
            using var options = new SessionOptions();
            options.AppendExecutionProvider_CUDA(0);
            return true;
        }
        catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    });

    private static readonly Lazy<bool> TorchCuda = new(() =>
    {
        EmotionML.Training.Torch.TorchRuntime.Initialize(new EmotionML.Training.Torch.TorchRuntimeOptions { Threads = 1 });
        return TorchSharp.torch.cuda.is_available();
    });

    /// <summary>ONNX Runtime can append its CUDA provider (a -p:EmlOnnxRuntime=Gpu build on a machine with CUDA).</summary>
    public static bool HasOnnxCuda => OnnxCuda.Value;

    /// <summary>TorchSharp sees a CUDA device.</summary>
    public static bool HasTorchCuda => TorchCuda.Value;
}

/// <summary>A fact that needs ONNX Runtime's CUDA provider: reported as skipped where it is absent.</summary>
public sealed class OnnxCudaFactAttribute : FactAttribute
{
    public OnnxCudaFactAttribute()
    {
        if (!Machine.HasOnnxCuda) Skip = "ONNX Runtime's CUDA provider is not available in this build or on this machine.";
    }
}

/// <summary>A fact about running without CUDA (fallback, errors): reported as skipped on a machine where ONNX Runtime has CUDA.</summary>
public sealed class NoOnnxCudaFactAttribute : FactAttribute
{
    public NoOnnxCudaFactAttribute()
    {
        if (Machine.HasOnnxCuda) Skip = "ONNX Runtime's CUDA provider is available here: the no-CUDA behaviour cannot be observed.";
    }
}

/// <summary>A fact that needs a CUDA device in TorchSharp: reported as skipped where there is none.</summary>
public sealed class TorchCudaFactAttribute : FactAttribute
{
    public TorchCudaFactAttribute()
    {
        if (!Machine.HasTorchCuda) Skip = "TorchSharp sees no CUDA device.";
    }
}

/// <summary>A fact about TorchSharp without CUDA: reported as skipped where a CUDA device is present.</summary>
public sealed class NoTorchCudaFactAttribute : FactAttribute
{
    public NoTorchCudaFactAttribute()
    {
        if (Machine.HasTorchCuda) Skip = "TorchSharp sees a CUDA device: the no-CUDA behaviour cannot be observed.";
    }
}
