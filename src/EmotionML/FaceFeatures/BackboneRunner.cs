using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EmotionML.FaceAlignment;
using Microsoft.ML.OnnxRuntime;

namespace EmotionML.FaceFeatures;

/// <summary>
/// One backbone on ONNX Runtime: the prepared graph (feature exposed, batch dimension symbolic), crop → input tensor
/// preprocessing, and batched runs. Only one failure makes it run image by image: a graph whose batch size is baked in
/// (a batched run fails while the same images run one at a time on the graph with its original batch dimension). That is
/// logged through <see cref="Warning"/> and kept for the runner's life. Every other error of a run propagates.
/// </summary>
internal sealed class BackboneRunner : IDisposable
{
    private readonly byte[] _original;
    private readonly OnnxExecutionOptions? _execution;
    private readonly bool _keepLogits;
    private readonly Affine2D _cropToInput;
    private readonly float[] _lut;
    private readonly object _gate = new();
    private OnnxRunner _runner;
    private OnnxRunner? _single;

    public BackboneRunner(FaceBackbone backbone, byte[] originalModel, OnnxExecutionOptions? execution, bool keepLogits = false, bool wholeCrop = false)
    {
        Backbone = backbone;
        _original = originalModel;
        _execution = execution;
        _keepLogits = keepLogits;
        Warning = execution?.Warning ?? (message => System.Diagnostics.Trace.TraceWarning(message));
        _cropToInput = wholeCrop ? Affine2D.Scale((double)backbone.InputSize / FaceAlignmentOptions.CropSize, (double)backbone.InputSize / FaceAlignmentOptions.CropSize) : backbone.CropToInput();
        _lut = NormaliseTable(backbone);
        _runner = OnnxRunner.Create(backbone.PrepareGraph(originalModel, symbolicBatch: true, keepLogits), execution, $"{backbone.Kind} face backbone");
        MaxBatch = _runner.Provider.StartsWith("CUDA", StringComparison.Ordinal) ? 64 : CpuImagesPerRun(backbone);
    }

    public FaceBackbone Backbone { get; }

    /// <summary>The provider the session runs on.</summary>
    public string Provider => _runner.Provider;

    /// <summary>False once a batched run failed and the runner went per-image.</summary>
    public bool Batched { get; private set; } = true;

    /// <summary>
    /// Number of images per Run call; larger sets are split. Default on CPU <see cref="CpuImagesPerRun"/> (about one
    /// 224² RGB image's worth of input per run), on CUDA 64.
    /// </summary>
    public int MaxBatch { get; set; }

    /// <summary>Input floats per CPU run: one 3×224×224 image.</summary>
    internal const int CpuRunInputFloats = 3 * 224 * 224;

    /// <summary>
    /// Images per Run call on the CPU: as many as fit in <see cref="CpuRunInputFloats"/> (at least 1, at most 64). On the
    /// CPU a large batch of a large network is slower per image than small ones (its activations leave the caches):
    /// measured on 8 frames, DenseNet-121 runs 23.3 frames/s one image per run against 20.8 all 8 in one run, and
    /// MobileFaceNet 130 frames/s four per run against 101; mini-Xception's small images still gain from one run of all.
    /// </summary>
    internal static int CpuImagesPerRun(FaceBackbone backbone) => Math.Clamp(CpuRunInputFloats / backbone.InputLength, 1, 64);

    /// <summary>Where the per-image fallback is reported (default: the execution options' warning channel — the stage's MLContext log — else a trace warning).</summary>
    public Action<string> Warning { get; set; }

