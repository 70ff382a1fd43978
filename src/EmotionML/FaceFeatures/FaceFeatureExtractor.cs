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
                foreach (var f in valid)
                {
                    var crop = crops.Slice(f * CropBytes, CropBytes);
                    var dst = output.AsSpan(f * d, d);
                    var pd = Primary.Backbone.FeatureDim;
                    var copies = CopyFeatures(Primary, crop, _copies);
                    switch (_options.Enhancement)
                    {
                        case FeatureEnhancement.FMean:
                            Enhancement.MeanStd(copies, _copies.Length, pd, dst, default);
                            break;
                        case FeatureEnhancement.FMeanStd:
                        case FeatureEnhancement.FMeanStd2:
                            Enhancement.MeanStd(copies, _copies.Length, pd, dst[..pd], dst[pd..]);
                            break;
                        case FeatureEnhancement.FArMean:
                            Enhancement.MeanStd(copies, _copies.Length, pd, dst[..pd], default);
                            var second = CopyFeatures(Second!, crop, _copies);
                            Enhancement.MeanStd(second, _copies.Length, Second!.Backbone.FeatureDim, dst[pd..], default);
                            break;
                    }
                }
                break;
        }
        return output;
    }

    /// <summary>Basic features of the listed frames, all in one batch: [frames.Count, D].</summary>
    private static float[] Features(BackboneRunner runner, ReadOnlySpan<byte> crops, List<int> frames, CropCopy copy)
    {
        var input = new float[frames.Count * runner.Backbone.InputLength];
        var scratch = runner.NewScratch();
        for (var i = 0; i < frames.Count; i++)
            runner.Preprocess(crops.Slice(frames[i] * CropBytes, CropBytes), copy, input, i, scratch);
        return runner.Run(input, frames.Count).Features;
    }

    /// <summary>Features of transformed copies of one crop, all copies in one batch: [copies.Length, D]. (Test hook.)</summary>
    internal static float[] CopyFeatures(BackboneRunner runner, ReadOnlySpan<byte> crop, CropCopy[] copies)
    {
        var input = new float[copies.Length * runner.Backbone.InputLength];
        var scratch = runner.NewScratch();
        for (var i = 0; i < copies.Length; i++)
            runner.Preprocess(crop, copies[i], input, i, scratch);
        return runner.Run(input, copies.Length).Features;
    }

    public void Dispose()
    {
        Primary.Dispose();
        Second?.Dispose();
    }
}
