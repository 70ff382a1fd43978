using System.Diagnostics;
using EmotionML.FaceAlignment;
using EmotionML.FaceFeatures;
using EmotionML.Training.FaceTuning;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EmotionML.Experiments;

/// <summary>One row of the backbone comparison (Table 1 analog).</summary>
/// <param name="Backbone">The frozen backbone.</param>
/// <param name="FeatureDim">Feature dimension.</param>
/// <param name="TrainImages">Training images (per class × 7).</param>
/// <param name="TestImages">Test images.</param>
/// <param name="Accuracy">Micro accuracy on the test images.</param>
/// <param name="MacroAccuracy">Macro (per-class mean) accuracy on the test images.</param>
/// <param name="Seconds">Wall time of feature extraction + training + evaluation.</param>
internal sealed record BackboneComparisonRow(FaceBackboneKind Backbone, int FeatureDim, int TrainImages, int TestImages, double Accuracy, double MacroAccuracy, double Seconds);

/// <summary>
/// Table 1 analog of Zhou et al. 2019: how good each frozen face backbone's features are for expressions. FER2013 images
/// go through an ML.NET image pipeline (LoadRawImageBytes → decode + bilinear resize to 224² RGB bytes in a CustomMapping, i.e. a
/// one-frame "FaceCrops" column; ImageAnalytics' ExtractPixels fails with SkiaSharp 3) into <see cref="FaceFeatureTransformer"/> (Basic features; whole image as the crop, since
/// FER2013 images are already tight faces), then mean-variance normalisation and L-BFGS maximum entropy, trained on a
/// class-balanced subsample of FER2013 Training and evaluated on a class-balanced subsample of PublicTest.
/// </summary>
internal static class BackboneComparison
{
    private sealed class FerRow
    {
        public string ImagePath { get; set; } = "";
        public string Label { get; set; } = "";
        [VectorType(1)] public float[] FrameMask { get; set; } = [1f];
    }

    private sealed class RawImage
    {
        public byte[] ImageBytes { get; set; } = [];
    }

    private sealed class CropImage
    {
        [VectorType(224 * 224 * 3)] public byte[] FaceCrops { get; set; } = [];
    }

    /// <summary>Decodes an image file's bytes (any size, gray or colour) to a 224×224 RGB24 buffer (bilinear, aspect not kept).</summary>
    internal static byte[] DecodeTo224(byte[] encoded)
    {
        var (rgb, w, h) = FerImages.Decode(encoded);
        var crop = new byte[224 * 224 * 3];
        ImageWarp.Warp(rgb, w, h, crop, 224, 224, Affine2D.Scale(224.0 / w, 224.0 / h));
        return crop;
    }

    /// <summary>Runs the comparison. <paramref name="ferRoot"/> defaults to <c>data/fer2013</c> under <see cref="SharedPaths.Root"/>.</summary>
    public static IReadOnlyList<BackboneComparisonRow> Run(int trainPerClass = 200, int testPerClass = 50, IEnumerable<FaceBackboneKind>? backbones = null,
        string? ferRoot = null, int seed = 1, OnnxExecutionOptions? execution = null, string? cacheDirectory = null, Action<string>? log = null)
    {
        ferRoot ??= SharedPaths.Combine("data", "fer2013");
        var rows = File.ReadLines(Path.Combine(ferRoot, "labels.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        List<FerRow> Sample(string usage, int perClass) => rows.Where(r => r[2] == usage).GroupBy(r => r[1]).OrderBy(g => g.Key)
            .SelectMany(g => g.OrderBy(r => StableHash(r[0], seed)).Take(perClass))
            .Select(r => new FerRow { ImagePath = Path.Combine(ferRoot, r[0]), Label = r[1] }).ToList();
        var train = Sample("Training", trainPerClass);
        var test = Sample("PublicTest", testPerClass);
        var results = new List<BackboneComparisonRow>();
        foreach (var kind in backbones ?? Enum.GetValues<FaceBackboneKind>())
        {
            var sw = Stopwatch.StartNew();
            var ml = new MLContext(seed);
            var trainData = ml.Data.LoadFromEnumerable(train);
            var testData = ml.Data.LoadFromEnumerable(test);
            var options = new FaceFeatureOptions { Backbone = kind, WholeCropInput = true, CacheDirectory = cacheDirectory, Execution = execution ?? new OnnxExecutionOptions() };
            // ImageAnalytics' ExtractPixels/ResizeImages cannot run here: MLImage.Pixels calls SKBitmap.GetPixelSpan(), which
            // SkiaSharp 3.119 (the one version the solution can use) no longer has (MissingMethodException). So the images are
            // loaded as raw bytes by ML.NET and decoded + resized to the 224² RGB "crop" in a CustomMapping with SkiaSharp 3.
            var pipeline = ml.Transforms.LoadRawImageBytes("ImageBytes", imageFolder: null, inputColumnName: nameof(FerRow.ImagePath))
                .Append(ml.Transforms.CustomMapping<RawImage, CropImage>((src, dst) => dst.FaceCrops = DecodeTo224(src.ImageBytes), contractName: null))
                .Append(ml.Transforms.ExtractFaceFeatures(options))
                .AppendCacheCheckpoint(ml) // the backbone runs once per image; normaliser and L-BFGS passes read the cache
                .Append(ml.Transforms.NormalizeMeanVariance("Features", options.OutputColumnName))
                .Append(ml.Transforms.Conversion.MapValueToKey("Label"))
                .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy("Label", "Features", l2Regularization: 1f));
            var model = pipeline.Fit(trainData);
            var metrics = ml.MulticlassClassification.Evaluate(model.Transform(testData));
            var row = new BackboneComparisonRow(kind, FaceBackbone.Of(kind).FeatureDim, train.Count, test.Count, metrics.MicroAccuracy, metrics.MacroAccuracy, sw.Elapsed.TotalSeconds);
            log?.Invoke(row.ToString());
            results.Add(row);
        }
        return results;
    }

    private static ulong StableHash(string s, int seed)
    {
        var h = 1469598103934665603UL ^ (ulong)seed;
        foreach (var c in s) { h ^= c; h *= 1099511628211UL; }
        return h;
    }

    /// <summary>The rows as a Markdown table.</summary>
    public static string ToMarkdown(IEnumerable<BackboneComparisonRow> rows)
    {
        var lines = new List<string> { "| backbone | D | train images | test images | accuracy | macro accuracy | seconds |", "|---|---|---|---|---|---|---|" };
        lines.AddRange(rows.Select(r => FormattableString.Invariant($"| {r.Backbone} | {r.FeatureDim} | {r.TrainImages} | {r.TestImages} | {r.Accuracy:P1} | {r.MacroAccuracy:P1} | {r.Seconds:F0} |")));
        return string.Join('\n', lines);
    }
}
