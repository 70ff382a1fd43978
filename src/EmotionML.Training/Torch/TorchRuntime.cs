using System.Runtime.InteropServices;
using System.Text.Json.Serialization;
using TorchSharp;

namespace EmotionML.Training.Torch;

/// <summary>How <see cref="TorchRuntime.Initialize"/> sets up TorchSharp. JSON-serialisable.</summary>
public sealed record TorchRuntimeOptions
{
    /// <summary>Intra-op CPU threads (<c>torch.set_num_threads</c>); 0 leaves libtorch's default. Default 1.</summary>
    public int Threads { get; set; } = 1;

    /// <summary>The device (EmotionML's one device vocabulary, as for ONNX Runtime). Default CPU.</summary>
    public ExecutionDevice Device { get; set; } = ExecutionDevice.Cpu;

    /// <summary>CUDA device id, when <see cref="Device"/> is CUDA. Default 0.</summary>
    public int DeviceId { get; set; }

    /// <summary>When CUDA is asked for but not available: true (default, as for ONNX Runtime) falls back to the CPU with a warning, false throws.</summary>
    public bool FallbackToCpu { get; set; } = true;

    /// <summary>Where the fallback warning goes (a trainer sets its MLContext channel); null: <see cref="System.Diagnostics.Trace"/>.</summary>
    [JsonIgnore]
    internal Action<string>? Warning { get; set; }

    /// <summary>Seed for <c>torch.manual_seed</c> (and CUDA's generators); null leaves the generators alone. Default 0.</summary>
    public long? Seed { get; set; } = 0;

    /// <summary>
    /// A folder holding a machine's own libtorch (libc10.so, libtorch_cpu.so, libc10_cuda.so, libtorch_cuda.so,
    /// libtorch.so), e.g. a PyTorch install's <c>torch/lib</c>; null uses the environment variable
    /// <see cref="TorchRuntime.LibTorchDirVariable"/>, and when that is unset the libtorch package next to the program.
    /// </summary>
    public string? LibTorchDir { get; set; }
}

/// <summary>
/// One-time set-up of TorchSharp for this process: optionally loads a machine's own libtorch (needed for CUDA, since
/// NuGet serves only the CPU build here), sets the thread count, chooses the device and seeds the generators.
/// Call it before any other TorchSharp call.
/// </summary>
public static class TorchRuntime
{
    /// <summary>The environment variable naming a folder with a machine's own libtorch.</summary>
    public const string LibTorchDirVariable = "EMOTIONML_LIBTORCH_DIR";

    /// <summary>The libraries loaded from a libtorch folder, in dependency order; the CUDA ones are skipped when absent.</summary>
    public static readonly IReadOnlyList<string> LibTorchLibraries = ["libc10.so", "libtorch_cpu.so", "libc10_cuda.so", "libtorch_cuda.so", "libtorch.so"];

    private static readonly Lock Gate = new();
    private static string? _loadedDir;
    private static bool _nativeDone;
    private static torch.Device? _device;

    /// <summary>The device chosen by the last <see cref="Initialize"/>; CPU before any.</summary>
    public static torch.Device Device => _device ?? torch.CPU;

    /// <summary>The libtorch folder that was loaded, or null when the packaged libtorch is used.</summary>
    public static string? LoadedLibTorchDir => _loadedDir;

    /// <summary>
    /// Loads native libraries (first call only), then applies threads, device and seed, and returns the device.
    /// Later calls re-apply threads, device and seed; naming another libtorch folder after one was loaded throws.
    /// </summary>
    /// <exception cref="EmotionMLException">CUDA was asked for and is not available (and no fallback), a bad device
    /// string, or a libtorch folder that is missing or cannot be loaded.</exception>
    public static torch.Device Initialize(TorchRuntimeOptions? options = null)
    {
        options ??= new TorchRuntimeOptions();
        lock (Gate)
        {
            var dir = options.LibTorchDir ?? Environment.GetEnvironmentVariable(LibTorchDirVariable);
            if (string.IsNullOrWhiteSpace(dir)) dir = null;
            if (!_nativeDone)
            {
                if (dir is not null) LoadLibTorch(dir);
                _nativeDone = true;
            }
            else if (dir is not null && !string.Equals(Path.GetFullPath(dir), _loadedDir, StringComparison.Ordinal))
            {
                throw new EmotionMLException(_loadedDir is null
                    ? $"TorchSharp was already initialised with the packaged libtorch; cannot switch to '{dir}' in this process."
                    : $"TorchSharp was already initialised with libtorch from '{_loadedDir}'; cannot switch to '{dir}'.");
            }

            if (options.Threads < 0) throw new EmotionMLException($"Threads must be ≥ 0 (0 = libtorch default), not {options.Threads}.");
            if (options.Threads > 0) torch.set_num_threads(options.Threads);

            var device = ResolveDevice(options.Device, options.DeviceId, options.FallbackToCpu, options.Warning);
            if (options.Seed is long seed)
            {
                torch.manual_seed(seed);
                if (device.type == DeviceType.CUDA) torch.cuda.manual_seed_all(seed);
            }
            _device = device;
            return device;
        }
    }

