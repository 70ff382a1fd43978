using EmotionML.AcousticFeatures;
using EmotionML.Core;
using EmotionML.Tests.Spectrogram;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace EmotionML.Tests.AcousticFeatures;

/// <summary>
/// The acoustic functionals against closed-form answers on synthetic signals (a harmonic tone of known pitch, its
/// scaled copy, noise, silence), a real-speech fact (RAVDESS actresses speak higher than actors), and bad input.
/// </summary>
public sealed class AcousticFeaturesTests
{
    private sealed class AudioRow
    {
        public float[] Audio { get; set; } = [];
    }

    private static float[] Tone(double f0, double seconds, double amp = 0.3, int rate = 16000)
        => Enumerable.Range(0, (int)(seconds * rate)).Select(i =>
            (float)(amp * (Math.Sin(2 * Math.PI * f0 * i / rate) + 0.5 * Math.Sin(2 * Math.PI * 2 * f0 * i / rate) + 0.25 * Math.Sin(2 * Math.PI * 3 * f0 * i / rate)))).ToArray();

    private static float[] Features(float[] audio, AcousticFeaturesOptions? o = null) => new AcousticFeatureExtractor(o ?? new AcousticFeaturesOptions()).Compute(audio).Values;

    private static float At(float[] v, string name) => v[AcousticFeatureNames.IndexOf(name)];

    [Fact]
    public void NamesCoverEverySlotOnce()
    {
        Assert.Equal(65, AcousticFeatureNames.Count);
        Assert.Equal(AcousticFeatureNames.Count, AcousticFeatureNames.All.Distinct().Count());
        Assert.Equal(65, Features(Tone(200, 1)).Length);
        var e = Assert.Throws<ArgumentException>(() => AcousticFeatureNames.IndexOf("f0"));
        Assert.StartsWith("No acoustic feature is named 'f0'", e.Message);
    }

    [Theory]
    [InlineData(110.0)]
    [InlineData(200.0)]
    [InlineData(330.0)]
    public void AHarmonicToneGivesItsPitchInSemitonesAndIsVoicedThroughout(double f0)
    {
        var v = Features(Tone(f0, 1.5));
        var expected = 12 * Math.Log2(f0 / 27.5);
        Assert.Equal(expected, At(v, "f0_semitones_mean"), 0.15);
        Assert.Equal(expected, At(v, "f0_semitones_p50"), 0.15);
        Assert.True(At(v, "f0_semitones_std") < 0.1, $"std {At(v, "f0_semitones_std")}");
        Assert.True(At(v, "voiced_share") > 0.95, $"voiced share {At(v, "voiced_share")}");
        Assert.Equal(1f, At(v, "active_share"), 3);
        // One voiced segment over the clip.
        Assert.Equal(1 / 1.5, At(v, "voiced_segments_per_s"), 0.05);
        Assert.True(At(v, "harmonicity_db_mean") > 15, $"harmonicity {At(v, "harmonicity_db_mean")}");
    }

    [Fact]
    public void DoublingTheAmplitudeAddsSixDecibelsAndLeavesPitchAndSpectralShape()
    {
        var quiet = Features(Tone(180, 1, amp: 0.1));
        var loud = Features(Tone(180, 1, amp: 0.2));
        var sixDb = 20 * Math.Log10(2);
        foreach (var name in new[] { "energy_db_mean", "energy_db_p10", "energy_db_p50", "energy_db_p90" })
            Assert.Equal(At(quiet, name) + sixDb, At(loud, name), 0.01);
        foreach (var name in new[] { "f0_semitones_mean", "centroid_hz_mean", "rolloff85_hz_mean", "zcr_mean", "mfcc1_mean", "mfcc5_std", "voiced_share" })
            Assert.Equal(At(quiet, name), At(loud, name), 0.02);
    }

    [Fact]
    public void WhiteNoiseIsUnvoicedFlatAndCentredNearTheMiddleOfTheBand()
    {
        var rng = new Random(3);
        var noise = Enumerable.Range(0, 16000).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var v = Features(noise);
        Assert.True(At(v, "voiced_share") < 0.05, $"voiced share {At(v, "voiced_share")}");
        Assert.Equal(0f, At(v, "f0_semitones_mean"));
        // Flat spectrum 0..8 kHz: centroid 4 kHz, 85 % roll-off at 6.8 kHz, zero-crossing rate 1/2.
        Assert.Equal(4000.0, At(v, "centroid_hz_mean"), 250.0);
        Assert.Equal(6800.0, At(v, "rolloff85_hz_mean"), 300.0);
        Assert.Equal(0.5, At(v, "zcr_mean"), 0.03);
        Assert.True(At(v, "flatness_mean") > 0.4, $"flatness {At(v, "flatness_mean")}");
        Assert.True(At(Features(Tone(200, 1)), "flatness_mean") < 0.05);
    }

