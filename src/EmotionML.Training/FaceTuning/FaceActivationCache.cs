using System.Runtime.InteropServices;
using System.Security.Cryptography;
using EmotionML.FaceFeatures;
using EmotionML.Training.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EmotionML.Training.FaceTuning;

/// <summary>
/// The frozen early blocks' activations of FER2013 images, computed once with ONNX Runtime on the prefix graph (input →
/// cut tensor) and kept on disk as float16 rows: <c>&lt;dir&gt;/&lt;usage&gt;-c&lt;copy&gt;.f16</c>, one row per image in
/// <see cref="FerImages.Load"/> order. The folder name holds the backbone, the first 16 hex digits of the model's sha256,
/// the cut tensor, the image count and the copy seed, so a different model or cut never reads another's rows. A file
/// grows batch by batch; a stopped run resumes after the last complete row (a partial row is cut off).
/// </summary>
internal sealed class FaceActivationCache
{
    private readonly FaceBackbone _backbone;
    private readonly byte[] _model;
    private readonly OnnxExecutionOptions _execution;

    public FaceActivationCache(string root, FaceBackbone backbone, byte[] model, string cut, int seed, OnnxExecutionOptions execution)
    {
        _backbone = backbone;
        _model = model;
        _execution = execution;
        Cut = cut;
        Seed = seed;
        var sha = Convert.ToHexStringLower(SHA256.HashData(model))[..16];
        Directory = Path.Combine(root, "face-tuning", $"{backbone.Kind}-{sha}-{Sanitize(cut)}-s{seed}");
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }

    public string Cut { get; }

    public int Seed { get; }

    /// <summary>The cut tensor's shape without the batch (known after the first batch ran, or read from the shape file).</summary>
    public long[]? RowShape { get; private set; }

    public int RowLength => RowShape is { } s ? (int)s.Aggregate(1L, (a, b) => a * b) : throw new InvalidOperationException("row shape unknown before the first batch");

    private static string Sanitize(string s) => string.Concat(s.Select(c => char.IsLetterOrDigit(c) ? c : '_'));

    private string FileOf(string usage, int copy) => Path.Combine(Directory, $"{usage}-c{copy}.f16");

    private string ShapeFile => Path.Combine(Directory, "shape.txt");

    /// <summary>Makes sure the rows of <paramref name="images"/> seen through copy <paramref name="copy"/> are on disk (resuming a partial file).</summary>
    public void Ensure(IReadOnlyList<FerImage> images, string usage, int copy, Action<string>? log, CancellationToken cancel = default, int batch = 64, int limit = 0)
    {
        var needed = limit > 0 ? Math.Min(limit, images.Count) : images.Count;
        ReadShape();
        var path = FileOf(usage, copy);
        long done = 0;
        if (RowShape != null && File.Exists(path))
        {
            var rowBytes = (long)RowLength * 2;
            done = new FileInfo(path).Length / rowBytes;
            if (done >= needed) return;
            using (var fs = new FileStream(path, FileMode.Open, FileAccess.Write)) fs.SetLength(done * rowBytes);
        }
        else if (File.Exists(path)) File.Delete(path);
        log?.Invoke($"{_backbone.Kind} activations at '{Cut}', {usage} copy {copy}: {needed - done} of {needed} images to compute ({Directory})");
        using var runner = OnnxRunner.Create(OnnxGraphSlicer.Prefix(_model, Cut), _execution, $"{_backbone.Kind} prefix graph");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var len = _backbone.InputLength;
        var inputName = runner.Session.InputMetadata.Keys.First();
        using var output = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        // Held for the whole loop: Session.Run passes only the native handle, so an unreferenced RunOptions can be
        // finalised (and its native object freed) while the run is still in progress.
        using var runOptions = new Microsoft.ML.OnnxRuntime.RunOptions();
        for (var start = (int)done; start < needed; start += batch)
        {
            cancel.ThrowIfCancellationRequested();
            var n = Math.Min(batch, needed - start);
            var input = new float[n * len];
            Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
            {
                var (rgb, w, h) = FerImages.Decode(images[start + i].Path);
                FerImages.Preprocess(_backbone, rgb, w, h, FerCopy.Of(copy, start + i, Seed), input.AsSpan(i * len, len));
            });
            var s = _backbone.InputSize;
            using var tensor = OrtValue.CreateTensorValueFromMemory(input, [n, _backbone.Channels, s, s]);
            using var results = runner.Session.Run(runOptions, [inputName], [tensor], runner.Session.OutputNames);
            var shape = results[0].GetTensorTypeAndShape().Shape;
            var values = results[0].GetTensorDataAsSpan<float>();
            if (RowShape == null)
            {
                RowShape = shape[1..];
                File.WriteAllText(ShapeFile, string.Join(",", RowShape));
            }
            var half = new Half[values.Length];
            for (var i = 0; i < values.Length; i++) half[i] = (Half)values[i];
            output.Write(MemoryMarshal.AsBytes(half.AsSpan()));
            output.Flush();
            if ((start / batch) % 20 == 0 || start + n == needed)
                log?.Invoke($"  {usage} copy {copy}: {start + n}/{needed} ({(start + n - done) / Math.Max(clock.Elapsed.TotalSeconds, 1e-3):0} images/s)");
        }
    }

    private void ReadShape()
    {
        if (RowShape == null && File.Exists(ShapeFile))
            RowShape = File.ReadAllText(ShapeFile).Split(',').Select(long.Parse).ToArray();
    }

    /// <summary>The rows of one usage and copy (all complete), as float16.</summary>
    public Half[] Read(string usage, int copy, int count)
    {
        ReadShape();
        var path = FileOf(usage, copy);
        var expected = (long)count * RowLength;
        var data = new Half[expected];
        using var fs = File.OpenRead(path);
        if (fs.Length < expected * 2) throw new InvalidInputException($"{path}: {fs.Length / 2 / RowLength} rows, {count} expected (the cache is incomplete).");
        fs.ReadExactly(MemoryMarshal.AsBytes(data.AsSpan()));
        return data;
    }

    /// <summary>Whether every row of a usage and copy is on disk.</summary>
    public bool IsComplete(string usage, int copy, int count)
    {
        ReadShape();
        var path = FileOf(usage, copy);
        return RowShape != null && File.Exists(path) && new FileInfo(path).Length >= (long)count * RowLength * 2;
    }
}
