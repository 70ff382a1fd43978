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

/// <summary>Bilinear image warping on packed RGB24 buffers (hand-written: two small loops do not justify a native image library).</summary>
internal static class ImageWarp
{
    /// <summary>
    /// Fills <paramref name="dst"/> (dstW × dstH × 3) with the source image seen through <paramref name="srcToDst"/>:
    /// each destination pixel centre is mapped back into the source and sampled bilinearly; outside is black.
    /// </summary>
    public static void Warp(ReadOnlySpan<byte> src, int srcW, int srcH, Span<byte> dst, int dstW, int dstH, Affine2D srcToDst)
    {
        var inv = srcToDst.Inverse();
        for (var v = 0; v < dstH; v++)
        {
            var row = dst.Slice(v * dstW * 3, dstW * 3);
            // pixel centres: (u + 0.5, v + 0.5) in dst <-> (x + 0.5, y + 0.5) in src; x advances by (A00, A10) per u.
            var (x, y) = inv.Apply(0.5, v + 0.5);
            x -= 0.5; y -= 0.5;
            for (var u = 0; u < dstW; u++, x += inv.A00, y += inv.A10)
            {
                var o = u * 3;
                // Outside the image (beyond the half-pixel border) is black; inside, the border pixels are replicated.
                if (x < -0.5 || y < -0.5 || x > srcW - 0.5 || y > srcH - 0.5)
                {
                    row[o] = row[o + 1] = row[o + 2] = 0;
                    continue;
                }
                var x0 = (int)Math.Floor(x); var y0 = (int)Math.Floor(y);
                var fx = x - x0; var fy = y - y0;
                var xa = Math.Clamp(x0, 0, srcW - 1) * 3; var xb = Math.Clamp(x0 + 1, 0, srcW - 1) * 3;
                var ya = Math.Clamp(y0, 0, srcH - 1) * srcW * 3; var yb = Math.Clamp(y0 + 1, 0, srcH - 1) * srcW * 3;
                var w00 = (1 - fx) * (1 - fy); var w10 = fx * (1 - fy); var w01 = (1 - fx) * fy; var w11 = fx * fy;
                for (var c = 0; c < 3; c++)
                {
                    var value = src[ya + xa + c] * w00 + src[ya + xb + c] * w10 + src[yb + xa + c] * w01 + src[yb + xb + c] * w11;
                    row[o + c] = (byte)(value + 0.5);
                }
            }
        }
    }

}
