using EmotionML.FaceAlignment;
using EmotionML.VideoInput;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;
using Xunit.Abstractions;

namespace EmotionML.Tests.FaceAlignment;

public sealed class FaceAlignmentTests(ITestOutputHelper output)
{
    private readonly MLContext _ml = new(seed: 1);

    private sealed class Clip { public string VideoPath { get; set; } = ""; }

    private sealed class Aligned
    {
        public byte[] Crops = [];
        public bool[] Found = [];
        public float[] Landmarks = [];
        public float[] Mask = [];
        public float[] FaceMask = [];
    }

    private List<Aligned> Align(IEnumerable<string> paths, int maxFrames = 8, VideoInputOptions? video = null)
    {
        var data = _ml.Data.LoadFromEnumerable(paths.Select(p => new Clip { VideoPath = p }));
        var pipeline = _ml.Transforms.LoadVideo(video ?? new VideoInputOptions { FrameCount = maxFrames })
            .Append(_ml.Transforms.AlignFaces(maxFrames));
        var transformed = pipeline.Fit(data).Transform(data);
        var result = new List<Aligned>();
        using var cursor = transformed.GetRowCursor(transformed.Schema);
        var crops = cursor.GetGetter<VBuffer<byte>>(transformed.Schema["FaceCrops"]);
        var found = cursor.GetGetter<VBuffer<bool>>(transformed.Schema["FaceFound"]);
        var lm = cursor.GetGetter<VBuffer<float>>(transformed.Schema["FaceLandmarks"]);
        var mask = cursor.GetGetter<VBuffer<float>>(transformed.Schema["FrameMask"]);
        var faceMask = cursor.GetGetter<VBuffer<float>>(transformed.Schema["FaceMask"]);
        VBuffer<byte> c = default; VBuffer<bool> f = default; VBuffer<float> l = default, m = default, fm = default;
        while (cursor.MoveNext())
        {
            crops(ref c); found(ref f); lm(ref l); mask(ref m); faceMask(ref fm);
            result.Add(new Aligned
            {
                Crops = c.DenseValues().ToArray(), Found = f.DenseValues().ToArray(), Landmarks = l.DenseValues().ToArray(), Mask = m.DenseValues().ToArray(),
                FaceMask = fm.DenseValues().ToArray(),
            });
        }
        return result;
    }

    [Fact]
    public void FacesAreFoundInMostFramesOfJavaneseClipsAndAlignedToTheTemplate()
    {
        // Three clips per actor (actors 01-07, sentence 01, emotions neutral/happy/angry): 21 clips × 8 frames.
        var clips = Enumerable.Range(1, 7).SelectMany(a => new[] { 1, 3, 6 }.Select(e => TestData.Javanese($"{a:00}-01-{e:00}_01.mp4"))).ToList();
        var aligned = Align(clips, maxFrames: 8);
        var template = FaceAligner.CropTemplate(0.3f);
        var perClip = aligned.Select(a => a.Found.Count(x => x) / (double)a.Mask.Count(x => x == 1)).ToList();
        var rate = aligned.Sum(a => a.Found.Count(x => x)) / (double)aligned.Sum(a => a.Mask.Count(x => x == 1));
        output.WriteLine($"face-found rate {rate:P1} over {aligned.Count} clips; worst clip {perClip.Min():P0}");
        Assert.True(rate > 0.95, $"face-found rate {rate:P1}");
        Assert.All(perClip, r => Assert.True(r >= 0.5, $"a clip has faces in only {r:P0} of its frames"));

        // Landmarks of the aligned crops sit near the template (the similarity fit's residual).
        var errors = new List<double>();
        foreach (var a in aligned)
            for (var f = 0; f < a.Found.Length; f++)
                if (a.Found[f])
                    for (var k = 0; k < 5; k++)
                        errors.Add(Math.Sqrt(Math.Pow(a.Landmarks[f * 10 + 2 * k] - template[k].X, 2) + Math.Pow(a.Landmarks[f * 10 + 2 * k + 1] - template[k].Y, 2)));
        var mean = errors.Average();
        output.WriteLine($"mean landmark distance to template {mean:F2} px (crop 224)");
        Assert.True(mean < 8, $"mean landmark error {mean:F2} px");
        // Eyes level and face centred: the eyes' midpoint is near the template's.
        var eyeY = aligned.SelectMany(a => Enumerable.Range(0, a.Found.Length).Where(f => a.Found[f]).Select(f => (a.Landmarks[f * 10 + 1] + a.Landmarks[f * 10 + 3]) / 2)).Average();
        Assert.InRange(eyeY, template[0].Y - 5, template[0].Y + 5);
    }

