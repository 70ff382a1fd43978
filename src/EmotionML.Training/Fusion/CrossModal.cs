using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EmotionML.Training.Fusion;

/// <summary>Cross-modal fusion of the pooled audio and face vectors.</summary>
public enum FusionKind
{
    /// <summary>Factorized bilinear pooling.</summary>
    Fbp,
    /// <summary>Concatenation [a ; v] (baseline).</summary>
    Concat,
}

/// <summary>Fuses a pooled audio vector a [B,m] and a pooled visual vector v [B,n]: <c>forward(a, v)</c> → [B, <see cref="OutputDim"/>].</summary>
public abstract class CrossModalFusion : nn.Module<Tensor, Tensor, Tensor>
{
    /// <summary>Creates the module.</summary>
    protected CrossModalFusion(string name, int audioDim, int visualDim) : base(name)
    {
        if (audioDim <= 0 || visualDim <= 0) throw new ArgumentOutOfRangeException(nameof(audioDim), "Dimensions must be positive.");
        AudioDim = audioDim;
        VisualDim = visualDim;
    }

    /// <summary>m, the audio vector's dimension.</summary>
    public int AudioDim { get; }

    /// <summary>n, the visual vector's dimension.</summary>
    public int VisualDim { get; }

    /// <summary>The fused vector's dimension.</summary>
    public abstract int OutputDim { get; }

    /// <summary>Which fusion this is.</summary>
    public abstract FusionKind Kind { get; }
}

/// <summary>Concatenation baseline: [a ; v], output m + n.</summary>
public sealed class ConcatFusion : CrossModalFusion
{
    /// <summary>Creates the module.</summary>
    public ConcatFusion(int audioDim, int visualDim) : base(nameof(ConcatFusion), audioDim, visualDim) => RegisterComponents();

    /// <inheritdoc/>
    public override int OutputDim => AudioDim + VisualDim;

    /// <inheritdoc/>
    public override FusionKind Kind => FusionKind.Concat;

    /// <inheritdoc/>
    public override Tensor forward(Tensor audio, Tensor visual) => cat([audio, visual], 1);
}

/// <summary>
/// Factorized bilinear pooling (MFB family): z = SumPool(Ũᵀa ∘ Ṽᵀv, k) — two Linear layers to o·k, element-wise
/// product, dropout, sums over non-overlapping windows of k consecutive entries → [B,o]; optionally the signed square
/// root sign(z)·√(|z| + 1e-8) (the small constant keeps the gradient finite at 0); then z / max(‖z‖₂, 1e-12).
/// </summary>
public sealed class FactorizedBilinearPooling : CrossModalFusion
{
    /// <summary>The constant inside the signed square root.</summary>
    public const float SqrtEpsilon = 1e-8f;

    /// <summary>The lower bound of the norm in the l2-normalisation.</summary>
    public const float NormEpsilon = 1e-12f;

    private readonly Linear audioProjection;
    private readonly Linear visualProjection;
    private readonly Dropout dropout;

    /// <summary>Creates FBP of a ∈ ℝᵐ and v ∈ ℝⁿ to o dimensions with factor k.</summary>
    public FactorizedBilinearPooling(int audioDim, int visualDim, int outputDim, int factor, double dropout = 0.1, bool signedSqrt = true)
        : base(nameof(FactorizedBilinearPooling), audioDim, visualDim)
    {
        if (outputDim <= 0 || factor <= 0) throw new ArgumentOutOfRangeException(nameof(outputDim), "o and k must be positive.");
        Output = outputDim;
        Factor = factor;
        SignedSqrt = signedSqrt;
        audioProjection = nn.Linear(audioDim, outputDim * factor);
        visualProjection = nn.Linear(visualDim, outputDim * factor);
        this.dropout = nn.Dropout(dropout);
        RegisterComponents();
    }

    /// <summary>o.</summary>
    public int Output { get; }

    /// <summary>k, the sum-pooling window.</summary>
    public int Factor { get; }

    /// <summary>Whether the signed square root is applied before l2-normalisation.</summary>
    public bool SignedSqrt { get; }

    /// <summary>Ũ: Linear(m → o·k).</summary>
    public Linear AudioProjection => audioProjection;

    /// <summary>Ṽ: Linear(n → o·k).</summary>
    public Linear VisualProjection => visualProjection;

    /// <inheritdoc/>
    public override int OutputDim => Output;

    /// <inheritdoc/>
    public override FusionKind Kind => FusionKind.Fbp;

    /// <inheritdoc/>
    public override Tensor forward(Tensor audio, Tensor visual)
    {
        var z = dropout.forward(audioProjection.forward(audio) * visualProjection.forward(visual));
        z = z.reshape(-1, Output, Factor).sum(2);
        // Explicit Scalars kept alive around the calls (see AttentionPooling.Normalise).
        using var sqrtEps = SqrtEpsilon.ToScalar();
        using var normEps = NormEpsilon.ToScalar();
        // add(x, alpha) with an explicit alpha: `tensor + scalar` is add(x) = add(x, 1), whose implicit alpha Scalar can
        // be finalized while libtorch reads it (seen as "Expected false to be true" from Scalar::toFloat in add_Scalar).
        using var one = 1f.ToScalar();
        if (SignedSqrt) z = z.sign() * z.abs().add(sqrtEps, one).sqrt();
        // z·z, not square(): TorchSharp's square() is pow with an implicit temporary Scalar (use-after-free under GC pressure).
        return z / (z * z).sum(1, keepdim: true).sqrt().clamp_min(normEps);
    }
}
