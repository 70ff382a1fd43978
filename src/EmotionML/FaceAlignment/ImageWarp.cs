namespace EmotionML.FaceAlignment;

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
