using System.Numerics;
using EmotionML.FaceAlignment;

namespace EmotionML.FaceFeatures;

/// <summary>How a frame's feature is built (Zhou et al. 2019, "feature enhancement"). D is the backbone's feature dimension.</summary>
public enum FeatureEnhancement
{
    /// <summary>One feature per frame (D).</summary>
    Basic,
    /// <summary>Mean of the features of 18 transformed copies: rotations {−2°, 0°, 2°} × scales {1, 1.03, 1.07} × {original, mirrored} (D).</summary>
    FMean,
    /// <summary>[mean ; std] of the 18 copies' features (population std) (2D).</summary>
    FMeanStd,
    /// <summary>As <see cref="FMeanStd"/> with rotations {−15°, 0°, 15°} and scales {0.75, 1, 1.25} (2D).</summary>
    FMeanStd2,
    /// <summary>
    /// DFT of the basic feature, X_k = Σ_n f_n e^{−2πikn/D}, divided by the l2 norm of the complex vector (√Σ|X_k|², which is
    /// √D·‖f‖ by Parseval), then [Re X ; Im X] (2D).
    /// </summary>
    FNormFft,
    /// <summary>[F-Mean of the backbone ; F-Mean of the second backbone] (D + D₂).</summary>
    FArMean,
}

/// <summary>One transformed copy of a crop: mirror (optional) then rotation and scale about the crop centre.</summary>
/// <param name="RotationDegrees">Counter-clockwise rotation in degrees (image y points down, so positive turns the picture anticlockwise on screen).</param>
/// <param name="Scale">Zoom factor (&gt; 1 enlarges the face).</param>
/// <param name="Mirror">Horizontal mirror before rotation and scale.</param>
internal readonly record struct CropCopy(double RotationDegrees, double Scale, bool Mirror)
{
    public static readonly CropCopy Identity = new(0, 1, false);

    public bool IsIdentity => RotationDegrees == 0 && Scale == 1 && !Mirror;

    /// <summary>The map from original crop pixels to copy pixels (size × size).</summary>
    public Affine2D Transform(int size)
    {
        var c = size / 2.0;
        var t = Mirror ? new Affine2D(-1, 0, size, 0, 1, 0) : new Affine2D(1, 0, 0, 0, 1, 0);
        var a = -RotationDegrees * Math.PI / 180; // y down: negative angle in maths convention = anticlockwise on screen
        var cos = Math.Cos(a) * Scale; var sin = Math.Sin(a) * Scale;
        var rs = new Affine2D(cos, -sin, c - (cos * c - sin * c), sin, cos, c - (sin * c + cos * c));
        return Compose(rs, t);
    }

    /// <summary>outer ∘ inner: first <paramref name="inner"/>, then <paramref name="outer"/>.</summary>
    public static Affine2D Compose(Affine2D outer, Affine2D inner) => new(
        outer.A00 * inner.A00 + outer.A01 * inner.A10, outer.A00 * inner.A01 + outer.A01 * inner.A11, outer.A00 * inner.Tx + outer.A01 * inner.Ty + outer.Tx,
        outer.A10 * inner.A00 + outer.A11 * inner.A10, outer.A10 * inner.A01 + outer.A11 * inner.A11, outer.A10 * inner.Tx + outer.A11 * inner.Ty + outer.Ty);

    /// <summary>rotations × scales × {original, mirrored} (mirrored only when <paramref name="mirror"/>).</summary>
    public static CropCopy[] Grid(IReadOnlyList<double> rotations, IReadOnlyList<double> scales, bool mirror)
    {
        var list = new List<CropCopy>();
        foreach (var r in rotations)
            foreach (var s in scales)
            {
                list.Add(new CropCopy(r, s, false));
                if (mirror) list.Add(new CropCopy(r, s, true));
            }
        return [.. list];
    }
}

/// <summary>The enhancement arithmetic (pure functions on feature vectors).</summary>
internal static class Enhancement
{
    public static readonly double[] Rotations = [-2, 0, 2];
    public static readonly double[] Scales = [1, 1.03, 1.07];
    public static readonly double[] Rotations2 = [-15, 0, 15];
    public static readonly double[] Scales2 = [0.75, 1, 1.25];

