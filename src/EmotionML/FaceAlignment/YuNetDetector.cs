using System.Collections.Concurrent;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace EmotionML.FaceAlignment;

/// <summary>One detected face in frame pixel coordinates.</summary>
internal sealed record FaceDetection(float X, float Y, float Width, float Height, float Score, (float X, float Y)[] Landmarks)
{
    public float Area => Width * Height;
}

/// <summary>
/// YuNet (face_detection_yunet_2023mar) on ONNX Runtime. The shared graph's fixed 640×640 input is made symbolic, so the
/// detector runs on the frame at its own size, padded with black to a multiple of 32 on the right and bottom (as OpenCV's
/// <c>FaceDetectorYN</c> does) — never upscaled; a frame whose longer side exceeds 640 is first downscaled to fit 640.
/// Input BGR 0..255; the stride-8/16/32 heads are decoded (score = √(cls·obj); cx = (col + b0)·s, cy = (row + b1)·s,
/// w = e^{b2}·s, h = e^{b3}·s; landmarks (k + col|row)·s), then NMS. Thread-safe: each call takes a workspace (input and
/// output tensors of its size, resize buffer) from a pool, so no tensor is allocated per frame.
/// </summary>
internal sealed class YuNetDetector : IDisposable
{
    /// <summary>The longest side YuNet is run at (the shared graph's size); larger frames are downscaled to it.</summary>
    public const int InputSize = 640;

    /// <summary>Input sides are padded to a multiple of this (the largest stride).</summary>
    public const int Alignment = 32;

    private static readonly int[] Strides = [8, 16, 32];
    private static readonly string[] OutputNames = Strides.SelectMany(s => new[] { $"cls_{s}", $"obj_{s}", $"bbox_{s}", $"kps_{s}" }).ToArray();
    private readonly OnnxRunner _runner;
    private readonly int? _letterbox;
    private readonly ConcurrentDictionary<(int W, int H), ConcurrentBag<Workspace>> _pool = new();
    private readonly RunOptions _runOptions = new();

    /// <param name="model">The YuNet ONNX bytes (fixed 640×640 input; made symbolic here).</param>
    /// <param name="execution">Where it runs.</param>
    /// <param name="letterbox">When set, every frame is scaled (up or down) to fit a square of this side, as the detector
    /// did before it ran at the frame's size; kept to compare the two in tests and benchmarks.</param>
    public YuNetDetector(byte[] model, OnnxExecutionOptions? execution, int? letterbox = null)
    {
        _letterbox = letterbox;
        _runner = OnnxRunner.Create(SymbolicInput(model), execution, "YuNet face detector");
    }

    public string Provider => _runner.Provider;

    /// <summary>
    /// The graph with input height and width symbolic ("H", "W") and the outputs' cell dimension symbolic, and the
    /// intermediate shapes dropped (they were inferred for 640×640). YuNet is fully convolutional, so any multiple of 32 runs.
    /// </summary>
    internal static byte[] SymbolicInput(byte[] original)
    {
        var model = ModelProto.Parser.ParseFrom(original);
        var graph = model.Graph;
        graph.ValueInfo.Clear();
        foreach (var input in graph.Input)
        {
            var dims = input.Type?.TensorType?.Shape?.Dim;
            if (dims is not { Count: 4 }) continue;
            dims[2] = new TensorShapeProto.Types.Dimension { DimParam = "H" };
            dims[3] = new TensorShapeProto.Types.Dimension { DimParam = "W" };
        }
        foreach (var output in graph.Output)
        {
            var dims = output.Type?.TensorType?.Shape?.Dim;
            if (dims is { Count: 3 }) dims[1] = new TensorShapeProto.Types.Dimension { DimParam = $"cells_{output.Name}" };
        }
        return model.ToByteArray();
    }

    /// <summary>The scale applied to a frame and the padded input size it runs at.</summary>
    internal (double Scale, int ScaledW, int ScaledH, int InputW, int InputH) Geometry(int width, int height)
    {
        if (_letterbox is { } side)
        {
            var s = Math.Min((double)side / width, (double)side / height);
            return (s, Math.Min(side, (int)Math.Round(width * s)), Math.Min(side, (int)Math.Round(height * s)), side, side);
        }
        var scale = Math.Min(1.0, (double)InputSize / Math.Max(width, height));
        var w = scale == 1 ? width : Math.Min(InputSize, (int)Math.Round(width * scale));
        var h = scale == 1 ? height : Math.Min(InputSize, (int)Math.Round(height * scale));
        return (scale, w, h, RoundUp(w), RoundUp(h));
    }

    private static int RoundUp(int v) => (v + Alignment - 1) / Alignment * Alignment;

