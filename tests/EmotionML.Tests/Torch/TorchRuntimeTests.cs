using Xunit;
using EmotionML.Training.Torch;
using TorchSharp;

namespace EmotionML.Tests.Torch;

public sealed class TorchRuntimeTests
{
    [Fact]
    public void CpuIsChosenAndSeedIsApplied()
    {
        var device = TorchRuntime.Initialize(new TorchRuntimeOptions { Threads = 1, Seed = 7 });
        Assert.Equal(DeviceType.CPU, device.type);
        var a = torch.rand(3).data<float>().ToArray();
        TorchRuntime.Initialize(new TorchRuntimeOptions { Threads = 1, Seed = 7 });
        var b = torch.rand(3).data<float>().ToArray();
        Assert.Equal(a, b);
    }

    [NoTorchCudaFact]
    public void CudaWithoutCudaThrowsOrFallsBack()
    {
        TorchRuntime.Initialize(new TorchRuntimeOptions { Threads = 1 });
        var e = Assert.Throws<EmotionMLException>(() => TorchRuntime.ResolveDevice(ExecutionDevice.Cuda, 0, fallbackToCpu: false));
        Assert.Contains(TorchRuntime.LibTorchDirVariable, e.Message);
        Assert.Equal(DeviceType.CPU, TorchRuntime.ResolveDevice(ExecutionDevice.Cuda, 0, fallbackToCpu: true).type);
        Assert.Equal(DeviceType.CPU, TorchRuntime.Initialize(new TorchRuntimeOptions { Threads = 1, Device = ExecutionDevice.Cuda, FallbackToCpu = true }).type);
        Assert.Throws<EmotionMLException>(() => TorchRuntime.ResolveDevice((ExecutionDevice)7, 0, fallbackToCpu: true));
    }

    [TorchCudaFact]
    public void CudaIsChosenWhereItIsPresent()
    {
        Assert.Equal(DeviceType.CUDA, TorchRuntime.ResolveDevice(ExecutionDevice.Cuda, 0, fallbackToCpu: false).type);
        Assert.Equal(DeviceType.CUDA, TorchRuntime.Initialize(new TorchRuntimeOptions { Threads = 1, Device = ExecutionDevice.Cuda }).type);
        TorchRuntime.Initialize(new TorchRuntimeOptions { Threads = 1 });
    }

    [Fact]
    public void MissingLibTorchFolderIsAClearError()
    {
        var e = Assert.Throws<EmotionMLException>(() => TorchRuntime.LoadLibTorch("/nonexistent/libtorch"));
        Assert.Contains("does not exist", e.Message);
    }
}
