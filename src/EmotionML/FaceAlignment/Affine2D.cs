namespace EmotionML.FaceAlignment;

/// <summary>A 2-D affine map u = A·x + t, stored row-major as (a00, a01, tx, a10, a11, ty).</summary>
internal readonly record struct Affine2D(double A00, double A01, double Tx, double A10, double A11, double Ty)
{
    public static Affine2D Scale(double sx, double sy) => new(sx, 0, 0, 0, sy, 0);

    public (double X, double Y) Apply(double x, double y) => (A00 * x + A01 * y + Tx, A10 * x + A11 * y + Ty);

    public Affine2D Inverse()
    {
        var det = A00 * A11 - A01 * A10;
        if (Math.Abs(det) < 1e-12) throw new InvalidOperationException("singular transform");
        var i00 = A11 / det; var i01 = -A01 / det; var i10 = -A10 / det; var i11 = A00 / det;
        return new(i00, i01, -(i00 * Tx + i01 * Ty), i10, i11, -(i10 * Tx + i11 * Ty));
    }

    /// <summary>The scale factor of a similarity transform.</summary>
    public double SimilarityScale => Math.Sqrt(Math.Abs(A00 * A11 - A01 * A10));

    /// <summary>
    /// Least-squares similarity transform (rotation, uniform scale, translation; no reflection) mapping
    /// <paramref name="src"/> points onto <paramref name="dst"/> points (closed form of Umeyama 1991 in 2-D).
    /// </summary>
    public static Affine2D FitSimilarity(ReadOnlySpan<(double X, double Y)> src, ReadOnlySpan<(double X, double Y)> dst)
    {
        if (src.Length != dst.Length || src.Length < 2) throw new ArgumentException("need at least two point pairs");
        double sx = 0, sy = 0, dx = 0, dy = 0;
        for (var i = 0; i < src.Length; i++) { sx += src[i].X; sy += src[i].Y; dx += dst[i].X; dy += dst[i].Y; }
        sx /= src.Length; sy /= src.Length; dx /= src.Length; dy /= src.Length;
        double num_a = 0, num_b = 0, den = 0;
        for (var i = 0; i < src.Length; i++)
        {
            var xc = src[i].X - sx; var yc = src[i].Y - sy; var uc = dst[i].X - dx; var vc = dst[i].Y - dy;
            num_a += xc * uc + yc * vc;
            num_b += xc * vc - yc * uc;
            den += xc * xc + yc * yc;
        }
        if (den < 1e-12) throw new ArgumentException("source points coincide");
        var a = num_a / den; var b = num_b / den;
        return new(a, -b, dx - (a * sx - b * sy), b, a, dy - (b * sx + a * sy));
    }
}
