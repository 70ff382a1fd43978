using EmotionML.FaceAlignment;
using EmotionML.VideoInput;
using Microsoft.ML;
using OpenCvSharp;

namespace EmotionML.Benchmarks.Stages;

/// <summary>
/// Face detection + alignment of the decoded frames (decoding outside the timing): EmotionML's <see cref="FaceAligner"/>
/// (YuNet at the frame's own size, 5-point similarity fit, 224² bilinear warp) against OpenCV's own YuNet pipeline on the
/// same frames: <c>FaceDetectorYN</c> created at the frame size, <c>EstimateAffinePartial2D</c> of the 5 landmarks onto the
/// same template, <c>WarpAffine</c> to 224². Also the face-found rates of both and how far apart their landmarks are in the crop.
/// </summary>
internal sealed class FaceBenchStage : IBenchStage
{
    public const int Frames = 16;

    public string Name => "face";
    public string Description => $"YuNet detection + 5-point alignment to 224² crops of {Frames} decoded frames per clip vs OpenCV (OpenCvSharp4 FaceDetectorYN at the frame size + EstimateAffinePartial2D + WarpAffine) on the same frames";
    public int Steps(BenchContext context) => context.Clips.Count * (context.Repeat + 1);

    private sealed record Clip(string Path, DecodedFrames Frames, int[] Kept);

    public IReadOnlyList<BenchRow> Run(BenchContext context, Action<string?> step)
    {
        var modelPath = ModelFiles.YuNet.Resolve();
        var yunet = File.ReadAllBytes(modelPath);
        var options = new FaceAlignmentOptions { MaxFrames = Frames, Execution = context.Execution };
        using var aligner = new FaceAligner(new YuNetDetector(yunet, context.Execution), options);
        using var detector = new YuNetDetector(yunet, context.Execution);
        var video = new VideoInputTransformer(new MLContext(seed: 0), new VideoInputOptions { FrameCount = Frames });
        var clips = context.Clips.Select(c =>
        {
            var d = video.Decode(c).Frames;
            step(Path.GetFileName(c));
            return new Clip(c, d, FaceAligner.KeptFrames(d.Count, Frames));
        }).ToList();
        using var opencv = new OpenCvAligner(modelPath, FaceAligner.CropTemplate(options.Margin), options.ScoreThreshold, options.NmsThreshold);
        var best = Timing.BestOf(context.Repeat, clips,
            [c => aligner.Align(c.Frames.Pixels, c.Frames.Count, c.Frames.Width, c.Frames.Height), c => opencv.AlignClip(c.Frames, c.Kept)],
            c => step(Path.GetFileName(c.Path)));

        // Agreement, outside the timing: face found, and both sets of landmarks seen through OpenCV's crop transform.
        int frames = 0, ours = 0, theirs = 0;
        var distances = new List<double>();
        foreach (var c in clips)
        {
            var bytes = c.Frames.Width * c.Frames.Height * 3;
            foreach (var k in c.Kept)
            {
                var rgb = c.Frames.Pixels.AsSpan(k * bytes, bytes);
                var a = detector.Detect(rgb, c.Frames.Width, c.Frames.Height, options.ScoreThreshold, options.NmsThreshold).MaxBy(f => f.Area * f.Score);
                var b = opencv.Detect(c.Frames, k);
                frames++;
                ours += a is null ? 0 : 1;
                theirs += b is null ? 0 : 1;
                if (a is null || b is null) continue;
                for (var i = 0; i < 5; i++)
                {
                    var (ax, ay) = b.Value.Map.Apply(a.Landmarks[i].X, a.Landmarks[i].Y);
                    var (bx, by) = b.Value.Map.Apply(b.Value.Landmarks[i].X, b.Value.Landmarks[i].Y);
                    distances.Add(Math.Sqrt((ax - bx) * (ax - bx) + (ay - by) * (ay - by)));
                }
            }
        }
        var n = context.Clips.Count;
        double rateOurs = (double)ours / frames, rateTheirs = (double)theirs / frames;
        var mean = distances.Count == 0 ? double.NaN : distances.Average();
        context.Facts.Add($"Face found (score ≥ {options.ScoreThreshold:0.0#}): EmotionML {ours}/{frames} frames = {rateOurs:P1}, OpenCV {theirs}/{frames} = {rateTheirs:P1} " +
            $"(difference {100 * (rateOurs - rateTheirs):+0.0;-0.0;0.0} points; goal within 0.5). Mean 5-landmark distance between the two in the 224 crop: {mean:0.00} px (goal ≤ 1 px).");
        return
        [
            new BenchRow(Name, "frames/s (detect + align)", BenchContext.F(frames / best[0], "0.0"),
                "OpenCV FaceDetectorYN + EstimateAffinePartial2D + WarpAffine", BenchContext.F(frames / best[1], "0.0") + " frames/s", best[1] / best[0],
                $"{frames} frames of {n} clips ({clips[0].Frames.Width}×{clips[0].Frames.Height}), best of {context.Repeat}; face found {rateOurs:P1} vs {rateTheirs:P1}; landmarks {mean:0.00} px apart in the crop")
            { Headline = true, Goal = "≥ 1.2" },
        ];
    }

