using System.Diagnostics;
using System.Numerics;
using System.Text.Json;
using EmotionML.Experiments;
using EmotionML.FaceAlignment;
using EmotionML.FaceFeatures;
using EmotionML.VideoInput;
using Microsoft.ML;
using Microsoft.ML.Data;
using SkiaSharp;
using Xunit;
using Xunit.Abstractions;

namespace EmotionML.Tests.FaceFeatures;

public sealed class FaceFeatureTests(ITestOutputHelper output)
{
    private const int Frames = 4;
    private const int CropBytes = 224 * 224 * 3;
    private readonly MLContext _ml = new(seed: 1);

    private sealed class Clip { public string VideoPath { get; set; } = ""; }

    /// <summary>Aligned crops of a clip, as the face-feature stage reads them.</summary>
    internal sealed class CropRow
    {
        [VectorType(Frames, 224, 224, 3)] public byte[] FaceCrops { get; set; } = [];
        [VectorType(Frames)] public float[] FrameMask { get; set; } = [];
    }

    // Two Javanese clips (actors 01 and 05, same sentence and emotion), 4 frames each, aligned once for the whole class.
    private static readonly Lazy<CropRow[]> Aligned = new(() =>
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[] { "01-01-01_01.mp4", "05-01-01_01.mp4" }.Select(f => new Clip { VideoPath = TestData.Javanese(f) }));
        var t = ml.Transforms.LoadVideo(new VideoInputOptions { FrameCount = Frames }).Append(ml.Transforms.AlignFaces(Frames)).Fit(data).Transform(data);
        return ml.Data.CreateEnumerable<CropRow>(t, reuseRowObject: false).Select(r => new CropRow { FaceCrops = r.FaceCrops, FrameMask = r.FrameMask }).ToArray();
    });

    private static readonly Lazy<byte[]> DenseNetBytes = new(() => File.ReadAllBytes(ModelFiles.FerDenseNet121.Resolve()));

    private static byte[] ModelBytes(FaceBackboneKind kind) => kind == FaceBackboneKind.FerDenseNet121 ? DenseNetBytes.Value : File.ReadAllBytes(FaceBackbone.Of(kind).Model.Resolve());

    private static ReadOnlySpan<byte> Crop(CropRow row, int frame) => row.FaceCrops.AsSpan(frame * CropBytes, CropBytes);

    private float[][] Features(IDataView input, FaceFeatureOptions options, out FaceFeatureTransformer transformer)
    {
        transformer = _ml.Transforms.ExtractFaceFeatures(options).Fit(input);
        var result = transformer.Transform(input);
        var column = result.Schema[options.OutputColumnName];
        var type = Assert.IsType<VectorDataViewType>(column.Type);
        Assert.Equal([Frames, options.FeatureDimension], type.Dimensions.ToArray());
        return result.GetColumn<float[]>(column).ToArray();
    }

    private static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double ab = 0, aa = 0, bb = 0;
        for (var i = 0; i < a.Length; i++) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
        return ab / Math.Sqrt(aa * bb);
    }

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0, scale = 1e-6;
        for (var i = 0; i < expected.Length; i++) { worst = Math.Max(worst, Math.Abs(expected[i] - actual[i])); scale = Math.Max(scale, Math.Abs(expected[i])); }
        Assert.True(worst <= tolerance * scale, $"{what}: max abs difference {worst:G3} (max |value| {scale:G3})");
    }

    [Fact]
    public void EveryBackboneTakesABatchAndBatchedRunsEqualSingleRuns()
    {
        var row = Aligned.Value[0];
        foreach (var kind in Enum.GetValues<FaceBackboneKind>())
        {
            var bytes = ModelBytes(kind);
            using var runner = new BackboneRunner(FaceBackbone.Of(kind), bytes, new OnnxExecutionOptions { IntraOpThreads = 1 });
            runner.MaxBatch = Frames; // all frames in one run (the stage's CPU default runs DenseNet-121 one image at a time)
            var b = runner.Backbone;
            var input = new float[Frames * b.InputLength];
            var scratch = runner.NewScratch();
            for (var f = 0; f < Frames; f++) runner.Preprocess(Crop(row, f), CropCopy.Identity, input, f, scratch);
            var sw = Stopwatch.StartNew();
            var batched = runner.Run(input, Frames).Features;
            var tBatch = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            var single = new float[batched.Length];
            for (var f = 0; f < Frames; f++)
                runner.Run(input[(f * b.InputLength)..((f + 1) * b.InputLength)], 1).Features.CopyTo(single, f * b.FeatureDim);
            var tSingle = sw.Elapsed.TotalMilliseconds;
            output.WriteLine($"{kind}: original batch dim {FaceBackbone.DescribeBatchDim(bytes)}; batched={runner.Batched}; {Frames} images batched {tBatch:F0} ms, one at a time {tSingle:F0} ms");
            Assert.True(runner.Batched, $"{kind} did not accept a symbolic batch");
            AssertClose(single, batched, 1e-4, kind.ToString());
            Assert.Equal(b.FeatureDim, batched.Length / Frames);
            Assert.Contains(batched, v => v != 0);
        }
    }

    [Fact]
    public void FMeanOfIdenticalCopiesEqualsBasicAndTheirStdIsZero()
    {
        var row = Aligned.Value[0];
        using var runner = new BackboneRunner(FaceBackbone.Of(FaceBackboneKind.FerDenseNet121), DenseNetBytes.Value, new OnnxExecutionOptions { IntraOpThreads = 1 });
        var copies = Enumerable.Repeat(CropCopy.Identity, 18).ToArray();
        var features = FaceFeatureExtractor.CopyFeatures(runner, Crop(row, 0), copies);
        var d = runner.Backbone.FeatureDim;
        var mean = new float[d]; var std = new float[d];
        Enhancement.MeanStd(features, 18, d, mean, std);
        var basic = FaceFeatureExtractor.CopyFeatures(runner, Crop(row, 0), [CropCopy.Identity]);
        AssertClose(basic, mean, 1e-4, "F-Mean of identical copies vs Basic");
        Assert.True(std.Max() < 1e-3 * basic.Max(Math.Abs), $"std of identical copies {std.Max():G3}");
    }

    [Fact]
    public void FMeanStdMeanHalfEqualsFMeanAndFNormFftIsTheNormalisedDftOfBasic()
    {
        var data = _ml.Data.LoadFromEnumerable(Aligned.Value.Take(1));
        var kind = FaceBackboneKind.MobileFaceNet;
        var fmean = Features(data, new FaceFeatureOptions { Backbone = kind, Enhancement = FeatureEnhancement.FMean }, out _)[0];
        var fms = Features(data, new FaceFeatureOptions { Backbone = kind, Enhancement = FeatureEnhancement.FMeanStd }, out _)[0];
        var basic = Features(data, new FaceFeatureOptions { Backbone = kind }, out _)[0];
        var fft = Features(data, new FaceFeatureOptions { Backbone = kind, Enhancement = FeatureEnhancement.FNormFft }, out _)[0];
        const int d = 512;
        var mask = Aligned.Value[0].FrameMask;
        for (var f = 0; f < Frames; f++)
        {
            if (mask[f] < 0.5f) { Assert.All(fms.AsSpan(f * 2 * d, 2 * d).ToArray(), v => Assert.Equal(0, v)); continue; }
            Assert.Equal(fmean.AsSpan(f * d, d).ToArray(), fms.AsSpan(f * 2 * d, d).ToArray());
            Assert.True(fms.AsSpan(f * 2 * d + d, d).ToArray().Average() > 0, "the 18 copies differ, so std > 0");
            // Enhancement changes the feature but keeps it close to the basic one (same face, small transforms).
            Assert.True(Cosine(basic.AsSpan(f * d, d), fmean.AsSpan(f * d, d)) > 0.8);
            var expected = new float[2 * d];
            Enhancement.NormFft(basic.AsSpan(f * d, d), expected);
            AssertClose(expected, fft.AsSpan(f * 2 * d, 2 * d), 1e-5, "F-NormFFT vs NormFft(Basic)");
        }
    }

    [Fact]
    public void MirroredCopyIsReallyMirroredAndRotationTurnsAboutTheCentre()
    {
        var row = Aligned.Value[0];
        using var runner = new BackboneRunner(FaceBackbone.Of(FaceBackboneKind.FerDenseNet121), DenseNetBytes.Value, null);
        var plane = 224 * 224;
        var input = new float[2 * 3 * plane];
        var scratch = runner.NewScratch();
        runner.Preprocess(Crop(row, 0), new CropCopy(0, 1, true), input, 0, scratch);
        var crop = Crop(row, 0);
        foreach (var (x, y) in new[] { (0, 0), (10, 100), (150, 37), (223, 223), (111, 112) })
            for (var c = 0; c < 3; c++)
                Assert.Equal(crop[(y * 224 + (223 - x)) * 3 + c] / 255f, input[c * plane + y * 224 + x], 5);
        // A 90° copy maps the pixel right of the centre to above it (anticlockwise on screen), the centre to itself.
        var t = new CropCopy(90, 1, false).Transform(224);
        var (cx, cy) = t.Apply(112, 112);
        Assert.Equal(112, cx, 9); Assert.Equal(112, cy, 9);
        var (rx, ry) = t.Apply(162, 112);
        Assert.Equal(112, rx, 9); Assert.Equal(62, ry, 9);
        Assert.Equal(18, new FaceFeatureOptions { Enhancement = FeatureEnhancement.FMean }.Copies().Length);
        Assert.Equal(9, new FaceFeatureOptions { Enhancement = FeatureEnhancement.FMean }.Copies().Count(c => c.Mirror));
    }

    [Fact]
    public void SameFaceInNeighbouringFramesIsCloserThanAnotherActor()
    {
        var data = _ml.Data.LoadFromEnumerable(Aligned.Value);
        foreach (var kind in new[] { FaceBackboneKind.FerDenseNet121, FaceBackboneKind.MobileFaceNet })
        {
            var features = Features(data, new FaceFeatureOptions { Backbone = kind }, out var t);
            var d = t.FeatureDimension;
            var within = new List<double>(); var across = new List<double>();
            for (var clip = 0; clip < 2; clip++)
                for (var f = 0; f + 1 < Frames; f++)
                    within.Add(Cosine(features[clip].AsSpan(f * d, d), features[clip].AsSpan((f + 1) * d, d)));
            for (var f = 0; f < Frames; f++)
                for (var g = 0; g < Frames; g++)
                    across.Add(Cosine(features[0].AsSpan(f * d, d), features[1].AsSpan(g * d, d)));
            output.WriteLine($"{kind}: cosine neighbouring frames {within.Average():F3} (min {within.Min():F3}); actor 01 vs 05 {across.Average():F3} (max {across.Max():F3})");
            Assert.True(within.Average() > across.Average() + 0.02, $"{kind}: within {within.Average():F3} vs across {across.Average():F3}");
        }
    }

    [Fact]
    public void DenseNetLogitsClassifyFer2013WellAboveChance()
    {
        string[] classes = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"];
        var rows = File.ReadLines(TestData.Fer("labels.csv")).Skip(1).Select(l => l.Split(',')).Where(p => p[2] == "PublicTest").ToList();
        using var runner = new BackboneRunner(FaceBackbone.Of(FaceBackboneKind.FerDenseNet121), DenseNetBytes.Value, null, keepLogits: true);
        const int perClass = 6;
        var input = new float[7 * perClass * runner.Backbone.InputLength];
        var scratch = runner.NewScratch();
        var labels = new List<int>();
        foreach (var (name, k) in classes.Select((c, i) => (c, i)))
            foreach (var r in rows.Where(p => p[1] == name).Take(perClass))
            {
                runner.Preprocess(Fer48To224(TestData.Fer(r[0])), CropCopy.Identity, input, labels.Count, scratch);
                labels.Add(k);
            }
        var logits = runner.Run(input, labels.Count).Logits!;
        var correct = labels.Where((y, i) => Enumerable.Range(0, 7).MaxBy(j => logits[i * 7 + j]) == y).Count();
        var accuracy = correct / (double)labels.Count;
        output.WriteLine($"DenseNet-121 logits on {labels.Count} FER2013 PublicTest images: accuracy {accuracy:P1} (chance 14.3 %)");
        Assert.True(accuracy > 0.4, $"accuracy {accuracy:P1}");
    }

    /// <summary>A 48×48 grayscale FER2013 jpg as a 224×224 RGB24 crop (bilinear).</summary>
    internal static byte[] Fer48To224(string path)
    {
        using var bitmap = SKBitmap.Decode(path) ?? throw new InvalidDataException(path);
        var rgb = new byte[bitmap.Width * bitmap.Height * 3];
        for (var y = 0; y < bitmap.Height; y++)
            for (var x = 0; x < bitmap.Width; x++)
            {
                var c = bitmap.GetPixel(x, y);
                var o = (y * bitmap.Width + x) * 3;
                rgb[o] = c.Red; rgb[o + 1] = c.Green; rgb[o + 2] = c.Blue;
            }
        var crop = new byte[CropBytes];
        ImageWarp.Warp(rgb, bitmap.Width, bitmap.Height, crop, 224, 224, Affine2D.Scale(224.0 / bitmap.Width, 224.0 / bitmap.Height));
        return crop;
    }

    [Fact]
    public void WrongModelFileIsRejectedBySha256()
    {
        var path = Path.Combine(TestData.TempDir("badbackbone"), "fr_feature.onnx");
        File.WriteAllBytes(path, File.ReadAllBytes(ModelFiles.MobileFaceNet.DefaultPath).AsSpan(0, 5000).ToArray());
        var data = _ml.Data.LoadFromEnumerable(Aligned.Value.Take(1));
        var e = Assert.Throws<ModelFileException>(() => _ml.Transforms.ExtractFaceFeatures(new FaceFeatureOptions { Backbone = FaceBackboneKind.MobileFaceNet, ModelPath = path }).Fit(data));
        Assert.Contains("sha256", e.Message);
        Assert.Contains(path, e.Message);
        // The right file for another backbone is a wrong file too.
        Assert.Throws<ModelFileException>(() => _ml.Transforms.ExtractFaceFeatures(new FaceFeatureOptions { Backbone = FaceBackboneKind.MobileFaceNet, ModelPath = ModelFiles.MiniXception.DefaultPath }).Fit(data));
    }

    [Fact]
    public void NormFftMatchesAnIndependentDoubleDft()
    {
        var random = new Random(7);
        foreach (var n in new[] { 16, 12, 128 })
        {
            var f = Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            var re = new double[n]; var im = new double[n];
            for (var k = 0; k < n; k++)
                for (var t = 0; t < n; t++)
                {
                    re[k] += f[t] * Math.Cos(2 * Math.PI * k * t / n);
                    im[k] -= f[t] * Math.Sin(2 * Math.PI * k * t / n);
                }
            var norm = Math.Sqrt(re.Sum(x => x * x) + im.Sum(x => x * x));
            Assert.Equal(Math.Sqrt(n * f.Sum(x => (double)x * x)), norm, 6); // Parseval
            var actual = new float[2 * n];
            Enhancement.NormFft(f, actual);
            for (var k = 0; k < n; k++)
            {
                Assert.True(Math.Abs(re[k] / norm - actual[k]) < 1e-6, $"Re X[{k}] of {n}");
                Assert.True(Math.Abs(im[k] / norm - actual[n + k]) < 1e-6, $"Im X[{k}] of {n}");
            }
        }
        var x8 = Enumerable.Range(0, 8).Select(i => new Complex(i, -i)).ToArray();
        var dft = Enhancement.Dft(x8);
        Enhancement.Fft(x8);
        for (var k = 0; k < 8; k++) Assert.True((x8[k] - dft[k]).Magnitude < 1e-9);
    }

    [Fact]
    public void SaveLoadRoundTripGivesIdenticalOutputsAndOptions()
    {
        var data = _ml.Data.LoadFromEnumerable(Aligned.Value.Take(1));
        var options = new FaceFeatureOptions { Backbone = FaceBackboneKind.MiniXception, Enhancement = FeatureEnhancement.FArMean, SecondBackbone = FaceBackboneKind.MobileFaceNet, Rotations = [-5, 5], Scales = [1.1], Mirror = true };
        var before = Features(data, options, out var t);
        using var stream = new MemoryStream();
        _ml.Model.Save(t, data.Schema, stream);
        stream.Position = 0;
        var loaded = _ml.Model.Load(stream, out _);
        var lt = Assert.IsType<FaceFeatureTransformer>(loaded);
        Assert.Equal(JsonSerializer.Serialize(options), JsonSerializer.Serialize(lt.Options));
        var after = loaded.Transform(data).GetColumn<float[]>("FaceFeatures").ToArray();
        Assert.Equal(before[0], after[0]);
        Assert.Equal(128 + 512, lt.FeatureDimension);
    }

    private static CropRow SyntheticRow(int seed, int valid = 1)
    {
        var r = new Random(seed);
        var crops = new byte[Frames * CropBytes];
        r.NextBytes(crops.AsSpan(0, valid * CropBytes));
        return new CropRow { FaceCrops = crops, FrameMask = Enumerable.Range(0, Frames).Select(i => i < valid ? 1f : 0f).ToArray() };
    }

    [Fact]
    public void CacheHitsMissesRebuildsCorruptEntriesAndKeysOnSettings()
    {
        var dir = TestData.TempDir("ffcache");
        var data = _ml.Data.LoadFromEnumerable([SyntheticRow(1, valid: 2)]);
        var options = new FaceFeatureOptions { Backbone = FaceBackboneKind.MiniXception, CacheDirectory = dir };
        var first = Features(data, options, out var t1);
        Assert.Equal((0, 1, 0), t1.Cache!.Counts);
        var files = Directory.GetFiles(dir, "*.emlff", SearchOption.AllDirectories);
        Assert.Single(files);
        Assert.Empty(Directory.GetFiles(dir, "*.tmp", SearchOption.AllDirectories));
        Assert.All(first[0].AsSpan(2 * 128).ToArray(), v => Assert.Equal(0, v)); // padding rows

        var second = Features(data, options, out var t2);
        Assert.Equal((1, 0, 0), t2.Cache!.Counts);
        Assert.Equal(first[0], second[0]);

        // Truncated entry: detected, deleted, rebuilt.
        var bytes = File.ReadAllBytes(files[0]);
        File.WriteAllBytes(files[0], bytes.AsSpan(0, bytes.Length - 100).ToArray());
        var third = Features(data, options, out var t3);
        Assert.Equal((0, 1, 1), t3.Cache!.Counts);
        Assert.Equal(first[0], third[0]);
        Assert.Equal(bytes, File.ReadAllBytes(files[0]));
        // One flipped bit in the floats: the checksum catches it.
        bytes[40] ^= 1;
        File.WriteAllBytes(files[0], bytes);
        Features(data, options, out var t4);
        Assert.Equal((0, 1, 1), t4.Cache!.Counts);

        // Keys change with every feature-changing setting and with the data, not with column names or threads.
        var baseKey = FaceFeatureCache.SettingsKey(options);
        Assert.NotEqual(baseKey, FaceFeatureCache.SettingsKey(new FaceFeatureOptions { Backbone = FaceBackboneKind.MobileFaceNet }));
        Assert.NotEqual(baseKey, FaceFeatureCache.SettingsKey(new FaceFeatureOptions { Backbone = FaceBackboneKind.MiniXception, Enhancement = FeatureEnhancement.FNormFft }));
        var fmean = new FaceFeatureOptions { Backbone = FaceBackboneKind.MiniXception, Enhancement = FeatureEnhancement.FMean };
        Assert.NotEqual(FaceFeatureCache.SettingsKey(fmean), FaceFeatureCache.SettingsKey(new FaceFeatureOptions { Backbone = FaceBackboneKind.MiniXception, Enhancement = FeatureEnhancement.FMean, Rotations = [-3, 0, 3] }));
        Assert.NotEqual(FaceFeatureCache.SettingsKey(fmean), FaceFeatureCache.SettingsKey(new FaceFeatureOptions { Backbone = FaceBackboneKind.MiniXception, Enhancement = FeatureEnhancement.FMean, Scales = [1, 1.05] }));
        Assert.NotEqual(FaceFeatureCache.SettingsKey(fmean), FaceFeatureCache.SettingsKey(new FaceFeatureOptions { Backbone = FaceBackboneKind.MiniXception, Enhancement = FeatureEnhancement.FMean, Mirror = false }));
        var ar = new FaceFeatureOptions { Enhancement = FeatureEnhancement.FArMean };
        Assert.NotEqual(FaceFeatureCache.SettingsKey(ar), FaceFeatureCache.SettingsKey(new FaceFeatureOptions { Enhancement = FeatureEnhancement.FArMean, SecondBackbone = FaceBackboneKind.MiniXception }));
        Assert.Equal(baseKey, FaceFeatureCache.SettingsKey(new FaceFeatureOptions { Backbone = FaceBackboneKind.MiniXception, OutputColumnName = "X", Execution = new() { IntraOpThreads = 1 } }));
        var row = SyntheticRow(1, 2);
        var key = FaceFeatureCache.Key(row.FaceCrops, row.FrameMask, baseKey);
        row.FrameMask[2] = 1;
        Assert.NotEqual(key, FaceFeatureCache.Key(row.FaceCrops, row.FrameMask, baseKey));
        row.FrameMask[2] = 0; row.FaceCrops[5] ^= 1;
        Assert.NotEqual(key, FaceFeatureCache.Key(row.FaceCrops, row.FrameMask, baseKey));
        Assert.NotEqual(key, FaceFeatureCache.Key(SyntheticRow(1, 2).FaceCrops, SyntheticRow(1, 2).FrameMask, FaceFeatureCache.SettingsKey(new FaceFeatureOptions { Backbone = FaceBackboneKind.MiniXception, Enhancement = FeatureEnhancement.FNormFft })));
    }

    [Fact]
    public void SchemaChecksRejectMissingOrMisSizedColumns()
    {
        var data = _ml.Data.LoadFromEnumerable([SyntheticRow(2)]);
        var est = _ml.Transforms.ExtractFaceFeatures(new FaceFeatureOptions { Backbone = FaceBackboneKind.MiniXception, MaskColumnName = "Nope" });
        Assert.Throws<ArgumentOutOfRangeException>(() => est.GetOutputSchema(SchemaShape.Create(data.Schema)));
        Assert.Throws<ArgumentOutOfRangeException>(() => est.Fit(data));
        var shape = _ml.Transforms.ExtractFaceFeatures(FaceBackboneKind.MiniXception, FeatureEnhancement.FMeanStd2).GetOutputSchema(SchemaShape.Create(data.Schema));
        Assert.True(shape.TryFindColumn("FaceFeatures", out var col));
        Assert.Equal(NumberDataViewType.Single, col.ItemType);
    }

    [Fact]
    public void BackboneComparisonRunsThroughTheImagePipeline()
    {
        // Smoke size; EMOTIONML_TABLE1="train,test" (images per class) runs the full comparison of all backbones instead.
        var full = Environment.GetEnvironmentVariable("EMOTIONML_TABLE1");
        var sizes = full?.Split(',').Select(int.Parse).ToArray() ?? [8, 4];
        var rows = BackboneComparison.Run(sizes[0], sizes[1], full == null ? [FaceBackboneKind.MiniXception] : null, log: output.WriteLine,
            cacheDirectory: Environment.GetEnvironmentVariable("EMOTIONML_TABLE1_CACHE"));
        output.WriteLine(BackboneComparison.ToMarkdown(rows));
        Assert.All(rows, r => Assert.Equal(7 * sizes[1], r.TestImages));
        if (full == null) Assert.True(rows[0].Accuracy > 1.0 / 7, $"mini-Xception features accuracy {rows[0].Accuracy:P1}");
    }

    [Fact]
    public void ChainsAfterFaceAlignmentStraightFromVideo()
    {
        var data = _ml.Data.LoadFromEnumerable([new Clip { VideoPath = TestData.Javanese("03-01-03_01.mp4") }]);
        var chain = _ml.Transforms.LoadVideo(new VideoInputOptions { FrameCount = 2 })
            .Append(_ml.Transforms.AlignFaces(3))
            .Append(_ml.Transforms.ExtractFaceFeatures(FaceBackboneKind.MiniXception, FeatureEnhancement.FMeanStd));
        var model = chain.Fit(data);
        var column = model.GetOutputSchema(data.Schema)["FaceFeatures"];
        Assert.Equal([3, 256], ((VectorDataViewType)column.Type).Dimensions.ToArray());
        var features = model.Transform(data).GetColumn<float[]>("FaceFeatures").Single();
        Assert.Contains(features.Take(2 * 256), v => v != 0);
        Assert.All(features.Skip(2 * 256), v => Assert.Equal(0, v)); // the padded third frame
    }

    [Fact]
    public void ConcurrentCacheWritersAndReadersNeverSeeAPartialEntry()
    {
        var cache = new FaceFeatureCache(TestData.TempDir("ffcache-par"));
        var values = Enumerable.Range(0, 50_000).Select(i => (float)i).ToArray();
        const string key = "ab0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd";
        Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            if (i % 2 == 0) cache.Write(key, values);
            else if (cache.TryRead(key, values.Length, out var read)) Assert.Equal(values, read);
        });
        Assert.Equal(0, cache.Counts.Corrupt);
        Assert.True(cache.TryRead(key, values.Length, out var final));
        Assert.Equal(values, final);
        Assert.Empty(Directory.GetFiles(cache.Directory, "*.tmp", SearchOption.AllDirectories));
    }
}
