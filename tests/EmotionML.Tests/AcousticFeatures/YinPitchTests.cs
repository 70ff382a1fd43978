using EmotionML.AcousticFeatures;
using Xunit;

namespace EmotionML.Tests.AcousticFeatures;

/// <summary>
/// The stage's YIN against NWaves' <c>Pitch.FromYin</c> (the implementation it replaced, an independent scalar
/// reference): the same frames voiced, and the same period up to NWaves' integer truncation (NWaves returns
/// rate ÷ period with the period rounded down after its parabolic step, so its period is ours or one sample less).
/// </summary>
public sealed class YinPitchTests
{
    private const int Rate = 16000, Window = 640, Hop = 160;

    /// <summary>Speech-like test signal: a harmonic source whose F0 glides between the given values, with noise and pauses.</summary>
    private static float[] Glide(double from, double to, double seconds, int seed)
    {
        var rng = new Random(seed);
        var n = (int)(seconds * Rate);
        var x = new float[n];
        var phase = 0.0;
        for (var i = 0; i < n; i++)
        {
            var f0 = from + (to - from) * i / n;
            phase += 2 * Math.PI * f0 / Rate;
            var voiced = (i / (Rate / 4)) % 3 != 2;   // every third quarter-second is noise only
            var s = voiced ? Math.Sin(phase) + 0.6 * Math.Sin(2 * phase + 0.3) + 0.3 * Math.Sin(3 * phase + 1.1) : 0;
            x[i] = (float)(0.2 * s + 0.02 * (rng.NextDouble() - 0.5));
        }
        return x;
    }

    [Theory]
    [InlineData(80.0, 140.0, 1)]
    [InlineData(150.0, 320.0, 2)]
    [InlineData(300.0, 480.0, 3)]
    public void VoicesTheSameFramesAsNWavesAndFindsItsPeriodUpToItsTruncation(double from, double to, int seed)
    {
        var x = Glide(from, to, 1.5, seed);
        var scratch = new float[Window / 2];
        int voiced = 0, unvoiced = 0;
        for (var start = 0; start + Window <= x.Length; start += Hop)
        {
            var reference = NWaves.Features.Pitch.FromYin(x, Rate, start, start + Window, 60, 500, AcousticFeatureExtractor.YinThreshold);
            var period = YinPitch.Period(x, Rate, start, start + Window, 60, 500, AcousticFeatureExtractor.YinThreshold, scratch);
            Assert.Equal(reference > 0, period > 0);
            if (period == 0) { unvoiced++; continue; }
            voiced++;
            // NWaves: f0 = rate / t' with t' = period or period − 1 (integer division, so f0 is rounded down too).
            Assert.True(reference == Rate / period || reference == Rate / (period - 1),
                $"frame at {start}: NWaves {reference} Hz, ours period {period} ({Rate / (double)period:0.0} Hz)");
        }
        Assert.True(voiced > 80, $"only {voiced} voiced frames");
        Assert.True(unvoiced > 20, $"only {unvoiced} unvoiced frames");
    }

    [Fact]
    public void SquaredDistanceEqualsTheScalarSumForEveryLengthAroundTheVectorWidth()
    {
        var rng = new Random(5);
        for (var n = 0; n <= 3 * System.Numerics.Vector<float>.Count + 1; n++)
        {
            var a = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble()).ToArray();
            var b = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble()).ToArray();
            var expected = a.Zip(b, (p, q) => (double)(p - q) * (p - q)).Sum();
            Assert.Equal(expected, YinPitch.SquaredDistance(a, b), 4);
        }
    }

    [Fact]
    public void SilenceAndAWindowOutsideTheSamplesHaveNoPeriod()
    {
        var scratch = new float[Window / 2];
        Assert.Equal(0, YinPitch.Period(new float[Window], Rate, 0, Window, 60, 500, 0.2f, scratch));
        Assert.Equal(0, YinPitch.Period(new float[Window - 1], Rate, 0, Window, 60, 500, 0.2f, scratch));
    }
}