    /// <summary>OpenCV's YuNet pipeline, one detector per frame size (OpenCvSharp 4.13 has no SetInputSize).</summary>
    internal sealed class OpenCvAligner(string model, (double X, double Y)[] template, float score, float nms) : IDisposable
    {
        private readonly Dictionary<(int, int), FaceDetectorYN> _detectors = [];
        private readonly Mat _template = Mat.FromArray(template.Select(p => new Point2f((float)p.X, (float)p.Y)).ToArray());

        private FaceDetectorYN For(int w, int h)
        {
            if (!_detectors.TryGetValue((w, h), out var d))
                _detectors[(w, h)] = d = FaceDetectorYN.Create(model, "", new Size(w, h), score, nms, 5000);
            return d;
        }

        /// <summary>Detect (main face: largest area × score) in frame <paramref name="index"/>; its landmarks and its crop transform.</summary>
        public (Affine2D Map, (float X, float Y)[] Landmarks)? Detect(DecodedFrames frames, int index)
        {
            using var bgr = Bgr(frames, index);
            using var faces = new Mat();
            For(frames.Width, frames.Height).Detect(bgr, faces);
            var best = Best(faces);
            if (best < 0) return null;
            var lm = new (float X, float Y)[5];
            for (var k = 0; k < 5; k++) lm[k] = (faces.At<float>(best, 4 + 2 * k), faces.At<float>(best, 5 + 2 * k));
            using var m = Estimate(faces, best);
            return (new Affine2D(m.At<double>(0, 0), m.At<double>(0, 1), m.At<double>(0, 2), m.At<double>(1, 0), m.At<double>(1, 1), m.At<double>(1, 2)), lm);
        }

        public void AlignClip(DecodedFrames frames, int[] kept)
        {
            var detector = For(frames.Width, frames.Height);
            foreach (var k in kept)
            {
                using var bgr = Bgr(frames, k);
                using var faces = new Mat();
                detector.Detect(bgr, faces);
                var best = Best(faces);
                using var crop = new Mat();
                if (best < 0)
                {
                    Cv2.Resize(bgr, crop, new Size(FaceAlignmentOptions.CropSize, FaceAlignmentOptions.CropSize));
                    continue;
                }
                using var m = Estimate(faces, best);
                Cv2.WarpAffine(bgr, crop, m, new Size(FaceAlignmentOptions.CropSize, FaceAlignmentOptions.CropSize));
            }
        }

        /// <summary>The frame as an OpenCV BGR image (OpenCV's decoders give BGR; the RGB → BGR swap is OpenCV's cost here).</summary>
        private static unsafe Mat Bgr(DecodedFrames frames, int index)
        {
            var bytes = frames.Width * frames.Height * 3;
            var bgr = new Mat();
            fixed (byte* p = &frames.Pixels[index * bytes])
            {
                using var rgb = Mat.FromPixelData(frames.Height, frames.Width, MatType.CV_8UC3, (IntPtr)p);
                Cv2.CvtColor(rgb, bgr, ColorConversionCodes.RGB2BGR);
            }
            return bgr;
        }

        private static int Best(Mat faces)
        {
            var best = -1;
            var bestValue = float.MinValue;
            var rows = faces.Rows;
            for (var r = 0; r < rows; r++)
            {
                var v = faces.At<float>(r, 2) * faces.At<float>(r, 3) * faces.At<float>(r, 14);
                if (v > bestValue) { bestValue = v; best = r; }
            }
            return best;
        }

        private Mat Estimate(Mat faces, int row)
        {
            var points = new Point2f[5];
            for (var k = 0; k < 5; k++) points[k] = new Point2f(faces.At<float>(row, 4 + 2 * k), faces.At<float>(row, 5 + 2 * k));
            using var src = Mat.FromArray(points);
            return Cv2.EstimateAffinePartial2D(src, _template) ?? throw new InvalidOperationException("EstimateAffinePartial2D found no transform");
        }

        public void Dispose()
        {
            foreach (var d in _detectors.Values) d.Dispose();
            _template.Dispose();
        }
    }
}