    /// <summary>The TorchSharp device for <paramref name="device"/> and <paramref name="deviceId"/>, checked to be usable.</summary>
    /// <exception cref="EmotionMLException">CUDA is not available (and no fallback), or no such CUDA device.</exception>
    public static torch.Device ResolveDevice(ExecutionDevice device, int deviceId, bool fallbackToCpu) => ResolveDevice(device, deviceId, fallbackToCpu, null);

    internal static torch.Device ResolveDevice(ExecutionDevice device, int deviceId, bool fallbackToCpu, Action<string>? warning)
    {
        if (device == ExecutionDevice.Cpu) return torch.CPU;
        if (device != ExecutionDevice.Cuda) throw new EmotionMLException($"Unknown device '{device}': use Cpu or Cuda.");
        if (deviceId < 0) throw new EmotionMLException($"DeviceId must be 0 or positive, not {deviceId}.");
        var spec = $"cuda:{deviceId}";
        if (!torch.cuda.is_available())
        {
            if (fallbackToCpu)
            {
                var message = $"TorchSharp: device '{spec}' asked for but CUDA is not available (the NuGet libtorch is CPU-only); training on CPU.";
                if (warning != null) warning(message);
                else System.Diagnostics.Trace.TraceWarning(message);
                return torch.CPU;
            }
            throw new EmotionMLException(
                $"Device '{spec}' was asked for but CUDA is not available to TorchSharp (the NuGet libtorch is CPU-only). " +
                $"Point {LibTorchDirVariable} (or TorchRuntimeOptions.LibTorchDir) at a CUDA libtorch folder such as a PyTorch " +
                "install's torch/lib, or set FallbackToCpu, or use Cpu.");
        }
        var count = torch.cuda.device_count();
        if (deviceId >= count) throw new EmotionMLException($"Device '{spec}' was asked for but only {count} CUDA device(s) are visible.");
        return new torch.Device(DeviceType.CUDA, deviceId);
    }

    /// <summary>
    /// Loads libtorch from <paramref name="dir"/> (the libraries in <see cref="LibTorchLibraries"/> that exist; libc10.so,
    /// libtorch_cpu.so and libtorch.so are required), then the program's own libLibTorchSharp.so, so that TorchSharp binds
    /// to them. Must run before the first TorchSharp call.
    /// </summary>
    public static void LoadLibTorch(string dir)
    {
        var full = Path.GetFullPath(dir);
        if (!Directory.Exists(full)) throw new EmotionMLException($"{LibTorchDirVariable}: folder '{full}' does not exist.");
        foreach (var lib in LibTorchLibraries)
        {
            var path = Path.Combine(full, lib);
            bool optional = lib.Contains("cuda", StringComparison.Ordinal);
            if (!File.Exists(path))
            {
                if (optional) continue;
                throw new EmotionMLException($"{LibTorchDirVariable}: '{path}' is missing.");
            }
            try { NativeLibrary.Load(path); }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                throw new EmotionMLException($"{LibTorchDirVariable}: could not load '{path}': {e.Message}", e);
            }
        }
        var own = FindLibTorchSharp();
        if (own is not null)
        {
            try { NativeLibrary.Load(own); }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                throw new EmotionMLException(
                    $"libtorch from '{full}' loaded, but TorchSharp's '{own}' did not: {e.Message} (on Debian 12 the build marks " +
                    "its GLIBCXX_3.4.32 need weak; a publish folder needs the same step: EmotionML.BuildTools weaken-glibcxx)", e);
            }
        }
        _loadedDir = full;
    }

    private static string? FindLibTorchSharp()
    {
        var baseDir = AppContext.BaseDirectory;
        foreach (var candidate in new[]
                 {
                     Path.Combine(baseDir, "libLibTorchSharp.so"),
                     Path.Combine(baseDir, "runtimes", "linux-x64", "native", "libLibTorchSharp.so"),
                 })
        {
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
