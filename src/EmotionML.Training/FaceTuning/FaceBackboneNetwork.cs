using EmotionML.Training.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace EmotionML.Training.FaceTuning;

/// <summary>A new emotion classifier on a backbone feature: batch norm → dropout → linear (exported folded into one Gemm).</summary>
internal sealed class FaceEmotionHead : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.BatchNorm1d norm;
    private readonly TorchSharp.Modules.Dropout dropout;
    private readonly TorchSharp.Modules.Linear fc;

    public FaceEmotionHead(int features, int classes, double dropoutRate) : base(nameof(FaceEmotionHead))
    {
        norm = nn.BatchNorm1d(features);
        dropout = nn.Dropout(dropoutRate);
        fc = nn.Linear(features, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => fc.forward(dropout.forward(norm.forward(x.flatten(1))));

    /// <summary>The head at inference as one affine map: W' = W·diag(γ/σ), b' = b + W·(β − μ·γ/σ), σ = √(var + ε).</summary>
    public (float[] Weight, float[] Bias) Folded()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var eps = norm.eps.ToScalar();
        using var one = 1f.ToScalar();
        var scale = norm.weight! / norm.running_var!.add(eps, one).sqrt();
        var shift = norm.bias! - norm.running_mean! * scale;
        var w = fc.weight! * scale.unsqueeze(0);
        var b = fc.bias!.add(fc.weight!.matmul(shift), one);
        return (w.contiguous().data<float>().ToArray(), b.contiguous().data<float>().ToArray());
    }
}

/// <summary>
/// What is trained: the imported graph slice from the cut tensor to the feature (or to the backbone's own logits), and a
/// new head when the backbone has no classifier (or only the head is trained).
/// </summary>
internal sealed class FaceBackboneNetwork : nn.Module<Tensor, Tensor>
{
    private readonly OnnxTorchModule suffix;
    private readonly FaceEmotionHead? head;

    public FaceBackboneNetwork(OnnxTorchModule suffix, FaceEmotionHead? head) : base(nameof(FaceBackboneNetwork))
    {
        this.suffix = suffix;
        this.head = head;
        RegisterComponents();
    }

    public OnnxTorchModule Suffix => suffix;

    public FaceEmotionHead? Head => head;

    public override Tensor forward(Tensor x)
    {
        var y = suffix.forward(x);
        return head is null ? y : head.forward(y);
    }
}
