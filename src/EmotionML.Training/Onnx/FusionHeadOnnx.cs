using EmotionML.Training.Fusion;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EmotionML.Training.Onnx;

/// <summary>
/// Writes a trained <see cref="FusionHead"/> as an ONNX graph (opset 17) with its eval-mode behaviour (dropout off).
/// Inputs: <c>face</c> [B,N,d_v], <c>face_mask</c> [B,N], <c>audio</c> [B,n,d_a], <c>audio_mask</c> [B,n] (float,
/// 1 = real item, 0 = padding). Outputs: <c>scores</c> [B,K] (softmax probabilities), <c>face_attention</c> [B,N] and
/// <c>audio_attention</c> [B,n] (normalised attention weights, 0 on padding). B is symbolic (<c>batch</c>). A face-only
/// head has only the face input, mask and attention; an audio-only head only the audio ones.
/// </summary>
public static class FusionHeadOnnx
{
    /// <summary>Input names.</summary>
    public const string FaceInput = "face", FaceMaskInput = "face_mask", AudioInput = "audio", AudioMaskInput = "audio_mask";

    /// <summary>Output names.</summary>
    public const string ScoresOutput = "scores", FaceAttentionOutput = "face_attention", AudioAttentionOutput = "audio_attention";

    /// <summary>The symbolic batch dimension's name.</summary>
    public const string BatchDim = "batch";

    /// <summary>
    /// Exports <paramref name="head"/>. <paramref name="faceFrames"/> / <paramref name="audioPositions"/> fix N / n in
    /// the declared input shapes; null leaves them symbolic (<c>frames</c>, <c>positions</c>); the graph computes the
    /// same for any size.
    /// </summary>
    public static byte[] Export(FusionHead head, int? faceFrames = null, int? audioPositions = null)
    {
        ArgumentNullException.ThrowIfNull(head);
        var o = head.Options;
        var g = new OnnxGraphBuilder("emotionml_fusion_head");
        object n = faceFrames is int nf ? nf : "frames";
        object na = audioPositions is int np ? np : "positions";
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        string? fv = null, av = null, fw = null, aw = null;
        if (head.FaceAttention is { } face)
        {
            var f = g.Input(FaceInput, BatchDim, n, o.FaceDim);
            var m = g.Input(FaceMaskInput, BatchDim, n);
            (fv, fw) = Attention(g, face, Standardize(g, head.FaceStandardizer!, f, "face"), m, "face");
        }
        if (head.AudioAttention is { } audio)
        {
            var f = g.Input(AudioInput, BatchDim, na, o.AudioDim);
            var m = g.Input(AudioMaskInput, BatchDim, na);
            (av, aw) = Attention(g, audio, Standardize(g, head.AudioStandardizer!, f, "audio"), m, "audio");
        }

        string fused = head.Fusion switch
        {
            null => (fv ?? av)!,
            ConcatFusion => g.Concat(1, av!, fv!),
            FactorizedBilinearPooling fbp => Fbp(g, fbp, av!, fv!),
            var other => throw new NotSupportedException($"No ONNX export for {other.GetType().Name}."),
        };
        var logits = Gemm(g, head.Classifier, fused, "classifier");
        g.Output(ScoresOutput, g.Softmax(logits, 1), BatchDim, o.Classes);
        if (fw is not null) g.Output(FaceAttentionOutput, fw, BatchDim, n);
        if (aw is not null) g.Output(AudioAttentionOutput, aw, BatchDim, na);
        return g.ToBytes();
    }

    /// <summary>Appends <c>(x − mean) · scale</c> of a <see cref="FeatureStandardizer"/> on features [B,N,d].</summary>
    public static string Standardize(OnnxGraphBuilder g, FeatureStandardizer s, string features, string prefix)
    {
        var mean = g.Initializer(prefix + "_standardize_mean", Floats(s.Mean), s.Dim);
        var scale = g.Initializer(prefix + "_standardize_scale", Floats(s.Scale), s.Dim);
        return g.Mul(g.Sub(features, mean), scale);
    }