    /// <summary>Detects faces in an RGB24 frame.</summary>
    public List<FaceDetection> Detect(ReadOnlySpan<byte> rgb, int width, int height, float scoreThreshold, float nmsThreshold)
    {
        var (scale, w, h, inW, inH) = Geometry(width, height);
        var bag = _pool.GetOrAdd((inW, inH), _ => new ConcurrentBag<Workspace>());
        if (!bag.TryTake(out var ws)) ws = new Workspace(inW, inH);
        try
        {
            Fill(rgb, width, height, w, h, ws);
            _runner.Session.Run(_runOptions, ["input"], [ws.Input], OutputNames, ws.Outputs);
            var candidates = new List<FaceDetection>();
            for (var si = 0; si < Strides.Length; si++)
            {
                var s = Strides[si];
                var cols = inW / s;
                var n = cols * (inH / s);
                ReadOnlySpan<float> cls = ws.Outputs[4 * si].GetTensorDataAsSpan<float>();
                ReadOnlySpan<float> obj = ws.Outputs[4 * si + 1].GetTensorDataAsSpan<float>();
                ReadOnlySpan<float> bbox = ws.Outputs[4 * si + 2].GetTensorDataAsSpan<float>();
                ReadOnlySpan<float> kps = ws.Outputs[4 * si + 3].GetTensorDataAsSpan<float>();
                for (var i = 0; i < n; i++)
                {
                    var score = MathF.Sqrt(Math.Clamp(cls[i], 0, 1) * Math.Clamp(obj[i], 0, 1));
                    if (score < scoreThreshold) continue;
                    var row = i / cols; var col = i % cols;
                    var b = bbox.Slice(4 * i, 4);
                    var cx = (col + b[0]) * s; var cy = (row + b[1]) * s;
                    var bw = MathF.Exp(b[2]) * s; var bh = MathF.Exp(b[3]) * s;
                    var k = kps.Slice(10 * i, 10);
                    var lm = new (float X, float Y)[5];
                    for (var j = 0; j < 5; j++)
                        lm[j] = ((float)((k[2 * j] + col) * s / scale), (float)((k[2 * j + 1] + row) * s / scale));
                    candidates.Add(new FaceDetection((float)((cx - bw / 2) / scale), (float)((cy - bh / 2) / scale), (float)(bw / scale), (float)(bh / scale), score, lm));
                }
            }
            return Nms(candidates, nmsThreshold);
        }
        finally
        {
            bag.Add(ws);
        }
    }

    /// <summary>Writes the frame (resized to w×h when it is not its own size) as BGR planes into the top-left of the input; the rest stays black.</summary>
    private static void Fill(ReadOnlySpan<byte> rgb, int width, int height, int w, int h, Workspace ws)
    {
        ReadOnlySpan<byte> src = rgb;
        if (w != width || h != height)
        {
            var resized = ws.Resized(w * h * 3);
            ImageWarp.Warp(rgb, width, height, resized, w, h, Affine2D.Scale((double)w / width, (double)h / height));
            src = resized;
        }
        var chw = ws.InputValues;
        if (ws.Filled != (w, h))
        {
            chw.Clear(); // a frame of another size left pixels where this one has padding
            ws.Filled = (w, h);
        }
        var inW = ws.Width;
        var plane = inW * ws.Height;
        for (var y = 0; y < h; y++)
        {
            var line = src.Slice(y * w * 3, w * 3);
            var b = chw.Slice(y * inW, w);
            var g = chw.Slice(plane + y * inW, w);
            var r = chw.Slice(2 * plane + y * inW, w);
            for (var x = 0; x < w; x++)
            {
                r[x] = line[3 * x];
                g[x] = line[3 * x + 1];
                b[x] = line[3 * x + 2];
            }
        }
    }

    internal static List<FaceDetection> Nms(List<FaceDetection> boxes, float iouThreshold)
    {
        boxes.Sort((a, b) => b.Score.CompareTo(a.Score));
        var kept = new List<FaceDetection>();
        foreach (var b in boxes)
            if (kept.TrueForAll(k => Iou(k, b) <= iouThreshold)) kept.Add(b);
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

    public void Dispose()
    {
        foreach (var bag in _pool.Values)
            while (bag.TryTake(out var ws)) ws.Dispose();
        _runOptions.Dispose();
        _runner.Dispose();
    }

    /// <summary>The input and output tensors of one input size (ONNX Runtime values over managed arrays) and a resize buffer.</summary>
    private sealed class Workspace : IDisposable
    {
        private readonly float[] _input;
        private byte[] _resized = [];

        public Workspace(int width, int height)
        {
            Width = width;
            Height = height;
            _input = new float[3 * width * height]; // zero: the padding stays black, the image part is rewritten per frame
            Input = OrtValue.CreateTensorValueFromMemory(_input, [1, 3, height, width]);
            var outputs = new List<OrtValue>();
            foreach (var s in Strides)
            {
                var cells = (width / s) * (height / s);
                foreach (var channels in new[] { 1, 1, 4, 10 })
                    outputs.Add(OrtValue.CreateTensorValueFromMemory(new float[cells * channels], [1, cells, channels]));
            }
            Outputs = outputs;
        }

        public int Width { get; }
        public int Height { get; }
        public OrtValue Input { get; }
        public IReadOnlyList<OrtValue> Outputs { get; }
        public Span<float> InputValues => _input;

        /// <summary>The image size last written into the input.</summary>
        public (int W, int H) Filled { get; set; }

        public Span<byte> Resized(int length)
        {
            if (_resized.Length < length) _resized = new byte[length];
            return _resized.AsSpan(0, length);
        }

        public void Dispose()
        {
            Input.Dispose();
            foreach (var o in Outputs) o.Dispose();
        }
    }
}
