using EmotionML.FaceAlignment;
using EmotionML.FaceFeatures;
using SkiaSharp;

namespace EmotionML.Training.FaceTuning;

/// <summary>One labelled face image of FER2013 (48×48 gray, already a tight face).</summary>
/// <param name="Path">Full path of the image file.</param>
/// <param name="Label">Class index into <see cref="FerImages.Classes"/>.</param>
internal sealed record FerImage(string Path, int Label);

/// <summary>
/// One view of an image that the activation cache stores: copy 0 is the image itself, copy 1 its mirror, copies ≥ 2 a
/// random small rotation (±10°), scale (0.9–1.1) and shift (±4 % of the side), mirrored with probability ½, drawn from a
/// seed made of the image index and the copy number (so every run computes the same copies).
/// </summary>
internal readonly record struct FerCopy(double RotationDegrees, double Scale, double ShiftX, double ShiftY, bool Mirror)
{
    public static FerCopy Of(int copy, int imageIndex, int seed)
    {
        if (copy == 0) return new(0, 1, 0, 0, false);
        if (copy == 1) return new(0, 1, 0, 0, true);
        // A fixed mix, not HashCode.Combine (randomised per process): a cache resumed by another process gets the same copies.
        var rng = new Random((int)(unchecked((uint)seed * 2654435761u ^ (uint)imageIndex * 40503u ^ (uint)copy * 2246822519u) & int.MaxValue));
        return new(rng.NextDouble() * 20 - 10, 0.9 + 0.2 * rng.NextDouble(), rng.NextDouble() * 0.08 - 0.04, rng.NextDouble() * 0.08 - 0.04, rng.Next(2) == 1);
    }

    /// <summary>The map from source pixels (side <paramref name="srcSide"/>) to input pixels (side <paramref name="dstSide"/>).</summary>
    public Affine2D Transform(int srcSide, int dstSide)
    {
        var k = (double)dstSide / srcSide;
        var a = RotationDegrees * Math.PI / 180;
        var c = Math.Cos(a) * Scale * k;
        var s = Math.Sin(a) * Scale * k;
        var m = Mirror ? -1 : 1;
        // about the centres: u = M·R·S·(x − cs) + cd + shift·dstSide, M mirrors u around the centre.
        var cs = srcSide / 2.0;
        var cd = dstSide / 2.0;
        return new Affine2D(m * c, -m * s, cd + ShiftX * dstSide - m * (c * cs - s * cs), s, c, cd + ShiftY * dstSide - (s * cs + c * cs));
    }
}

/// <summary>FER2013 as laid out in the shared folder: <c>labels.csv</c> (file, emotion, usage) with the official splits.</summary>
internal static class FerImages
{
    /// <summary>The 7 classes in FER2013's order (the order of DenseNet-121's logits).</summary>
    public static readonly string[] Classes = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"];

    /// <summary>The images of one usage ("Training", "PublicTest", "PrivateTest") in file order.</summary>
    public static IReadOnlyList<FerImage> Load(string root, string usage)
    {
        var labels = Path.Combine(root, "labels.csv");
        if (!File.Exists(labels)) throw new InvalidInputException($"{labels} not found: the FER2013 folder must hold labels.csv (file,emotion,usage).");
        var list = new List<FerImage>();
        foreach (var line in File.ReadLines(labels).Skip(1))
        {
            var f = line.Split(',');
            if (f.Length < 3) throw new InvalidInputException($"{labels}: malformed row '{line}'.");
            if (f[2] != usage) continue;
            var k = Array.IndexOf(Classes, f[1]);
            if (k < 0) throw new InvalidInputException($"{labels}: unknown emotion '{f[1]}' (expected one of {string.Join(", ", Classes)}).");
            list.Add(new FerImage(Path.Combine(root, f[0]), k));
        }
        return list;
    }

    /// <summary>Decodes an image file to RGB24 (any size); returns the bytes and the size.</summary>
    public static (byte[] Rgb, int Width, int Height) Decode(string path)
    {
        using var bitmap = SKBitmap.Decode(path) ?? throw new InvalidInputException($"{path}: the image could not be decoded.");
        return ToRgb(bitmap);
    }

    /// <summary>Decodes an encoded image (any size, gray or colour) to RGB24 pixels.</summary>
    public static (byte[] Rgb, int Width, int Height) Decode(byte[] encoded)
    {
        using var bitmap = SKBitmap.Decode(encoded) ?? throw new InvalidInputException("an image could not be decoded");
        return ToRgb(bitmap);
    }

    private static (byte[] Rgb, int Width, int Height) ToRgb(SKBitmap bitmap)
    {
        int w = bitmap.Width, h = bitmap.Height;
        var rgb = new byte[w * h * 3];
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
            {
                var c = bitmap.GetPixel(x, y);
                var o = (y * w + x) * 3;
                rgb[o] = c.Red; rgb[o + 1] = c.Green; rgb[o + 2] = c.Blue;
            }
        return (rgb, w, h);
    }

