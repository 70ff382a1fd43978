using System.Numerics;
using System.Runtime.InteropServices;

namespace EmotionML.AcousticFeatures;

/// <summary>
/// YIN (de Cheveigné and Kawahara, 2002) on one analysis window: the cumulative-mean-normalised difference function
/// (CMNDF) over lags of half the window, the first lag in the pitch range below the threshold, descended to its local
/// minimum. The same steps and threshold rule as NWaves' <c>Pitch.FromYin</c>, which the stage used before; written
/// here because NWaves computes the difference function for every lag up to half the window with scalar loops (36×
/// slower on the same windows: the acoustic bench's YIN line, docs/performance.md). This one stops at the
/// longest period in range and sums with <see cref="Vector{T}"/> lanes, and returns the integer period: the caller
/// refines it to the autocorrelation peak (NWaves' own parabolic step truncates the period to an integer and can move
/// it a whole sample down, which read a 200 Hz tone as 202 Hz).
/// </summary>
internal static class YinPitch
{
    /// <summary>
    /// The integer period in samples of <paramref name="samples"/>[<paramref name="start"/>, <paramref name="end"/>),
    /// in the range <paramref name="low"/>..<paramref name="high"/> Hz, or 0 when the CMNDF stays at or above
    /// <paramref name="threshold"/> there. <paramref name="scratch"/> holds at least (end − start) / 2 values.
    /// </summary>
    public static int Period(float[] samples, int rate, int start, int end, double low, double high, float threshold, float[] scratch)
    {
        var length = (end - start) / 2;
        var shortest = (int)(rate / high);
        var longest = (int)(rate / low);
        var lags = Math.Min(length, longest + 1);   // the search reads the CMNDF up to the longest period
        if (lags <= shortest || end > samples.Length || scratch.Length < lags) return 0;
        var cmndf = scratch.AsSpan(0, lags);
        var window = samples.AsSpan(start, length);
        for (var lag = 1; lag < lags; lag++) cmndf[lag] = SquaredDistance(window, samples.AsSpan(start + lag, length));
        cmndf[0] = 1;
        var sum = 0f;
        for (var lag = 1; lag < lags; lag++)
        {
            sum += cmndf[lag];
            cmndf[lag] = sum > 0 ? cmndf[lag] * lag / sum : 1;
        }
        var last = Math.Min(longest, lags - 1);
        for (var t = shortest; t < last; t++)
        {
            if (cmndf[t] >= threshold) continue;
            while (t + 1 < last && cmndf[t + 1] < cmndf[t]) t++;
            return t;
        }
        return 0;
    }

    /// <summary>Σ (a − b)² over the two spans (same length).</summary>
    internal static float SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var i = 0;
        var total = 0f;
        if (Vector.IsHardwareAccelerated && a.Length >= Vector<float>.Count)
        {
            var va = MemoryMarshal.Cast<float, Vector<float>>(a);
            var vb = MemoryMarshal.Cast<float, Vector<float>>(b[..a.Length]);
            var acc = Vector<float>.Zero;
            for (var k = 0; k < va.Length; k++)
            {
                var d = va[k] - vb[k];
                acc += d * d;
            }
            total = Vector.Sum(acc);
            i = va.Length * Vector<float>.Count;
        }
        for (; i < a.Length; i++)
        {
            var d = a[i] - b[i];
            total += d * d;
        }
        return total;
    }
}
