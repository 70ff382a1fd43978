using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EmotionML.Training.Fusion;

/// <summary>
/// Per-dimension standardisation of a feature set, <c>(x − mean) · scale</c> on [B,N,d], with fixed (not trained)
/// mean and scale. Part of <see cref="FusionHead"/> (and of its ONNX graph), so a saved head standardises its inputs
/// exactly as it did in training. Identity until <see cref="Fit"/> or <see cref="Set"/>.
/// </summary>
public sealed class FeatureStandardizer : nn.Module<Tensor, Tensor>
{
    private readonly Parameter mean;
    private readonly Parameter scale;

    /// <summary>Creates the identity standardisation of d-dimensional features.</summary>
    public FeatureStandardizer(int dim) : base(nameof(FeatureStandardizer))
    {
        if (dim <= 0) throw new ArgumentOutOfRangeException(nameof(dim), "The feature dimension must be positive.");
        Dim = dim;
        // The initial values in variables disposed after the Parameters exist: an unreferenced temporary passed on can
        // be finalised (its native tensor freed) while the native call still reads it.
        using var zero = zeros(dim);
        using var one = ones(dim);
        mean = new Parameter(zero, requires_grad: false);
        scale = new Parameter(one, requires_grad: false);
        RegisterComponents();
    }

    /// <summary>The feature dimension d.</summary>
    public int Dim { get; }

    /// <summary>The mean subtracted [d].</summary>
    public Tensor Mean => mean;

    /// <summary>The factor applied after the subtraction [d] (1 / std).</summary>
    public Tensor Scale => scale;

    /// <summary>Sets the mean and the scale (length d each; the scale must be finite and positive).</summary>
    public void Set(float[] meanValues, float[] scaleValues)
    {
        if (meanValues.Length != Dim || scaleValues.Length != Dim) throw new ArgumentException($"Mean and scale must have {Dim} values.");
        if (meanValues.Any(v => !float.IsFinite(v)) || scaleValues.Any(v => !float.IsFinite(v) || v <= 0)) throw new ArgumentException("Mean must be finite and scale finite and positive.");
        using var _ = no_grad();
        using var m = tensor(meanValues);
        using var s = tensor(scaleValues);
        mean.copy_(m);
        scale.copy_(s);
    }

    /// <summary>
    /// Fits mean and 1/std per dimension on the real items (mask &gt; 0.5) of <paramref name="rows"/> of
    /// <paramref name="values"/> (each [items·d], item-major). A dimension whose variance is below 10⁻³ of the mean
    /// variance is scaled as if its variance were that floor (so constant dimensions stay near 0). Returns the items used.
    /// </summary>
    public int Fit(float[][] values, float[][] masks, IReadOnlyList<int> rows)
    {
        var d = Dim;
        var sum = new double[d];
        var sq = new double[d];
        var count = 0;
        foreach (var r in rows)
        {
            var v = values[r];
            var m = masks[r];
            for (var i = 0; i < m.Length; i++)
            {
                if (m[i] <= 0.5f) continue;
                count++;
                var item = v.AsSpan(i * d, d);
                for (var j = 0; j < d; j++) { sum[j] += item[j]; sq[j] += (double)item[j] * item[j]; }
            }
        }
        if (count == 0) return 0;
        var mu = new float[d];
        var variance = new double[d];
        for (var j = 0; j < d; j++)
        {
            mu[j] = (float)(sum[j] / count);
            variance[j] = Math.Max(0, sq[j] / count - (sum[j] / count) * (sum[j] / count));
        }
        var floor = Math.Max(1e-3 * variance.Average(), 1e-12);
        Set(mu, variance.Select(v => (float)(1 / Math.Sqrt(Math.Max(v, floor)))).ToArray());
        return count;
    }

    /// <summary>(x − mean) · scale over the last axis.</summary>
    public override Tensor forward(Tensor x) => (x - mean) * scale;
}
