using EmotionML.FaceAlignment;
using EmotionML.FaceGeometry;
using EmotionML.VideoInput;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;
using Xunit.Abstractions;

namespace EmotionML.Tests.FaceGeometry;

public sealed class FaceGeometryTests(ITestOutputHelper output)
{
    private const int Frames = 4;
    private const int CropBytes = 224 * 224 * 3;
    private static readonly int Count = FaceGeometryMeasures.Count;

    private sealed class Clip { public string VideoPath { get; set; } = ""; }

    private sealed class GeometryRow
    {
        [VectorType(Frames, 224, 224, 3)] public byte[] FaceCrops { get; set; } = [];
        [VectorType(Frames)] public bool[] FaceFound { get; set; } = [];
        [VectorType(Frames, 10)] public float[] FaceLandmarks { get; set; } = [];
        public float[] FaceGeometry { get; set; } = [];
        public float[] Landmarks68 { get; set; } = [];
    }

    private sealed class CropInput
    {
        [VectorType(Frames, 224, 224, 3)] public byte[] FaceCrops { get; set; } = [];
        [VectorType(Frames)] public bool[] FaceFound { get; set; } = [];
    }

    // Two Javanese clips (actors 01 and 05), 4 frames each, through alignment and the geometry stage once for the class.
    private static readonly Lazy<GeometryRow[]> Rows = new(() =>
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[] { "01-01-01_01.mp4", "05-01-01_01.mp4" }.Select(f => new Clip { VideoPath = TestData.Javanese(f) }));
        var t = ml.Transforms.LoadVideo(new VideoInputOptions { FrameCount = Frames }).Append(ml.Transforms.AlignFaces(Frames))
            .Append(ml.Transforms.ExtractFaceGeometry(new FaceGeometryOptions { LandmarksColumnName = "Landmarks68" })).Fit(data).Transform(data);
        return ml.Data.CreateEnumerable<GeometryRow>(t, reuseRowObject: false).ToArray();
    });

    private static (double X, double Y) Mean(float[] points, int frame, int from, int to)
    {
        double x = 0, y = 0;
        for (var i = from; i <= to; i++) { x += points[frame * 136 + 2 * i]; y += points[frame * 136 + 2 * i + 1]; }
        return (x / (to - from + 1), y / (to - from + 1));
    }

    [Fact]
    public void LandmarksAgreeWithTheDetectorsFivePointsOnRealFaces()
    {
        // Independent reference: YuNet's 5 landmarks of the same faces, in the same crop pixels (the alignment stage's output).
        // The 68-point layout (eyes 36–41 / 42–47, nose tip 30, mouth corners 48 / 54) is the one the measures assume.
        double error = 0, swapped = 0;
        var faces = 0;
        foreach (var row in Rows.Value)
            for (var f = 0; f < Frames; f++)
            {
                if (!row.FaceFound[f]) continue;
                var five = new[] { Mean(row.Landmarks68, f, 36, 41), Mean(row.Landmarks68, f, 42, 47), Mean(row.Landmarks68, f, 30, 30), Mean(row.Landmarks68, f, 48, 48), Mean(row.Landmarks68, f, 54, 54) };
                double D(int k, int yunet) => Math.Sqrt(Math.Pow(five[k].X - row.FaceLandmarks[f * 10 + 2 * yunet], 2) + Math.Pow(five[k].Y - row.FaceLandmarks[f * 10 + 2 * yunet + 1], 2));
                for (var k = 0; k < 5; k++) error += D(k, k) / 5;
                // The same points with left and right exchanged (a mirrored layout) must be far off.
                swapped += (D(0, 1) + D(1, 0) + D(3, 4) + D(4, 3)) / 4;
                faces++;
            }
        Assert.True(faces >= 6, $"faces found in {faces} of {2 * Frames} frames");
        error /= faces;
        swapped /= faces;
        output.WriteLine($"{faces} faces: mean distance to YuNet's points {error:F2} px; with left and right exchanged {swapped:F2} px");
        // The eyes are ≈ 54 px apart in the aligned crop.
        Assert.True(error < 8, $"mean distance {error:F2} px");
        Assert.True(swapped > 25, $"exchanged mean distance {swapped:F2} px");
    }

    private sealed class AlignedRow
    {
        [VectorType(Frames, 224, 224, 3)] public byte[] FaceCrops { get; set; } = [];
        [VectorType(Frames)] public bool[] FaceFound { get; set; } = [];
    }

    [Fact]
    public void TheChosenBoxPutsTheLandmarksClosestToTheTemplate()
    {
        // How LandmarkDetector.FaceBox was chosen, without labels: every 12th Javanese development clip, 4 frames, and the
        // mean distance of the network's eye centres, nose tip and mouth corners to the alignment template's 5 points.
        var ml = new MLContext(seed: 1);
        var files = Directory.GetFiles(Path.Combine(TestData.JavaneseDir, "clips"), "*.mp4").Order(StringComparer.Ordinal).Where((_, i) => i % 12 == 0).ToArray();
        var data = ml.Data.LoadFromEnumerable(files.Select(f => new Clip { VideoPath = f }));
        var rows = ml.Data.CreateEnumerable<AlignedRow>(ml.Transforms.LoadVideo(new VideoInputOptions { FrameCount = Frames, DecodeAudio = false })
            .Append(ml.Transforms.AlignFaces(Frames)).Fit(data).Transform(data), reuseRowObject: false).ToList();
        var template = FaceAligner.CropTemplate(new FaceAlignmentOptions().Margin);
        var model = File.ReadAllBytes(ModelFiles.FaceLandmarks68.Resolve());
        double Error((double, double, double, double) box)
        {
            using var detector = new LandmarkDetector(model, new OnnxExecutionOptions { IntraOpThreads = 1 }, box);
            var points = new float[136];
            double sum = 0;
            var faces = 0;
            foreach (var row in rows)
                for (var f = 0; f < Frames; f++)
                {
                    if (!row.FaceFound[f]) continue;
                    detector.Detect(row.FaceCrops.AsSpan(f * CropBytes, CropBytes), points);
                    var five = new[] { Mean(points, 0, 36, 41), Mean(points, 0, 42, 47), Mean(points, 0, 30, 30), Mean(points, 0, 48, 48), Mean(points, 0, 54, 54) };
                    for (var k = 0; k < 5; k++) sum += Math.Sqrt(Math.Pow(five[k].X - template[k].X, 2) + Math.Pow(five[k].Y - template[k].Y, 2)) / 5;
                    faces++;
                }
            Assert.True(faces >= 40, $"{faces} faces");
            return sum / faces;
        }
        var chosen = Error(LandmarkDetector.FaceBox);
        // The boxes it was chosen from: the central 224/1.3 square (the ArcFace 112 template's area), the mean YuNet box of
        // these faces mapped through the alignment (not square), a wider box of the YuNet height, and squares and near-squares.
        (double, double, double, double)[] others =
        [
            (26, 26, 172, 172), (60, 32, 104, 185), (20, 32, 184, 185), (30, 40, 164, 164), (35, 45, 154, 154), (40, 50, 144, 144),
            (50, 60, 124, 124), (60, 60, 104, 150), (50, 40, 124, 170), (45, 45, 134, 160), (40, 40, 144, 154), (40, 55, 144, 140), (45, 50, 134, 144),
        ];
        output.WriteLine($"{files.Length} clips: mean distance to the template {chosen:F2} px with the chosen box {LandmarkDetector.FaceBox}");
        foreach (var box in others)
        {
            var error = Error(box);
            output.WriteLine($"  {box}: {error:F2} px");
            Assert.True(chosen < error, $"chosen {chosen:F2} px, {box} {error:F2} px");
        }
    }

    [Fact]
    public void TheStagesMeasuresAreThoseOfItsLandmarksAndFramesWithoutAFaceAreZero()
    {
        foreach (var row in Rows.Value)
        {
            Assert.Equal(Frames * Count, row.FaceGeometry.Length);
            Assert.Equal(Frames * 136, row.Landmarks68.Length);
            for (var f = 0; f < Frames; f++)
            {
                var expected = new float[Count];
                if (row.FaceFound[f]) FaceGeometryMeasures.Compute(row.Landmarks68.AsSpan(f * 136, 136), expected);
                Assert.Equal(expected, row.FaceGeometry.AsSpan(f * Count, Count).ToArray());
                Assert.Equal(row.FaceFound[f], row.Landmarks68.AsSpan(f * 136, 136).ToArray().Any(v => v != 0));
            }
        }

        // A real face crop marked "no face" (the whole-frame fallback) gives zeros, and the other frames are unchanged.
        var ml = new MLContext(seed: 1);
        var source = Rows.Value[0];
        var input = new CropInput { FaceCrops = (byte[])source.FaceCrops.Clone(), FaceFound = (bool[])source.FaceFound.Clone() };
        Assert.True(input.FaceFound[0] && input.FaceFound[1]);
        input.FaceFound[1] = false;
        var data = ml.Data.LoadFromEnumerable(new[] { input });
        var values = ml.Transforms.ExtractFaceGeometry().Fit(data).Transform(data).GetColumn<float[]>("FaceGeometry").Single();
        Assert.Equal(source.FaceGeometry.AsSpan(0, Count).ToArray(), values.AsSpan(0, Count).ToArray());
        Assert.All(values.AsSpan(Count, Count).ToArray(), v => Assert.Equal(0f, v));
        Assert.Equal(source.FaceGeometry.AsSpan(2 * Count).ToArray(), values.AsSpan(2 * Count).ToArray());
    }

    /// <summary>A hand-built face (eye centres 40 px apart on a horizontal line) whose measures are worked out by hand.</summary>
    internal static float[] HandBuiltFace()
    {
        var p = new (float X, float Y)[68];
        // Left eye 36–41: corners (0,0), (20,0); lids 4 px above and below at x 5 and 15. Centre (10, 0); aperture 16/40.
        p[36] = (0, 0); p[37] = (5, -4); p[38] = (15, -4); p[39] = (20, 0); p[40] = (15, 4); p[41] = (5, 4);
        // Right eye 42–47: corners (40,0), (60,0); lids 3 px. Centre (50, 0); aperture 12/40.
        p[42] = (40, 0); p[43] = (45, -3); p[44] = (55, -3); p[45] = (60, 0); p[46] = (55, 3); p[47] = (45, 3);
        for (var i = 17; i <= 21; i++) p[i] = (i * 5 - 80, -12);   // left brow at y −12, inner end 21 = (25, −12)
        for (var i = 22; i <= 26; i++) p[i] = (i * 5 - 75, -10);   // right brow at y −10, inner end 22 = (35, −10)
        p[33] = (30, 30);                                           // nose base
        p[48] = (15, 50); p[54] = (45, 50);                         // mouth corners
        p[51] = (30, 46); p[57] = (30, 58);                         // outer lips
        p[62] = (30, 49); p[66] = (30, 53);                         // inner lips
        p[8] = (30, 90);                                            // chin
        return p.SelectMany(q => new[] { q.X, q.Y }).ToArray();
    }

    [Fact]
    public void MeasuresOfAHandBuiltFaceAreTheWorkedOutValuesAtAnySizeAndRoll()
    {
        var expected = new[]
        {
            4 / 40f, 12 / 40f, 30 / 40f, 2 / 40f,          // mouth: inner and outer opening, width, corner lift (lip centre 2 px below the corners)
            16 / 40f, 12 / 40f,                            // eye apertures
            12 / 40f, 10 / 40f,                            // brow raises
            (float)Math.Sqrt(10 * 10 + 2 * 2) / 40f,       // brow gap |(35,−10) − (25,−12)|
            60 / 40f, 16 / 40f,                            // jaw drop, upper-lip raise
        };
        Assert.Equal(FaceGeometryMeasures.Names.Count, expected.Length);
        var face = HandBuiltFace();
        var measures = new float[Count];
        FaceGeometryMeasures.Compute(face, measures);
        for (var i = 0; i < Count; i++) Assert.True(Math.Abs(expected[i] - measures[i]) < 1e-6, $"{FaceGeometryMeasures.Names[i]}: {measures[i]} against {expected[i]}");

        // The same face 2.5 times as large, rolled by 12° and moved: the same measures.
        var (c, s) = (Math.Cos(12 * Math.PI / 180), Math.Sin(12 * Math.PI / 180));
        var moved = new float[136];
        for (var i = 0; i < 68; i++)
        {
            double x = face[2 * i], y = face[2 * i + 1];
            moved[2 * i] = (float)(2.5 * (c * x - s * y) + 70);
            moved[2 * i + 1] = (float)(2.5 * (s * x + c * y) + 31);
        }
        var again = new float[Count];
        FaceGeometryMeasures.Compute(moved, again);
        for (var i = 0; i < Count; i++) Assert.True(Math.Abs(expected[i] - again[i]) < 1e-5, $"{FaceGeometryMeasures.Names[i]} after scaling and roll: {again[i]} against {expected[i]}");

        // A wider-open mouth moves only the measures that read the lower lip.
        face[2 * 66 + 1] += 8;
        FaceGeometryMeasures.Compute(face, again);
        Assert.Equal(12 / 40f, again[0], 6);
        for (var i = 1; i < Count; i++) Assert.Equal(measures[i], again[i]);
    }

    [Fact]
    public void DegenerateAndShortInputsGiveZerosOrATypedError()
    {
        var measures = Enumerable.Repeat(7f, Count).ToArray();
        FaceGeometryMeasures.Compute(new float[136], measures);   // every point at one place: no eye distance to divide by
        Assert.All(measures, v => Assert.Equal(0f, v));
        var e = Assert.Throws<ArgumentException>(() => FaceGeometryMeasures.Compute(new float[100], measures));
        Assert.StartsWith("68 landmarks need 136 coordinates, got 100.", e.Message);
        e = Assert.Throws<ArgumentException>(() => FaceGeometryMeasures.Compute(new float[136], new float[3]));
        Assert.StartsWith($"The measures need {Count} values, got 3.", e.Message);
    }

    [Fact]
    public void AModelFileThatIsNotTheLandmarkCnnIsRefused()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[] { new CropInput { FaceCrops = new byte[Frames * CropBytes], FaceFound = new bool[Frames] } });
        var e = Assert.Throws<ModelFileException>(() => ml.Transforms.ExtractFaceGeometry(new FaceGeometryOptions { ModelPath = ModelFiles.MiniXception.Resolve() }).Fit(data));
        Assert.Contains("sha256", e.Message);
    }
}