    [Fact]
    public void SilenceAndEmptyAudioGiveZerosWithNoActiveFramesAndTrailingSilenceOnlyLowersTheActiveShare()
    {
        var extractor = new AcousticFeatureExtractor(new AcousticFeaturesOptions());
        Assert.Equal((new float[65], 0), (extractor.Compute(new float[8000]).Values, extractor.Compute(new float[8000]).ActiveFrames), new TupleComparer());
        Assert.Equal(0, extractor.Compute([]).ActiveFrames);
        Assert.All(extractor.Compute([]).Values, x => Assert.Equal(0f, x));

        var tone = Tone(200, 1);
        var padded = tone.Concat(new float[16000]).ToArray();
        var a = extractor.Compute(tone);
        var b = extractor.Compute(padded);
        // The tone's last frames become whole once silence follows: up to 4 more active frames.
        Assert.InRange(b.ActiveFrames, a.ActiveFrames, a.ActiveFrames + 4);
        Assert.Equal(At(a.Values, "active_share") / 2, At(b.Values, "active_share"), 0.02);
        Assert.Equal(At(a.Values, "f0_semitones_mean"), At(b.Values, "f0_semitones_mean"), 0.01);
    }

    private sealed class TupleComparer : IEqualityComparer<(float[], int)>
    {
        public bool Equals((float[], int) x, (float[], int) y) => x.Item2 == y.Item2 && x.Item1.SequenceEqual(y.Item1);

        public int GetHashCode((float[], int) obj) => obj.Item2;
    }

    [Fact]
    public void RavdessActressesSpeakHigherThanActorsByMoreThanFourSemitones()
    {
        // RAVDESS: odd actors are men, even actors women. Neutral and calm statements of actors 01/03 against 02/04.
        var lines = File.ReadLines(TestData.Ravdess("labels.csv")).Skip(1).Select(l => l.Split(','))
            .Where(p => p[1] is "neutral" or "calm" && p[6] is "01" or "02" or "03" or "04").ToList();
        double MeanPitch(params string[] actors) => lines.Where(p => actors.Contains(p[6])).Take(8 * actors.Length)
            .Select(p => (double)At(Features(SpectrogramTests.Decode(TestData.Ravdess(p[0]))), "f0_semitones_mean")).Average();
        var men = MeanPitch("01", "03");
        var women = MeanPitch("02", "04");
        Assert.True(women - men > 4, $"women {women:F1} st, men {men:F1} st");
        // Both in the range of speech: 80–350 Hz.
        Assert.InRange(men, 12 * Math.Log2(80 / 27.5), 12 * Math.Log2(350 / 27.5));
        Assert.InRange(women, 12 * Math.Log2(80 / 27.5), 12 * Math.Log2(350 / 27.5));
    }

    [Fact]
    public void PercentileInterpolatesLikeNumpy()
    {
        // numpy.percentile([1, 2, 3, 4], [10, 50, 90]) = 1.3, 2.5, 3.7
        Assert.Equal(1.3, AcousticFeatureExtractor.Percentile([4, 1, 3, 2], 0.1), 9);
        Assert.Equal(2.5, AcousticFeatureExtractor.Percentile([4, 1, 3, 2], 0.5), 9);
        Assert.Equal(3.7, AcousticFeatureExtractor.Percentile([4, 1, 3, 2], 0.9), 9);
    }

    [Fact]
    public void TheStageGivesTheExtractorsValuesResamplesOtherRatesAndRejectsBadSamples()
    {
        var ml = new MLContext(1);
        var tone = Tone(220, 1);
        var data = ml.Data.LoadFromEnumerable(new[] { new AudioRow { Audio = tone }, new AudioRow { Audio = [] } });
        var output = ml.Transforms.ExtractAcousticFeatures().Fit(data).Transform(data);
        var values = output.GetColumn<float[]>("AcousticFeatures").ToArray();
        var frames = output.GetColumn<int>("AcousticFrames").ToArray();
        Assert.Equal(Features(tone), values[0]);
        Assert.Equal(0, frames[1]);
        Assert.All(values[1], x => Assert.Equal(0f, x));

        // The same tone at 8 kHz is resampled: the same pitch.
        var tone8k = Tone(220, 1, rate: 8000);
        var data8k = ml.Data.LoadFromEnumerable(new[] { new AudioRow { Audio = tone8k } });
        var at8k = ml.Transforms.ExtractAcousticFeatures(new AcousticFeaturesOptions { SampleRate = 8000 }).Fit(data8k).Transform(data8k).GetColumn<float[]>("AcousticFeatures").Single();
        Assert.Equal(At(values[0], "f0_semitones_mean"), At(at8k, "f0_semitones_mean"), 0.1);

        var bad = tone.ToArray();
        bad[100] = float.NaN;
        var nan = ml.Data.LoadFromEnumerable(new[] { new AudioRow { Audio = bad } });
        var e = Assert.Throws<InvalidInputException>(() => ml.Transforms.ExtractAcousticFeatures().Fit(nan).Transform(nan).GetColumn<float[]>("AcousticFeatures").ToArray());
        Assert.Contains("sample 100 of 16000 is NaN", e.Message);
        var empty = ml.Data.LoadFromEnumerable(new[] { new AudioRow { Audio = [] } });
        var e2 = Assert.Throws<InvalidInputException>(() => ml.Transforms.ExtractAcousticFeatures(new AcousticFeaturesOptions { RejectEmptyAudio = true }).Fit(empty).Transform(empty).GetColumn<float[]>("AcousticFeatures").ToArray());
        Assert.Contains("the audio is empty", e2.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ExtractAcousticFeatures(new AcousticFeaturesOptions { PitchFloor = 300, PitchCeiling = 200 }));
    }
}
