using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EmotionML.FaceAlignment;

/// <summary>One detected face in frame pixel coordinates.</summary>
internal sealed record FaceDetection(float X, float Y, float Width, float Height, float Score, (float X, float Y)[] Landmarks)
{
    public float Area => Width * Height;
}

/// <summary>
/// YuNet (face_detection_yunet_2023mar) on ONNX Runtime: letterbox to 640×640 BGR 0..255, decode the stride-8/16/32 heads
/// (score = √(cls·obj); cx = (col + b0)·s, cy = (row + b1)·s, w = e^{b2}·s, h = e^{b3}·s; landmarks (k + col|row)·s), NMS.
/// </summary>
internal sealed class YuNetDetector : IDisposable
{
    public const int InputSize = 640;
    private static readonly int[] Strides = [8, 16, 32];
    private readonly OnnxRunner _runner;

    public YuNetDetector(byte[] model, OnnxExecutionOptions? execution)
    {
        _runner = OnnxRunner.Create(model, execution, "YuNet face detector");
    }

    public string Provider => _runner.Provider;

    /// <summary>Detects faces in an RGB24 frame.</summary>
    public List<FaceDetection> Detect(ReadOnlySpan<byte> rgb, int width, int height, float scoreThreshold, float nmsThreshold)
    {
        var scale = Math.Min((double)InputSize / width, (double)InputSize / height);
        var input = new DenseTensor<float>([1, 3, InputSize, InputSize]);
        Letterbox(rgb, width, height, scale, input.Buffer.Span);
        using var results = _runner.Session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
        var outputs = results.ToDictionary(r => r.Name, r => r.AsTensor<float>());
        var candidates = new List<FaceDetection>();
        foreach (var s in Strides)
        {
            var cols = InputSize / s;
            var cls = outputs[$"cls_{s}"]; var obj = outputs[$"obj_{s}"]; var bbox = outputs[$"bbox_{s}"]; var kps = outputs[$"kps_{s}"];
            var n = cols * cols;
            for (var i = 0; i < n; i++)
            {
                var score = MathF.Sqrt(Math.Clamp(cls[0, i, 0], 0, 1) * Math.Clamp(obj[0, i, 0], 0, 1));
                if (score < scoreThreshold) continue;
                var row = i / cols; var col = i % cols;
                var cx = (col + bbox[0, i, 0]) * s; var cy = (row + bbox[0, i, 1]) * s;
                var w = MathF.Exp(bbox[0, i, 2]) * s; var h = MathF.Exp(bbox[0, i, 3]) * s;
                var lm = new (float X, float Y)[5];
                for (var k = 0; k < 5; k++)
                    lm[k] = ((float)(((kps[0, i, 2 * k] + col) * s) / scale), (float)(((kps[0, i, 2 * k + 1] + row) * s) / scale));
                candidates.Add(new FaceDetection((float)((cx - w / 2) / scale), (float)((cy - h / 2) / scale), (float)(w / scale), (float)(h / scale), score, lm));
            }
        }
        return Nms(candidates, nmsThreshold);
    }

    private static void Letterbox(ReadOnlySpan<byte> rgb, int width, int height, double scale, Span<float> chw)
    {
        var plane = InputSize * InputSize;
        var w = Math.Min(InputSize, (int)Math.Round(width * scale));
        var h = Math.Min(InputSize, (int)Math.Round(height * scale));
        var resized = new byte[w * h * 3];
        ImageWarp.Warp(rgb, width, height, resized, w, h, Affine2D.Scale((double)w / width, (double)h / height));
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
            {
                var p = (y * w + x) * 3; var o = y * InputSize + x;
                chw[o] = resized[p + 2];               // B
                chw[plane + o] = resized[p + 1];       // G
                chw[2 * plane + o] = resized[p];       // R
            }
    }

    internal static List<FaceDetection> Nms(List<FaceDetection> boxes, float iouThreshold)
    {
        var sorted = boxes.OrderByDescending(b => b.Score).ToList();
        var kept = new List<FaceDetection>();
        foreach (var b in sorted)
            if (kept.All(k => Iou(k, b) <= iouThreshold)) kept.Add(b);
        return kept;
    }

    internal static float Iou(FaceDetection a, FaceDetection b)
    {
        var x1 = Math.Max(a.X, b.X); var y1 = Math.Max(a.Y, b.Y);
        var x2 = Math.Min(a.X + a.Width, b.X + b.Width); var y2 = Math.Min(a.Y + a.Height, b.Y + b.Height);
        var inter = Math.Max(0, x2 - x1) * Math.Max(0, y2 - y1);
        var union = a.Area + b.Area - inter;
        return union <= 0 ? 0 : inter / union;
    }

    public void Dispose() => _runner.Dispose();
}
