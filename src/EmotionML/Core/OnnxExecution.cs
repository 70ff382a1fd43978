using System.Text.Json.Serialization;
using Microsoft.ML.OnnxRuntime;

namespace EmotionML;

/// <summary>
/// How a stage runs its ONNX graphs. Shared by every ONNX-running stage. A deployment setting: never saved in a model
/// zip; give it when loading (<see cref="EmotionDeploymentOptions"/>).
/// </summary>
public sealed class OnnxExecutionOptions
{
    /// <summary>CPU (default) or CUDA.</summary>
    public ExecutionDevice Device { get; set; } = ExecutionDevice.Cpu;

    /// <summary>CUDA device id, when <see cref="Device"/> is CUDA. Default 0.</summary>
    public int DeviceId { get; set; }

    /// <summary>
    /// When CUDA cannot be used, run on the CPU instead of throwing, with a warning in <c>mlContext.Log</c>. Default true.
    /// </summary>
    public bool FallbackToCpu { get; set; } = true;

    /// <summary>ONNX Runtime intra-op threads; 0 lets ONNX Runtime choose.</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>Where warnings go (set by the owning stage to its MLContext channel).</summary>
    [JsonIgnore]
    internal Action<string>? Warning { get; set; }

    /// <summary>A copy without the warning sink.</summary>
    internal OnnxExecutionOptions Clone() => new() { Device = Device, DeviceId = DeviceId, FallbackToCpu = FallbackToCpu, IntraOpThreads = IntraOpThreads };

    internal void Validate()
    {
        if (!Enum.IsDefined(Device)) throw new ArgumentOutOfRangeException(nameof(Device), Device, "Device must be Cpu or Cuda.");
        if (DeviceId < 0) throw new ArgumentOutOfRangeException(nameof(DeviceId), DeviceId, "DeviceId must be 0 or positive.");
        if (IntraOpThreads < 0) throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), IntraOpThreads, "IntraOpThreads must be 0 or positive.");
    }
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
                so.AppendExecutionProvider_CUDA(options.DeviceId);
                return new OnnxRunner(new InferenceSession(model, so), $"CUDA:{options.DeviceId}");
            }
            catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
            {
                if (!options.FallbackToCpu)
                    throw new EmotionMLException($"{what}: the CUDA execution provider is not available ({FirstLine(e.Message)}). Reference Microsoft.ML.OnnxRuntime.Gpu instead of Microsoft.ML.OnnxRuntime in the application (in the EmotionML repository: build with -p:EmlOnnxRuntime=Gpu) on a machine with CUDA 13, or use Device=Cpu.", e);
                var warning = $"{what}: CUDA execution provider unavailable ({FirstLine(e.Message)}); running on CPU.";
                if (options.Warning != null) options.Warning(warning);
                else System.Diagnostics.Trace.TraceWarning(warning);
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