    public static bool UsesCopies(FeatureEnhancement e) => e is FeatureEnhancement.FMean or FeatureEnhancement.FMeanStd or FeatureEnhancement.FMeanStd2 or FeatureEnhancement.FArMean;

    /// <summary>Output dimension per frame.</summary>
    public static int OutputDim(FeatureEnhancement e, int d, int d2) => e switch
    {
        FeatureEnhancement.Basic or FeatureEnhancement.FMean => d,
        FeatureEnhancement.FMeanStd or FeatureEnhancement.FMeanStd2 or FeatureEnhancement.FNormFft => 2 * d,
        FeatureEnhancement.FArMean => d + d2,
        _ => throw new ArgumentOutOfRangeException(nameof(e), e, null),
    };

    /// <summary>Mean (and population std when <paramref name="std"/> is not empty) over the rows of [n, d] <paramref name="features"/>, in double.</summary>
    public static void MeanStd(ReadOnlySpan<float> features, int n, int d, Span<float> mean, Span<float> std)
    {
        for (var j = 0; j < d; j++)
        {
            double s = 0;
            for (var i = 0; i < n; i++) s += features[i * d + j];
            var m = s / n;
            mean[j] = (float)m;
            if (std.IsEmpty) continue;
            double v = 0;
            for (var i = 0; i < n; i++) { var x = features[i * d + j] - m; v += x * x; }
            std[j] = (float)Math.Sqrt(v / n);
        }
    }

    /// <summary>F-NormFFT of <paramref name="f"/> (length D) into <paramref name="output"/> (2D): [Re ; Im] of DFT(f)/‖DFT(f)‖₂.</summary>
    public static void NormFft(ReadOnlySpan<float> f, Span<float> output)
    {
        var d = f.Length;
        var x = new Complex[d];
        for (var i = 0; i < d; i++) x[i] = f[i];
        if (d > 0 && (d & (d - 1)) == 0) Fft(x); else x = Dft(x);
        double norm = 0;
        foreach (var c in x) norm += c.Real * c.Real + c.Imaginary * c.Imaginary;
        norm = Math.Sqrt(norm);
        var inv = norm > 0 ? 1 / norm : 0;
        for (var k = 0; k < d; k++)
        {
            output[k] = (float)(x[k].Real * inv);
            output[d + k] = (float)(x[k].Imaginary * inv);
        }
    }

    /// <summary>In-place iterative radix-2 Cooley–Tukey FFT (length a power of 2), forward sign e^{−2πikn/N}, unscaled.</summary>
    public static void Fft(Complex[] x)
    {
        var n = x.Length;
        for (int i = 1, j = 0; i < n; i++)
        {
            var bit = n >> 1;
            for (; (j & bit) != 0; bit >>= 1) j ^= bit;
            j ^= bit;
            if (i < j) (x[i], x[j]) = (x[j], x[i]);
        }
        for (var len = 2; len <= n; len <<= 1)
        {
            var w = Complex.FromPolarCoordinates(1, -2 * Math.PI / len);
            for (var i = 0; i < n; i += len)
            {
                var wk = Complex.One;
                for (var k = 0; k < len / 2; k++)
                {
                    var u = x[i + k]; var v = x[i + k + len / 2] * wk;
                    x[i + k] = u + v;
                    x[i + k + len / 2] = u - v;
                    wk *= w;
                }
            }
        }
    }

    /// <summary>Direct O(N²) DFT (any length), forward sign, unscaled.</summary>
    public static Complex[] Dft(Complex[] x)
    {
        var n = x.Length;
        var y = new Complex[n];
        for (var k = 0; k < n; k++)
        {
            var s = Complex.Zero;
            for (var t = 0; t < n; t++) s += x[t] * Complex.FromPolarCoordinates(1, -2 * Math.PI * ((long)k * t % n) / n);
            y[k] = s;
        }
        return y;
    }
}