    /// <summary>
    /// Writes the backbone input (CHW floats, the backbone's normalisation) of one image seen through <paramref name="copy"/>:
    /// the whole image is the face (FER2013 images are tight crops), warped bilinearly to the input side.
    /// </summary>
    public static void Preprocess(FaceBackbone backbone, byte[] rgb, int width, int height, FerCopy copy, Span<float> chw)
    {
        if (width != height) throw new InvalidInputException($"FER2013 images are square; this one is {width}×{height}.");
        var s = backbone.InputSize;
        var scratch = new byte[s * s * 3];
        ImageWarp.Warp(rgb, width, height, scratch, s, s, copy.Transform(width, s));
        backbone.Normalise(scratch, chw);
    }
}

/// <summary>Accuracy of an ONNX face backbone's emotion logits on labelled images, run by ONNX Runtime on the file itself.</summary>
internal static class FaceLogitsEvaluation
{
    /// <summary>Runs <paramref name="model"/> (output <paramref name="logitsOutput"/>) on copy 0 of every image; returns accuracy and predictions.</summary>
    public static (double Accuracy, int[] Predicted) Run(byte[] model, FaceBackbone backbone, string logitsOutput, IReadOnlyList<FerImage> images,
        OnnxExecutionOptions execution, Action<string>? log = null, int batch = 64)
    {
        var logits = Logits(model, backbone, logitsOutput, images.Count, i => FerImages.Decode(images[i].Path), execution, log, batch);
        var predicted = logits.Select(row => Array.IndexOf(row, row.Max())).ToArray();
        var correct = images.Select((im, i) => im.Label == predicted[i] ? 1 : 0).Sum();
        return (correct / (double)images.Count, predicted);
    }

    /// <summary>
    /// The emotion logits of <paramref name="count"/> images (RGB24, any square size, given by <paramref name="image"/>), each
    /// warped to the backbone's input as it is (copy 0), run by ONNX Runtime on <paramref name="model"/>.
    /// </summary>
    public static float[][] Logits(byte[] model, FaceBackbone backbone, string logitsOutput, int count, Func<int, (byte[] Rgb, int Width, int Height)> image,
        OnnxExecutionOptions execution, Action<string>? log = null, int batch = 64)
    {
        var parsed = global::Onnx.ModelProto.Parser.ParseFrom(model);
        var graph = parsed.Graph;
        if (!graph.Output.Any(o => o.Name == logitsOutput)) graph.Output.Add(new global::Onnx.ValueInfoProto { Name = logitsOutput });
        var keep = graph.Output.Where(o => o.Name == logitsOutput).ToList();
        graph.Output.Clear();
        graph.Output.AddRange(keep);
        graph.ValueInfo.Clear();
        // A batch of any size: the input's and the kept output's first dimension made symbolic (a fixed 1 there makes
        // ONNX Runtime warn on every run).
        foreach (var dims in new[] { graph.Input[0].Type?.TensorType?.Shape?.Dim, keep[0].Type?.TensorType?.Shape?.Dim })
            if (dims is { Count: > 0 }) dims[0] = new global::Onnx.TensorShapeProto.Types.Dimension { DimParam = "N" };
        using var runner = OnnxRunner.Create(Google.Protobuf.MessageExtensions.ToByteArray(parsed), execution, $"{backbone.Kind} emotion logits");
        var inputName = runner.Session.InputMetadata.Keys.First();
        var result = new float[count][];
        var len = backbone.InputLength;
        // Held for the whole loop: Session.Run passes only the native handle, so an unreferenced RunOptions can be
        // finalised (and its native object freed) while the run is still in progress.
        using var runOptions = new Microsoft.ML.OnnxRuntime.RunOptions();
        for (var start = 0; start < count; start += batch)
        {
            var n = Math.Min(batch, count - start);
            var input = new float[n * len];
            Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
            {
                var (rgb, w, h) = image(start + i);
                FerImages.Preprocess(backbone, rgb, w, h, FerCopy.Of(0, start + i, 0), input.AsSpan(i * len, len));
            });
            var s = backbone.InputSize;
            using var tensor = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(input, [n, backbone.Channels, s, s]);
            using var results = runner.Session.Run(runOptions, [inputName], [tensor], [logitsOutput]);
            var logits = results[0].GetTensorDataAsSpan<float>();
            var k = logits.Length / n;
            for (var i = 0; i < n; i++) result[start + i] = logits.Slice(i * k, k).ToArray();
            if ((start / batch) % 20 == 0) log?.Invoke($"  evaluation: {start + n}/{count}");
        }
        return result;
    }
}