    /// <summary>
    /// Writes into <paramref name="input"/> (slot <paramref name="slot"/>, <see cref="FaceBackbone.InputLength"/> floats) the
    /// backbone input for one 224×224 RGB crop seen through <paramref name="copy"/>.
    /// </summary>
    public void Preprocess(ReadOnlySpan<byte> crop, CropCopy copy, Span<float> input, int slot, byte[] scratch)
    {
        var size = FaceAlignmentOptions.CropSize;
        var s = Backbone.InputSize;
        var map = CropCopy.Compose(_cropToInput, copy.Transform(size));
        ReadOnlySpan<byte> rgb;
        if (s == size && map == new Affine2D(1, 0, 0, 0, 1, 0)) rgb = crop[..(size * size * 3)];
        else
        {
            ImageWarp.Warp(crop, size, size, scratch.AsSpan(0, s * s * 3), s, s, map);
            rgb = scratch.AsSpan(0, s * s * 3);
        }
        Normalise(Backbone, _lut, rgb, input.Slice(slot * Backbone.InputLength, Backbone.InputLength));
    }

    /// <summary>
    /// <see cref="FaceBackbone.Normalise"/> through tables of the per-byte values (the same float arithmetic, so the same
    /// bits): no int → float conversion or multiply per pixel, no bounds checks. RGB: one table, (x − Offset)·Scale.
    /// Gray: one table per weight (w·x), summed in the reference's order, then (gray − Offset)·Scale.
    /// </summary>
    internal static void Normalise(FaceBackbone backbone, float[] table, ReadOnlySpan<byte> rgb, Span<float> chw)
    {
        var plane = backbone.InputSize * backbone.InputSize;
        if (rgb.Length < 3 * plane || chw.Length < backbone.InputLength || table.Length < (backbone.Format == PixelFormat.Rgb ? 256 : 768))
            throw new ArgumentException($"{backbone.Kind}: {rgb.Length} bytes / {chw.Length} floats for an input of {backbone.InputLength}.");
        ref var src = ref MemoryMarshal.GetReference(rgb);
        ref var dst = ref MemoryMarshal.GetReference(chw);
        ref var lut = ref MemoryMarshal.GetArrayDataReference(table);
        if (backbone.Format == PixelFormat.Rgb)
        {
            ref var g = ref Unsafe.Add(ref dst, plane);
            ref var b = ref Unsafe.Add(ref dst, 2 * plane);
            for (nint i = 0, j = 0; i < plane; i++, j += 3)
            {
                Unsafe.Add(ref dst, i) = Unsafe.Add(ref lut, Unsafe.Add(ref src, j));
                Unsafe.Add(ref g, i) = Unsafe.Add(ref lut, Unsafe.Add(ref src, j + 1));
                Unsafe.Add(ref b, i) = Unsafe.Add(ref lut, Unsafe.Add(ref src, j + 2));
            }
        }
        else
        {
            ref var wg = ref Unsafe.Add(ref lut, 256);
            ref var wb = ref Unsafe.Add(ref lut, 512);
            float offset = backbone.Offset, scale = backbone.Scale;
            for (nint i = 0, j = 0; i < plane; i++, j += 3)
            {
                var gray = Unsafe.Add(ref lut, Unsafe.Add(ref src, j)) + Unsafe.Add(ref wg, Unsafe.Add(ref src, j + 1)) + Unsafe.Add(ref wb, Unsafe.Add(ref src, j + 2));
                Unsafe.Add(ref dst, i) = (gray - offset) * scale;
            }
        }
    }

    /// <summary>The table <see cref="Normalise"/> reads for <paramref name="b"/>.</summary>
    internal static float[] NormaliseTable(FaceBackbone b)
    {
        if (b.Format == PixelFormat.Rgb)
        {
            var t = new float[256];
            for (var x = 0; x < 256; x++) t[x] = (x - b.Offset) * b.Scale;
            return t;
        }
        var w = new float[768];
        for (var x = 0; x < 256; x++)
        {
            w[x] = 0.299f * x;
            w[256 + x] = 0.587f * x;
            w[512 + x] = 0.114f * x;
        }
        return w;
    }

    /// <summary>A scratch buffer for <see cref="Preprocess"/>.</summary>
    public byte[] NewScratch() => new byte[Backbone.InputSize * Backbone.InputSize * 3];

