using EmotionML.FaceAlignment;
using EmotionML.VideoInput;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;
using Xunit.Abstractions;

namespace EmotionML.Tests.FaceAlignment;

/// <summary>
/// Alignment tested for geometry: a real frame and the same frame moved by a known similarity (rotation, scale, shift)
/// must give the same aligned crop, and the detected face must move by exactly that transform. A wrong scale or offset
/// between detector and frame coordinates shows here; the landmark residual of one frame cannot see it.
/// </summary>
public sealed class AlignmentGeometryTests(ITestOutputHelper output)
{
    private sealed class Clip
    {
        public string VideoPath { get; set; } = "";
    }

    private sealed class FrameRow
    {
        public byte[] Frames { get; set; } = [];
        public int FrameCount { get; set; }
        public int FrameWidth { get; set; }
        public int FrameHeight { get; set; }
    }

    private sealed class Aligned
    {
        public byte[] FaceCrops { get; set; } = [];
        public bool[] FaceFound { get; set; } = [];
        public float[] FaceLandmarks { get; set; } = [];
        public float[] FaceBoxes { get; set; } = [];
    }

    private readonly MLContext _ml = new(seed: 1);

    private Aligned Align(byte[] frame, int width, int height)
    {
        var data = _ml.Data.LoadFromEnumerable([new FrameRow { Frames = frame, FrameCount = 1, FrameWidth = width, FrameHeight = height }]);
        var aligned = _ml.Transforms.AlignFaces(1).Fit(data).Transform(data);
        return _ml.Data.CreateEnumerable<Aligned>(aligned, reuseRowObject: false, ignoreMissingColumns: true).Single();
    }

    /// <summary>Mean |a − b| over the central half of two 224² RGB crops (the face; the margin holds background that a rotation brings in from outside the frame).</summary>
    private static double MeanAbsDiff(byte[] a, byte[] b)
    {
        const int size = FaceAlignmentOptions.CropSize, from = size / 4, to = 3 * size / 4;
        double sum = 0;
        var n = 0;
        for (var y = from; y < to; y++)
            for (var x = from; x < to; x++)
                for (var c = 0; c < 3; c++, n++) sum += Math.Abs(a[(y * size + x) * 3 + c] - b[(y * size + x) * 3 + c]);
        return sum / n;
    }

    /// <summary>A similarity about the frame centre: rotate by <paramref name="degrees"/>, scale, then shift.</summary>
    private static Affine2D Similarity(double degrees, double scale, double dx, double dy, int width, int height)
    {
        var (c, s) = (scale * Math.Cos(degrees * Math.PI / 180), scale * Math.Sin(degrees * Math.PI / 180));
        double cx = width / 2.0, cy = height / 2.0;
        return new Affine2D(c, -s, cx - c * cx + s * cy + dx, s, c, cy - s * cx - c * cy + dy);
    }

    [Theory]
    [InlineData("01-01-01_01.mp4", 12, 1.15, 14, -9)]
    [InlineData("04-02-05_01.mp4", -8, 0.85, -10, 6)]
    public void WarpedFrameGivesTheSameCropAndTheFaceMovesByTheWarp(string clip, double degrees, double scale, double dx, double dy)
    {
        var data = _ml.Data.LoadFromEnumerable([new Clip { VideoPath = TestData.Javanese(clip) }]);
        var decoded = _ml.Transforms.LoadVideo(new VideoInputOptions { FrameCount = 1, DecodeAudio = false }).Fit(data).Transform(data);
        var frame = decoded.GetColumn<byte[]>("Frames").Single();
        int width = decoded.GetColumn<int>("FrameWidth").Single(), height = decoded.GetColumn<int>("FrameHeight").Single();

        var m = Similarity(degrees, scale, dx, dy, width, height);
        var warped = new byte[frame.Length];
        ImageWarp.Warp(frame, width, height, warped, width, height, m);

        var a = Align(frame, width, height);
        var b = Align(warped, width, height);
        Assert.True(a.FaceFound[0] && b.FaceFound[0]);

        // The face box centre moves by the warp, its size scales by it (a rotated face's box grows a little: 10 %).
        var (ax, ay) = m.Apply(a.FaceBoxes[0] + a.FaceBoxes[2] / 2, a.FaceBoxes[1] + a.FaceBoxes[3] / 2);
        var (bx, by) = (b.FaceBoxes[0] + b.FaceBoxes[2] / 2, b.FaceBoxes[1] + b.FaceBoxes[3] / 2);
        output.WriteLine($"box centre: warped original ({ax:F1}, {ay:F1}), detected in warped frame ({bx:F1}, {by:F1}); widths {a.FaceBoxes[2]:F1} → {b.FaceBoxes[2]:F1}");
        Assert.True(Math.Abs(ax - bx) < 3 && Math.Abs(ay - by) < 3, $"face box centre off by ({bx - ax:F1}, {by - ay:F1}) px");
        Assert.InRange(b.FaceBoxes[2] / a.FaceBoxes[2] / scale, 0.9, 1.1);

        // The aligned crops agree: landmarks within 4 px of each other in the 224 crop (where a face is about 1.6 times
        // its size in these frames: ~2.5 frame px, YuNet's landmark jitter), pixels close. A crop of the original
        // moved by 10 px is the yardstick of a visible misalignment.
        for (var k = 0; k < 10; k++) Assert.True(Math.Abs(a.FaceLandmarks[k] - b.FaceLandmarks[k]) < 4, $"crop landmark value {k}: {a.FaceLandmarks[k]:F1} vs {b.FaceLandmarks[k]:F1}");
        var diff = MeanAbsDiff(a.FaceCrops, b.FaceCrops);
        const int size = FaceAlignmentOptions.CropSize;
        var shifted = new byte[a.FaceCrops.Length];
        ImageWarp.Warp(a.FaceCrops, size, size, shifted, size, size, new Affine2D(1, 0, 10, 0, 1, 0));
        var misaligned = MeanAbsDiff(a.FaceCrops, shifted);
        output.WriteLine($"mean |crop difference|: {diff:F2} (original vs 10 px shift: {misaligned:F2})");
        // YuNet's landmarks on a rotated, rescaled face move by a few pixels (measured: the crops differ about as much as
        // a 6 px shift), and the warped frame is resampled once more: the crops must stay closer than a 10 px shift.
        Assert.True(diff < misaligned, $"crops differ by {diff:F2} per value, a 10 px shift by {misaligned:F2}");
    }
}
