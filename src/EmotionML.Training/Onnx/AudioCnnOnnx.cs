using static TorchSharp.torch;

namespace EmotionML.Training.Onnx;

/// <summary>
/// Writes the feature extractor of a trained <see cref="AudioCnn.AudioCnnNetwork"/> as an ONNX graph (opset 17), eval mode
/// (batch normalisation folded into the convolutions): input <c>spectrogram</c> [B,1,T,F] → output <c>features</c>
/// [B, n, C] with n = H·W positions of the last pooling map (row-major over H, W) — the same as
/// <see cref="AudioCnn.AudioCnnNetwork.FeatureSet"/>. B is symbolic (<c>batch</c>); T and F are fixed.
/// </summary>
public static class AudioCnnOnnx
{
    /// <summary>The input's name.</summary>
    public const string SpectrogramInput = "spectrogram";

    /// <summary>The output's name.</summary>
    public const string FeaturesOutput = "features";

    /// <summary>Exports <paramref name="cnn"/> for spectrograms of <paramref name="frames"/> × <paramref name="bins"/>.</summary>
    public static byte[] Export(AudioCnn.AudioCnnNetwork cnn, int frames, int bins)
    {
        ArgumentNullException.ThrowIfNull(cnn);
        var (h, w) = AudioCnn.AudioCnnNetwork.FeatureMapSize(frames, bins);
        int c = cnn.FeatureChannels;
        var g = new OnnxGraphBuilder("emotionml_audio_cnn");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = g.Input(SpectrogramInput, FusionHeadOnnx.BatchDim, 1, frames, bins);
        if (cnn.Options.Normalization != AudioCnn.AudioNormalization.Global)
        {
            // As AudioCnnNetwork.Prepare: mean over the real frames (per bin, or then over bins too), one std over real frames and bins, empty frames 0.
            var real = g.Where(g.Greater(g.ReduceMax(x, [3], keepDims: true), g.Scalar(AudioCnn.AudioCnnNetwork.PaddingLevel, "padding_level")),
                g.Scalar(1f, "one"), g.Scalar(0f, "zero"));
            var count = g.Max(g.ReduceSum(real, [2], keepDims: true), g.Scalar(1f, "min_count"));
            var mean = g.Div(g.ReduceSum(g.Mul(x, real), [2], keepDims: true), count);
            if (cnn.Options.Normalization == AudioCnn.AudioNormalization.Utterance)
                mean = g.Div(g.ReduceSum(mean, [3], keepDims: true), g.Scalar(bins, "bins_mean"));
            var centred = g.Mul(g.Sub(x, mean), real);
            var variance = g.Div(g.ReduceSumSquare(centred, [2, 3], keepDims: true), g.Mul(count, g.Scalar(bins, "bins")));
            x = g.Div(centred, g.Sqrt(g.Add(variance, g.Scalar(AudioCnn.AudioCnnNetwork.NormalizationEpsilon, "norm_eps"))));
        }
        else if (cnn.Options.InputMean != 0 || cnn.Options.InputScale != 1)
            x = g.Mul(g.Sub(x, g.Scalar(cnn.Options.InputMean, "input_mean")), g.Scalar(cnn.Options.InputScale, "input_scale"));
        if (cnn.Options.Deltas)
        {
            const int reach = AudioCnn.AudioCnnNetwork.DeltaReach;
            var kernel = g.Initializer("deltas_w", AudioCnn.AudioCnnNetwork.DeltaKernel(), 3, 1, 2 * reach + 1, 1);
            x = g.Conv(x, kernel, null, [2 * reach + 1, 1], [1, 1], [reach, 0, reach, 0]);
        }
        for (int i = 0; i < AudioCnn.AudioCnnNetwork.Layers.Count; i++)
        {
            var spec = AudioCnn.AudioCnnNetwork.Layers[i];
            var conv = cnn.Convolutions[i];
            var weight = conv.weight!;
            var wt = weight.detach().cpu().to_type(ScalarType.Float64);
            long outC = weight.shape[0];
            var bias = conv.bias is { } b0 ? b0.detach().cpu().to_type(ScalarType.Float64) : zeros(outC, dtype: ScalarType.Float64);
            if (cnn.BatchNorms.Count > 0)
            {
                var bn = cnn.BatchNorms[i];
                var mean = bn.running_mean!.detach().cpu().to_type(ScalarType.Float64);
                var variance = bn.running_var!.detach().cpu().to_type(ScalarType.Float64);
                var gamma = bn.weight!.detach().cpu().to_type(ScalarType.Float64);
                var beta = bn.bias!.detach().cpu().to_type(ScalarType.Float64);
                var scale = gamma / (variance + AudioCnn.AudioCnnNetwork.BatchNormEpsilon).sqrt();
                wt = wt * scale.reshape(outC, 1, 1, 1);
                bias = (bias - mean) * scale + beta;
            }
            var wName = g.Initializer($"conv{i + 1}_w", FusionHeadOnnx.Floats(wt), weight.shape);
            var bName = g.Initializer($"conv{i + 1}_b", FusionHeadOnnx.Floats(bias), outC);
            long k = spec.Kernel, s = spec.Stride, p = spec.Padding;
            x = g.Relu(g.Conv(x, wName, bName, [k, k], [s, s], [p, p, p, p]));
            if (spec.PoolAfter)
                x = g.MaxPool(x, [AudioCnn.AudioCnnNetwork.PoolKernel, AudioCnn.AudioCnnNetwork.PoolKernel], [AudioCnn.AudioCnnNetwork.PoolStride, AudioCnn.AudioCnnNetwork.PoolStride], [0, 0, 0, 0]);
        }
        var set = g.Transpose(g.Reshape(x, 0, c, -1), 0, 2, 1);
        g.Output(FeaturesOutput, set, FusionHeadOnnx.BatchDim, h * w, c);
        return g.ToBytes();
    }
}