    [Fact]
    public void CropsAre224SquareRgbWithMaskAndPadding()
    {
        var a = Align([TestData.CremadVideo("FEA")], maxFrames: 20, video: new VideoInputOptions { FrameCount = 12 }).Single();
        Assert.Equal(20 * 224 * 224 * 3, a.Crops.Length);
        Assert.Equal(12, a.Mask.Count(m => m == 1));
        Assert.All(a.Mask.Skip(12), m => Assert.Equal(0, m));
        Assert.All(a.Crops.Skip(12 * 224 * 224 * 3), b => Assert.Equal(0, b));
        Assert.True(a.Found.Take(12).Count(x => x) >= 10);
    }

    [Fact]
    public void FramesWithoutFacesFallBackToTheWholeFrame()
    {
        // A clip whose frames hold no face: the Javanese clip's picture blanked to a flat grey with a gradient.
        var dir = TestData.TempDir("noface");
        var path = MediaTools.Make(Path.Combine(dir, "blank.mp4"), "-i", TestData.Javanese("01-01-01_01.mp4"),
            "-vf", "geq=lum='X/2+Y/4':cb=128:cr=128", "-c:a", "copy");
        var a = Align([path], maxFrames: 4).Single();
        Assert.All(a.Found, f => Assert.False(f));
        Assert.All(a.Landmarks, v => Assert.Equal(0, v));
        // Whole-frame fallback: the crop is the gradient stretched to 224×224, so brightness grows left to right.
        var row = 112 * 224 * 3;
        Assert.True(a.Crops[row + 200 * 3] > a.Crops[row + 20 * 3] + 40, "crop shows the whole frame");
        // No face anywhere: the face mask falls back to the frame mask (the whole-frame crops are all the clip has).
        Assert.Equal(a.Mask, a.FaceMask);
        Assert.Equal([1f, 1f, 1f, 1f], a.FaceMask);
    }

    [Fact]
    public void TheFaceMaskLeavesOutRealFramesWithoutAFaceAndThePadding()
    {
        // The first second of a clip painted over (no face there), the rest untouched; 6 frames decoded into 8 slots.
        var dir = TestData.TempDir("partface");
        var path = MediaTools.Make(Path.Combine(dir, "half.mp4"), "-i", TestData.Javanese("01-01-01_01.mp4"),
            "-vf", "drawbox=x=0:y=0:w=iw:h=ih:color=gray:t=fill:enable='lt(t,1)'", "-c:a", "copy");
        var a = Align([path], maxFrames: 8, video: new VideoInputOptions { FrameCount = 6 }).Single();
        Assert.Equal([1f, 1f, 1f, 1f, 1f, 1f, 0f, 0f], a.Mask);
        var found = a.Found.Take(6).ToArray();
        Assert.Contains(false, found);
        Assert.Contains(true, found);
        Assert.False(found[0], "the painted first frame has no face");
        Assert.True(found[5], "the last frame shows the face");
        Assert.Equal(a.Found.Select((f, i) => f && i < 6 ? 1f : 0f).ToArray(), a.FaceMask);
    }