    /// <summary>Runs <paramref name="n"/> preprocessed images; returns [n, D] features (and [n, 7] logits when kept).</summary>
    public (float[] Features, float[]? Logits) Run(float[] input, int n)
    {
        var b = Backbone;
        var features = new float[n * b.FeatureDim];
        var logits = _keepLogits && b.LogitsTensor != null ? new float[n * 7] : null;
        for (var start = 0; start < n; start += MaxBatch)
        {
            var count = Math.Min(MaxBatch, n - start);
            RunChunk(input.AsMemory(start * b.InputLength, count * b.InputLength), count,
                features.AsSpan(start * b.FeatureDim, count * b.FeatureDim), logits == null ? default : logits.AsSpan(start * 7, count * 7));
        }
        return (features, logits);
    }

    private void RunChunk(Memory<float> input, int n, Span<float> features, Span<float> logits)
    {
        if (Batched)
        {
            if (n == 1) { RunOne(_runner, input, 1, features, logits); return; }
            if (TryRun(_runner, input, n, features, logits)) return;
        }
        var single = SingleRunner();
        var len = Backbone.InputLength;
        for (var i = 0; i < n; i++)
            RunOne(single, input.Slice(i * len, len), 1, features.Slice(i * Backbone.FeatureDim, Backbone.FeatureDim), logits.IsEmpty ? logits : logits.Slice(i * 7, 7));
    }

    /// <summary>
    /// Runs the batch; false only in the batch-shape case: the batched run failed with an ONNX Runtime error that is not
    /// an allocation failure, and the first image alone runs on the per-image graph. Then the runner goes per-image, logged.
    /// </summary>
    private bool TryRun(OnnxRunner runner, Memory<float> input, int n, Span<float> features, Span<float> logits)
    {
        try
        {
            RunOne(runner, input, n, features, logits);
            return true;
        }
        catch (OnnxRuntimeException e) when (n > 1 && !IsAllocationFailure(e))
        {
            var len = Backbone.InputLength;
            try
            {
                RunOne(SingleRunner(), input[..len], 1, features[..Backbone.FeatureDim], logits.IsEmpty ? logits : logits[..7]);
            }
            catch (OnnxRuntimeException)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e); // fails at any batch size: a real error, not the batch shape
            }
            Batched = false;
            Warning($"{Backbone.Kind} face backbone: a batch of {n} images failed ({FirstLine(e.Message)}) while one image runs; the graph's batch size "
                + $"looks fixed ({FaceBackbone.DescribeBatchDim(_original)} in the file), so images now run one at a time.");
            return false;
        }
    }

    private static bool IsAllocationFailure(OnnxRuntimeException e)
        => e.Message.Contains("alloc", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase);

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();

    private OnnxRunner SingleRunner()
    {
        lock (_gate)
            return _single ??= OnnxRunner.Create(Backbone.PrepareGraph(_original, symbolicBatch: false, _keepLogits), _execution, $"{Backbone.Kind} face backbone (per image)");
    }

    private void RunOne(OnnxRunner runner, Memory<float> input, int n, Span<float> features, Span<float> logits)
    {
        var b = Backbone;
        // The input tensor wraps the caller's memory and the outputs are read in place: no copy of either per run.
        using var tensor = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, input, [n, b.Channels, b.InputSize, b.InputSize]);
        var keepLogits = !logits.IsEmpty && b.LogitsTensor != null;
        string[] outputs = keepLogits ? [FaceBackbone.PreparedFeatureOutput, b.LogitsTensor!] : [FaceBackbone.PreparedFeatureOutput];
        using var results = runner.Session.Run(RunOptions, [b.InputName], [tensor], outputs);
        var values = results[0].GetTensorDataAsSpan<float>();
        if (values.Length != n * b.FeatureDim)
            throw new InvalidOperationException($"{b.Kind}: feature tensor has {values.Length} values for {n} images, expected {n * b.FeatureDim}.");
        values.CopyTo(features);
        if (keepLogits) results[1].GetTensorDataAsSpan<float>()[..(n * 7)].CopyTo(logits);
    }

    private static readonly RunOptions RunOptions = new();

    public void Dispose()
    {
        _runner.Dispose();
        _single?.Dispose();
    }
}