    /// <summary>Appends the graph of one attention module: features [B,N,d], mask [B,N] → (pooled, normalised weights).</summary>
    public static (string Pooled, string Weights) Attention(OnnxGraphBuilder g, AttentionPooling attention, string features, string mask, string prefix)
    {
        switch (attention)
        {
            case SelfAttention self:
            {
                var alpha = Alpha(g, self, features, mask, prefix + "_self");
                var w = Normalise(g, alpha);
                return (WeightedSum(g, w, features), w);
            }
            case RelationAttention rel:
            {
                int d = rel.InputDim;
                var alpha = Alpha(g, rel.Self, features, mask, prefix + "_self");
                var fs = WeightedSum(g, Normalise(g, alpha), features);                     // [B,d]
                var weight = Floats(rel.Relation.weight!);                                  // [1, 2d]
                var wi = g.Initializer(prefix + "_relation_w_item", weight.AsSpan(0, d), d, 1);
                var ws = g.Initializer(prefix + "_relation_w_pooled", weight.AsSpan(d, d), d, 1);
                var b = g.Initializer(prefix + "_relation_b", Floats(rel.Relation.bias!), 1);
                var s = g.Add(g.Add(g.Reshape(g.MatMul(features, wi), 0, -1), g.MatMul(fs, ws)), b);   // [B,N]
                var w = Normalise(g, g.Mul(alpha, g.Sigmoid(s)));
                // Σ w_i [f_i ; f_s] = [Σ w_i f_i ; f_s · Σ w_i]
                var pooled = g.Concat(1, WeightedSum(g, w, features), g.Mul(fs, g.ReduceSum(w, [1], keepDims: true)));
                return (pooled, w);
            }
            case TransformerAttention tr:
            {
                var w2 = g.Initializer(prefix + "_project_w", Floats(tr.Project.weight!.t()), tr.InputDim, tr.ReducedDim);
                var b2 = g.Initializer(prefix + "_project_b", Floats(tr.Project.bias!), tr.ReducedDim);
                var u = g.Initializer(prefix + "_context_u", Floats(tr.Context.weight!.t()), tr.ReducedDim, 1);
                var h = g.Tanh(g.Add(g.MatMul(features, w2), b2));
                var s = g.Reshape(g.MatMul(h, u), 0, -1);
                var masked = g.Where(g.Greater(mask, g.Scalar(0f, "zero")), s, g.Scalar(TransformerAttention.MaskedScore, "masked_score"));
                var w = g.Mul(g.Softmax(masked, 1), mask);
                return (WeightedSum(g, w, features), w);
            }
            default:
                throw new NotSupportedException($"No ONNX export for {attention.GetType().Name}.");
        }
    }

    private static string Alpha(OnnxGraphBuilder g, SelfAttention self, string features, string mask, string prefix)
    {
        var w = g.Initializer(prefix + "_w", Floats(self.Score.weight!.t()), self.InputDim, 1);
        var b = g.Initializer(prefix + "_b", Floats(self.Score.bias!), 1);
        var s = g.Reshape(g.Add(g.MatMul(features, w), b), 0, -1);
        return g.Mul(g.Sigmoid(s), mask);
    }

    private static string Normalise(OnnxGraphBuilder g, string s)
        => g.Div(s, g.Max(g.ReduceSum(s, [1], keepDims: true), g.Scalar(AttentionPooling.Epsilon, "eps")));

    private static string WeightedSum(OnnxGraphBuilder g, string weights, string values)
        => g.ReduceSum(g.Mul(g.Unsqueeze(weights, 2), values), [1], keepDims: false);

    private static string Fbp(OnnxGraphBuilder g, FactorizedBilinearPooling fbp, string audio, string visual)
    {
        var z = g.Mul(Gemm(g, fbp.AudioProjection, audio, "fbp_audio"), Gemm(g, fbp.VisualProjection, visual, "fbp_visual"));
        z = g.ReduceSum(g.Reshape(z, 0, fbp.Output, fbp.Factor), [2], keepDims: false);
        if (fbp.SignedSqrt)
            z = g.Mul(g.Sign(z), g.Sqrt(g.Add(g.Abs(z), g.Scalar(FactorizedBilinearPooling.SqrtEpsilon, "sqrt_eps"))));
        return g.L2Normalize(z, 1, FactorizedBilinearPooling.NormEpsilon);
    }

    /// <summary>Appends <c>x·Wᵀ + b</c> of a Linear layer on a 2-D input.</summary>
    public static string Gemm(OnnxGraphBuilder g, Linear linear, string x, string prefix)
    {
        var weight = linear.weight!;
        var w = g.Initializer(prefix + "_w", Floats(weight), weight.shape[0], weight.shape[1]);
        string? b = linear.bias is { } bias ? g.Initializer(prefix + "_b", Floats(bias), bias.shape[0]) : null;
        return g.Gemm(x, w, b, transB: true);
    }

    /// <summary>A tensor's values as a row-major float array (detached, on the CPU).</summary>
    public static float[] Floats(Tensor t)
    {
        // A scope holds the chain's temporaries until the values are read (an unreferenced one can be finalised mid-call).
        using var scope = NewDisposeScope();
        using var c = t.detach().cpu().to_type(ScalarType.Float32).contiguous();
        return c.data<float>().ToArray();
    }
}
