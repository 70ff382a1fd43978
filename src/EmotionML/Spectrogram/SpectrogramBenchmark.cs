using System.Diagnostics;

namespace EmotionML.Spectrogram;

/// <summary>Throughput of the speech spectrogram, in seconds of audio processed per second of wall time.</summary>
/// <param name="StageSecondsPerSecond">The NWaves-based extractor (log power, 200 bins).</param>
/// <param name="BaselineSecondsPerSecond">A straightforward per-frame double-precision radix-2 FFT of the same frames.</param>
/// <param name="AudioSeconds">Seconds of audio per run.</param>
internal sealed record SpectrogramBenchmarkResult(double StageSecondsPerSecond, double BaselineSecondsPerSecond, double AudioSeconds);

/// <summary>Measures the speech spectrogram against a plain FFT baseline (for the CLI <c>bench</c> command).</summary>
internal static class SpectrogramBenchmark
{
    /// <summary>Runs both on <paramref name="audioSeconds"/> s of synthetic noise, best of <paramref name="repeats"/> runs each.</summary>
    public static SpectrogramBenchmarkResult Run(double audioSeconds = 60, int repeats = 3)
    {
        var n = (int)(audioSeconds * AudioResampling.TargetRate);
        var random = new Random(1234);
        var audio = new float[n];
        for (var i = 0; i < n; i++) audio[i] = (float)(random.NextDouble() * 2 - 1) * 0.3f;
        var frames = Framing.FrameCount(n);
        var extractor = new SpeechSpectrogramExtractor(new SpeechSpectrogramOptions { Frames = frames });
        var stage = Best(repeats, () => extractor.Compute(audio));
        var baseline = Best(repeats, () => BaselineSpectrogram(audio, 200));
        return new SpectrogramBenchmarkResult(audioSeconds / stage, audioSeconds / baseline, audioSeconds);
    }

    private static double Best(int repeats, Action action)
    {
        action(); // warm-up
        var best = double.MaxValue;
        for (var r = 0; r < Math.Max(1, repeats); r++)
        {
            var sw = Stopwatch.StartNew();
            action();
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return best;
    }

    /// <summary>Log-power spectrogram with a textbook complex radix-2 FFT in double precision, one frame at a time.</summary>
    internal static double[] BaselineSpectrogram(float[] audio, int bins)
    {
        const int w = Framing.WindowSize, hop = Framing.HopSize, size = Framing.FftSize;
        var frames = Framing.FrameCount(audio.Length);
        var window = new double[w];
        for (var i = 0; i < w; i++) window[i] = 0.54 - 0.46 * Math.Cos(2 * Math.PI * i / (w - 1));
        var re = new double[size];
        var im = new double[size];
        var output = new double[frames * bins];
        for (var t = 0; t < frames; t++)
        {
            Array.Clear(re);
            Array.Clear(im);
            for (var i = 0; i < w; i++) re[i] = audio[t * hop + i] * window[i];
            Fft(re, im);
            for (var k = 0; k < bins; k++) output[t * bins + k] = Math.Log(re[k] * re[k] + im[k] * im[k] + 1e-10);
        }
        return output;
    }

    private static void Fft(double[] re, double[] im)
    {
        var n = re.Length;
        for (int i = 1, j = 0; i < n; i++)
        {
            var bit = n >> 1;
            for (; (j & bit) != 0; bit >>= 1) j ^= bit;
            j ^= bit;
            if (i < j)
            {
                (re[i], re[j]) = (re[j], re[i]);
                (im[i], im[j]) = (im[j], im[i]);
            }
        }
        for (var len = 2; len <= n; len <<= 1)
        {
            var angle = -2 * Math.PI / len;
            for (var i = 0; i < n; i += len)
            {
                for (var k = 0; k < len / 2; k++)
                {
                    double wr = Math.Cos(angle * k), wi = Math.Sin(angle * k);
                    int a = i + k, b = i + k + len / 2;
                    double xr = re[b] * wr - im[b] * wi, xi = re[b] * wi + im[b] * wr;
                    re[b] = re[a] - xr;
                    im[b] = im[a] - xi;
                    re[a] += xr;
                    im[a] += xi;
                }
            }
        }
    }
}
