using System.Diagnostics;
using EmotionML.FaceAlignment;
using EmotionML.VideoInput;
using Microsoft.ML;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EmotionML.Cli.Bench;

/// <summary>
/// Clip throughput of decode + face detection + alignment on the clips, and the overhead of detection + alignment
/// (letterbox, YuNet, decode of the heads, NMS, similarity fit, 224² warp) over running the bare YuNet ONNX Runtime
/// session alone on the same frames, letterboxed beforehand (outside the timing).
/// </summary>
internal sealed class FaceBenchStage : IBenchStage
{
    public string Name => "face";
    public string Description => "decode + YuNet detection + 5-point alignment to 224² crops per clip vs the bare YuNet ONNX Runtime session on the same frames, pre-letterboxed";
    public bool Implemented => true;
    public int Steps(BenchContext context) => context.Clips.Count * context.Repeat;

    public IReadOnlyList<BenchRow> Run(BenchContext context, Action<string?> step)
    {
        var yunet = File.ReadAllBytes(ModelFiles.YuNet.Resolve());
        var options = new FaceAlignmentOptions { MaxFrames = 16, Execution = context.Execution };
        using var aligner = new FaceAligner(new YuNetDetector(yunet, context.Execution), options);
        using var bare = BareSession(yunet, context.Execution);
        var video = new VideoInputTransformer(new MLContext(seed: 0), new VideoInputOptions { FrameCount = 16 });

        double bestDecode = double.MaxValue, bestAlign = double.MaxValue, bestBare = double.MaxValue, bestClip = double.MaxValue;
        int frames = 0, found = 0, clipsWithFace = 0;
        var warm = false;
        for (var r = 0; r < context.Repeat; r++)
        {
            double decode = 0, align = 0, bareTime = 0;
            int f = 0, fo = 0, cf = 0;
            foreach (var clip in context.Clips)
            {
                var sw = Stopwatch.StartNew();
                var decoded = video.Decode(clip).Frames;
                var tDecode = sw.Elapsed.TotalSeconds;
                var inputs = Letterbox(decoded, FaceAligner.KeptFrames(decoded.Count, options.MaxFrames));
                if (!warm)
                {
                    // Warm-up outside the timing: first ONNX Runtime runs allocate and tune.
                    aligner.Align(decoded.Pixels, decoded.Count, decoded.Width, decoded.Height);
                    foreach (var input in inputs) RunBare(bare, input);
                    warm = true;
                }
                // Alternate the two so that other load on the machine hits both alike.
                sw.Restart();
                var aligned = aligner.Align(decoded.Pixels, decoded.Count, decoded.Width, decoded.Height);
                var tAlign = sw.Elapsed.TotalSeconds;
                sw.Restart();
                foreach (var input in inputs) RunBare(bare, input);
                var tBare = sw.Elapsed.TotalSeconds;
                decode += tDecode; align += tAlign; bareTime += tBare;
                var real = (int)aligned.Mask.Sum();
                var hits = aligned.Found.Count(x => x);
                f += real; fo += hits; cf += hits > 0 ? 1 : 0;
                step(Path.GetFileName(clip));
            }
            if (decode + align < bestClip)
            {
                bestClip = decode + align;
                bestDecode = decode;
            }
            bestAlign = Math.Min(bestAlign, align);
            bestBare = Math.Min(bestBare, bareTime);
            (frames, found, clipsWithFace) = (f, fo, cf);
        }
        var n = context.Clips.Count;
        var rate = frames == 0 ? 0 : (double)found / frames;
        context.Facts.Add($"Face-found rate (YuNet, score ≥ {options.ScoreThreshold:0.0#}): {found}/{frames} frames = {rate:P1}; {clipsWithFace}/{n} clips with a face in at least one frame.");
        return
        [
            new BenchRow(Name, "clips/s (decode + detect + align)", BenchContext.F(n / bestClip),
                "bare YuNet session, same frames", BenchContext.F(n / bestBare) + " clips/s", bestClip / bestBare,
                $"{n} clips × ≤16 frames, best of {context.Repeat}; decode {BenchContext.F(1000 * bestDecode / n, "0")} ms/clip of {BenchContext.F(1000 * bestClip / n, "0")}"),
            new BenchRow(Name, "frames/s (detect + align only)", BenchContext.F(frames / bestAlign, "0.0"),
                "bare YuNet session, same frames", BenchContext.F(frames / bestBare, "0.0") + " frames/s", bestAlign / bestBare,
                $"{frames} frames; overhead of letterbox + head decode + NMS + warp over session.Run; face found in {rate:P1}"),
        ];
    }

    /// <summary>A plain ONNX Runtime session with the provider and session options the stage's own session gets.</summary>
    private static OnnxRunner BareSession(byte[] model, OnnxExecutionOptions execution) => OnnxRunner.Create(model, execution, "bare YuNet session");

    private static void RunBare(OnnxRunner runner, DenseTensor<float> input)
    {
        using var results = runner.Session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
        foreach (var r in results) _ = r.AsTensor<float>();
    }

    /// <summary>The 640×640 BGR 0..255 letterboxed input YuNet gets for each kept frame (as YuNetDetector builds it).</summary>
    private static List<DenseTensor<float>> Letterbox(DecodedFrames frames, int[] kept)
    {
        const int size = YuNetDetector.InputSize;
        var frameBytes = frames.Width * frames.Height * 3;
        var scale = Math.Min((double)size / frames.Width, (double)size / frames.Height);
        var w = Math.Min(size, (int)Math.Round(frames.Width * scale));
        var h = Math.Min(size, (int)Math.Round(frames.Height * scale));
        var resized = new byte[w * h * 3];
        var list = new List<DenseTensor<float>>();
        foreach (var k in kept)
        {
            var rgb = frames.Pixels.AsSpan(k * frameBytes, frameBytes);
            ImageWarp.Warp(rgb, frames.Width, frames.Height, resized, w, h, Affine2D.Scale((double)w / frames.Width, (double)h / frames.Height));
            var tensor = new DenseTensor<float>([1, 3, size, size]);
            var chw = tensor.Buffer.Span;
            const int plane = size * size;
            for (var y = 0; y < h; y++)
                for (var x = 0; x < w; x++)
                {
                    var p = (y * w + x) * 3; var o = y * size + x;
                    chw[o] = resized[p + 2];
                    chw[plane + o] = resized[p + 1];
                    chw[2 * plane + o] = resized[p];
                }
            list.Add(tensor);
        }
        return list;
    }
}
