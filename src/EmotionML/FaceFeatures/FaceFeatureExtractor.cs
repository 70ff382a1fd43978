using System.Buffers;
using EmotionML.FaceAlignment;

namespace EmotionML.FaceFeatures;

/// <summary>Computes a clip's face features (all enhancements) from its crops and mask, with one or two backbones.</summary>
internal sealed class FaceFeatureExtractor : IDisposable
{
    private const int CropBytes = FaceAlignmentOptions.CropSize * FaceAlignmentOptions.CropSize * 3;
    private readonly FaceFeatureOptions _options;
    private readonly CropCopy[] _copies;

    public FaceFeatureExtractor(FaceFeatureOptions options, byte[] model, byte[]? secondModel)
    {
        _options = options;
        _copies = options.Copies();
        Primary = new BackboneRunner(FaceBackbone.Of(options.Backbone), model, options.Execution, wholeCrop: options.WholeCropInput);
        if (options.Enhancement == FeatureEnhancement.FArMean)
            Second = new BackboneRunner(FaceBackbone.Of(options.SecondBackbone), secondModel ?? throw new ArgumentNullException(nameof(secondModel)), options.Execution, wholeCrop: options.WholeCropInput);
        Dimension = options.FeatureDimension;
    }

    public BackboneRunner Primary { get; }

    public BackboneRunner? Second { get; }

    /// <summary>Output floats per frame.</summary>
    public int Dimension { get; }

    /// <summary>Features of a clip: [maxFrames, Dimension], rows of frames whose mask is ≤ 0.5 left zero.</summary>
    public float[] ComputeClip(ReadOnlySpan<byte> crops, ReadOnlySpan<float> mask)
    {
        var maxFrames = mask.Length;
        if (crops.Length != maxFrames * CropBytes)
            throw new InvalidInputException($"Face crops have {crops.Length} bytes; expected {maxFrames} frames × 224 × 224 × 3 = {maxFrames * CropBytes} (one crop per mask entry).");
        var output = new float[maxFrames * Dimension];
        var valid = new List<int>();
        for (var f = 0; f < maxFrames; f++) if (mask[f] > 0.5f) valid.Add(f);
        if (valid.Count == 0) return output;
        var d = Dimension;
        switch (_options.Enhancement)
        {
            case FeatureEnhancement.Basic:
            case FeatureEnhancement.FNormFft:
            {
                var features = Features(Primary, crops, valid, CropCopy.Identity);
                var bd = Primary.Backbone.FeatureDim;
                for (var i = 0; i < valid.Count; i++)
                {
                    var src = features.AsSpan(i * bd, bd);
                    var dst = output.AsSpan(valid[i] * d, d);
                    if (_options.Enhancement == FeatureEnhancement.Basic) src.CopyTo(dst);
                    else Enhancement.NormFft(src, dst);
                }
                break;
            }
            default:
            {
                // The copies of several frames go through the backbone together (as many frames as fit in one run).
                var pd = Primary.Backbone.FeatureDim;
                var n = _copies.Length;
                var group = FramesPerRun(Primary, n);
                if (_options.Enhancement == FeatureEnhancement.FArMean) group = Math.Min(group, FramesPerRun(Second!, n));
                for (var g = 0; g < valid.Count; g += group)
                {
                    var frames = valid.GetRange(g, Math.Min(group, valid.Count - g));
                    var copies = CopyFeatures(Primary, crops, frames, _copies);
                    var second = _options.Enhancement == FeatureEnhancement.FArMean ? CopyFeatures(Second!, crops, frames, _copies) : null;
                    for (var i = 0; i < frames.Count; i++)
                    {
                        var dst = output.AsSpan(frames[i] * d, d);
                        var mine = copies.AsSpan(i * n * pd, n * pd);
                        switch (_options.Enhancement)
                        {
                            case FeatureEnhancement.FMean:
                                Enhancement.MeanStd(mine, n, pd, dst, default);
                                break;
                            case FeatureEnhancement.FMeanStd:
                            case FeatureEnhancement.FMeanStd2:
                                Enhancement.MeanStd(mine, n, pd, dst[..pd], dst[pd..]);
                                break;
                            case FeatureEnhancement.FArMean:
                                Enhancement.MeanStd(mine, n, pd, dst[..pd], default);
                                var sd = Second!.Backbone.FeatureDim;
                                Enhancement.MeanStd(second.AsSpan(i * n * sd, n * sd), n, sd, dst[pd..], default);
                                break;
                        }
                    }
                }
                break;
            }
        }
        return output;
    }

    /// <summary>Input floats one run may take (16 MB): bounds the batch (and the activations) when the runner's <see cref="BackboneRunner.MaxBatch"/> is large (CUDA).</summary>
    internal const int MaxRunInputFloats = 4 << 20;

    /// <summary>Frames whose <paramref name="copies"/> copies go through <paramref name="runner"/> in one run (at least one).</summary>
    internal static int FramesPerRun(BackboneRunner runner, int copies)
        => Math.Max(1, Math.Min(runner.MaxBatch, MaxRunInputFloats / runner.Backbone.InputLength) / copies);

    /// <summary>Basic features of the listed frames, in runs of <see cref="BackboneRunner.MaxBatch"/> images: [frames.Count, D].</summary>
    private static float[] Features(BackboneRunner runner, ReadOnlySpan<byte> crops, List<int> frames, CropCopy copy)
    {
        var length = frames.Count * runner.Backbone.InputLength;
        var input = ArrayPool<float>.Shared.Rent(length);
        try
        {
            var scratch = runner.NewScratch();
            for (var i = 0; i < frames.Count; i++)
                runner.Preprocess(crops.Slice(frames[i] * CropBytes, CropBytes), copy, input, i, scratch);
            return runner.Run(input, frames.Count).Features;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(input);
        }
    }

    /// <summary>Features of the transformed copies of each listed frame, all in one run: [frames.Count · copies.Length, D], frame-major.</summary>
    private static float[] CopyFeatures(BackboneRunner runner, ReadOnlySpan<byte> crops, List<int> frames, CropCopy[] copies)
    {
        var input = ArrayPool<float>.Shared.Rent(frames.Count * copies.Length * runner.Backbone.InputLength);
        try
        {
            var scratch = runner.NewScratch();
            for (var f = 0; f < frames.Count; f++)
                for (var i = 0; i < copies.Length; i++)
                    runner.Preprocess(crops.Slice(frames[f] * CropBytes, CropBytes), copies[i], input, f * copies.Length + i, scratch);
            return runner.Run(input, frames.Count * copies.Length).Features;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(input);
        }
    }

    /// <summary>Features of transformed copies of one crop, all copies in one batch: [copies.Length, D]. (Test hook.)</summary>
    internal static float[] CopyFeatures(BackboneRunner runner, ReadOnlySpan<byte> crop, CropCopy[] copies)
        => CopyFeatures(runner, crop[..CropBytes], [0], copies);

    public void Dispose()
    {
        Primary.Dispose();
        Second?.Dispose();
    }
}
