using Microsoft.ML.OnnxRuntime;

namespace EmotionML;

/// <summary>Where ONNX graphs run.</summary>
public enum ExecutionDevice
{
    /// <summary>ONNX Runtime's CPU provider.</summary>
    Cpu,
    /// <summary>ONNX Runtime's CUDA provider (needs the build made with <c>-p:EmlOnnxRuntime=Gpu</c> and CUDA 13 on the machine).</summary>
    Cuda,
}

/// <summary>How a stage runs its ONNX graphs. Shared by every ONNX-running stage.</summary>
public sealed class OnnxExecutionOptions
{
    /// <summary>CPU (default) or CUDA.</summary>
    public ExecutionDevice Device { get; set; } = ExecutionDevice.Cpu;

    /// <summary>CUDA device id, when <see cref="Device"/> is CUDA.</summary>
    public int GpuDeviceId { get; set; }

    /// <summary>When CUDA cannot be used, run on the CPU (with a warning on stderr) instead of throwing. Default true.</summary>
    public bool FallbackToCpu { get; set; } = true;

    /// <summary>ONNX Runtime intra-op threads; 0 lets ONNX Runtime choose.</summary>
    public int IntraOpThreads { get; set; }
}

/// <summary>An ONNX Runtime session with EmotionML's provider selection and CPU fallback.</summary>
internal sealed class OnnxRunner : IDisposable
{
    private readonly InferenceSession _session;

    private OnnxRunner(InferenceSession session, string provider)
    {
        _session = session;
        Provider = provider;
    }

    /// <summary>"CPU" or "CUDA:id": the provider the session actually runs on.</summary>
    public string Provider { get; }

    public InferenceSession Session => _session;

    public static OnnxRunner Create(byte[] model, OnnxExecutionOptions? options, string what)
    {
        options ??= new OnnxExecutionOptions();
        if (options.Device == ExecutionDevice.Cuda)
        {
            try
            {
                using var so = MakeOptions(options);
                so.AppendExecutionProvider_CUDA(options.GpuDeviceId);
                return new OnnxRunner(new InferenceSession(model, so), $"CUDA:{options.GpuDeviceId}");
            }
            catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
            {
                if (!options.FallbackToCpu)
                    throw new EmotionMLException($"{what}: the CUDA execution provider is not available ({FirstLine(e.Message)}). Build with -p:EmlOnnxRuntime=Gpu on a machine with CUDA 13, or use Device=Cpu.", e);
                Console.Error.WriteLine($"warning: {what}: CUDA execution provider unavailable ({FirstLine(e.Message)}); running on CPU.");
            }
        }
        using var cpu = MakeOptions(options);
        return new OnnxRunner(new InferenceSession(model, cpu), "CPU");
    }

    /// <summary>
    /// Whether ONNX Runtime's intra-op threads spin after a run (default false: a chain runs several sessions one after
    /// another per row, and the idle sessions' spinning threads would take the cores from the busy one). The benchmarks'
    /// chain stage measures both.
    /// </summary>
    internal static bool AllowSpinning { get; set; }

    private static SessionOptions MakeOptions(OnnxExecutionOptions options)
    {
        var so = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (options.IntraOpThreads > 0) so.IntraOpNumThreads = options.IntraOpThreads;
        so.AddSessionConfigEntry("session.intra_op.allow_spinning", AllowSpinning ? "1" : "0");
        return so;
    }

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();

    public void Dispose() => _session.Dispose();
}