    /// <summary>
    /// The documented use of <c>FaceMask</c>: the face stage reading it instead of <c>FrameMask</c> leaves the rows of
    /// frames without a face zero and computes the other rows exactly as with the frame mask.
    /// </summary>
    [Fact]
    public void TheFaceStageReadingTheFaceMaskLeavesFacelessFramesOutAndKeepsTheOthers()
    {
        var dir = TestData.TempDir("partface-stage");
        var path = MediaTools.Make(Path.Combine(dir, "half.mp4"), "-i", TestData.Javanese("01-01-01_01.mp4"),
            "-vf", "drawbox=x=0:y=0:w=iw:h=ih:color=gray:t=fill:enable='lt(t,1)'", "-c:a", "copy");
        var data = _ml.Data.LoadFromEnumerable(new[] { new Clip { VideoPath = path } });
        var aligned = _ml.Transforms.LoadVideo(new VideoInputOptions { FrameCount = 6 }).Append(_ml.Transforms.AlignFaces(6)).Fit(data).Transform(data);
        float[] Features(string mask) => _ml.Transforms.ExtractFaceFeatures(new EmotionML.FaceFeatures.FaceFeatureOptions { Backbone = EmotionML.FaceFeatures.FaceBackboneKind.MiniXception, MaskColumnName = mask })
            .Fit(aligned).Transform(aligned).GetColumn<float[]>("FaceFeatures").Single();
        var found = aligned.GetColumn<bool[]>("FaceFound").Single();
        var all = Features("FrameMask");
        var faces = Features("FaceMask");
        const int d = 128;
        Assert.Contains(false, found);
        Assert.Contains(true, found);
        for (var f = 0; f < 6; f++)
        {
            var row = faces.AsSpan(f * d, d).ToArray();
            if (found[f]) Assert.Equal(all.AsSpan(f * d, d).ToArray(), row);
            else
            {
                Assert.All(row, v => Assert.Equal(0f, v));
                Assert.Contains(all.AsSpan(f * d, d).ToArray(), v => v != 0);
            }
        }
    }

    [Fact]
    public void SimilarityFitRecoversAKnownTransform()
    {
        var known = new Affine2D(0.8 * Math.Cos(0.3), -0.8 * Math.Sin(0.3), 10, 0.8 * Math.Sin(0.3), 0.8 * Math.Cos(0.3), -4);
        var src = FaceAligner.ArcFace112.ToArray();
        var dst = src.Select(p => known.Apply(p.X, p.Y)).ToArray();
        var fit = Affine2D.FitSimilarity(src, dst);
        Assert.Equal(known.A00, fit.A00, 9); Assert.Equal(known.A01, fit.A01, 9); Assert.Equal(known.Tx, fit.Tx, 9);
        Assert.Equal(known.A10, fit.A10, 9); Assert.Equal(known.A11, fit.A11, 9); Assert.Equal(known.Ty, fit.Ty, 9);
    }

    [Fact]
    public void BilinearWarpMatchesHandComputedSamples()
    {
        // 2×1 image: black then white. Upscaling ×2 puts the halfway pixel centres at 25 % / 75 %.
        byte[] src = [0, 0, 0, 200, 200, 200];
        var dst = new byte[4 * 1 * 3];
        ImageWarp.Warp(src, 2, 1, dst, 4, 1, Affine2D.Scale(2, 1));
        Assert.Equal([0, 50, 150, 200], Enumerable.Range(0, 4).Select(i => (int)dst[i * 3]).ToArray());
    }

    [Fact]
    public void NmsKeepsTheBestOfOverlappingBoxes()
    {
        var a = new FaceDetection(0, 0, 10, 10, 0.9f, new (float, float)[5]);
        var b = new FaceDetection(1, 1, 10, 10, 0.8f, new (float, float)[5]);
        var c = new FaceDetection(50, 50, 10, 10, 0.7f, new (float, float)[5]);
        Assert.Equal([a, c], YuNetDetector.Nms([b, c, a], 0.3f));
    }

    [Fact]
    public void WrongDetectorFileIsRejectedBySha256()
    {
        var path = Path.Combine(TestData.TempDir("badmodel"), "yunet.onnx");
        File.WriteAllBytes(path, File.ReadAllBytes(ModelFiles.YuNet.DefaultPath).AsSpan(0, 1000).ToArray());
        var data = _ml.Data.LoadFromEnumerable([new Clip { VideoPath = TestData.Javanese("01-01-01_01.mp4") }]);
        var video = _ml.Transforms.LoadVideo().Fit(data).Transform(data);
        var e = Assert.Throws<ModelFileException>(() => _ml.Transforms.AlignFaces(detectorModelPath: path).Fit(video));
        Assert.Contains("sha256", e.Message);
        Assert.Contains(path, e.Message);
        var missing = Assert.Throws<ModelFileException>(() => _ml.Transforms.AlignFaces(detectorModelPath: path + ".nope").Fit(video));
        Assert.Contains("not found", missing.Message);
    }
}
