using Xunit;
using EmotionML.Training.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace EmotionML.Tests.Fusion;

/// <summary>Single-threaded, seeded TorchSharp for every test.</summary>
public abstract class TorchTestBase
{
    protected TorchTestBase(long seed = 1234)
    {
        TorchRuntime.Initialize(new TorchRuntimeOptions { Threads = 1, Device = ExecutionDevice.Cpu, Seed = seed });
        torch.set_num_threads(1);
        torch.manual_seed(seed);
    }

    protected static Tensor T(float[] data, params long[] shape) => tensor(data).reshape(shape);

    protected static void Set(TorchSharp.Modules.Linear linear, float[] weight, float[]? bias)
    {
        using var _ = no_grad();
        linear.weight!.copy_(tensor(weight).reshape(linear.weight.shape));
        if (bias is not null) linear.bias!.copy_(tensor(bias));
    }

    protected static float[] F(Tensor t) => t.detach().cpu().contiguous().data<float>().ToArray();

    protected static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    protected static void Close(double[] expected, float[] actual, double tol = 1e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"index {i}: expected {expected[i]}, got {actual[i]}");
    }
}
