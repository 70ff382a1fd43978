using NWaves.FeatureExtractors;
using NWaves.FeatureExtractors.Base;
using NWaves.FeatureExtractors.Options;
using NWaves.Features;
using NWaves.Transforms;
using NWaves.Windows;

namespace EmotionML.AcousticFeatures;

/// <summary>
/// Computes the functionals of <see cref="AcousticFeatureNames"/> for one clip of 16 kHz audio. MFCC, deltas, FFT and
/// spectral shape are NWaves'; YIN is <see cref="YinPitch"/> (NWaves' steps, faster); the framing, voicing decision and functionals are the stage's own (no library
/// here computes utterance functionals). Not thread-safe: one instance per cursor.
/// </summary>
internal sealed class AcousticFeatureExtractor
{
    /// <summary>
    /// Bumped whenever a change moves the values (caches of the functionals key on it). 2: YIN by <see cref="YinPitch"/>,
    /// the period refined around YIN's integer period.
    /// </summary>
    internal const int AlgorithmVersion = 2;

    internal const int Rate = 16000;
    internal const int Hop = 160;
    internal const int PitchWindow = 640;
    internal const int ShortWindow = 400;
    private const int Fft = 512;
    private const int ShortOffset = (PitchWindow - ShortWindow) / 2;
    private readonly AcousticFeaturesOptions _o;
    private readonly MfccExtractor _mfcc;
    private readonly RealFft _fft = new(Fft);
    private readonly float[] _window = Window.OfType(WindowType.Hamming, ShortWindow);
    private readonly float[] _frequencies = Enumerable.Range(0, Fft / 2 + 1).Select(k => (float)k * Rate / Fft).ToArray();
    private readonly float[] _block = new float[Fft];
    private readonly float[] _power = new float[Fft / 2 + 1];
    private readonly float[] _cmndf = new float[PitchWindow / 2];

    /// <summary>YIN's CMNDF threshold (the value NWaves' <c>Pitch.FromYin</c> defaults to).</summary>
    internal const float YinThreshold = 0.2f;

    public AcousticFeatureExtractor(AcousticFeaturesOptions options)
    {
        options.Validate();
        _o = options.Clone();
        _mfcc = new MfccExtractor(new MfccOptions
        {
            SamplingRate = Rate, FeatureCount = AcousticFeatureNames.Mfccs, FrameSize = ShortWindow, HopSize = Hop,
            FilterBankSize = 26, FftSize = Fft, PreEmphasis = 0.97, Window = WindowType.Hamming,
        });
    }

    /// <summary>The count of analysis frames of <paramref name="samples"/> samples (at least 1).</summary>
    public static int FrameCount(int samples) => samples <= PitchWindow ? 1 : 1 + (samples - PitchWindow) / Hop;

    /// <summary>The functionals and the count of active frames of one clip (samples already checked to be finite).</summary>
    public (float[] Values, int ActiveFrames) Compute(float[] audio16k)
    {
        var values = new float[AcousticFeatureNames.Count];
        if (audio16k.Length == 0) return (values, 0);
        var frames = FrameCount(audio16k.Length);
        var padded = new float[Math.Max(audio16k.Length, (frames - 1) * Hop + PitchWindow)];
        audio16k.CopyTo(padded, 0);

        var energy = new double[frames];
        for (var t = 0; t < frames; t++)
        {
            double sum = 0;
            var start = t * Hop + ShortOffset;
            for (var i = 0; i < ShortWindow; i++) sum += padded[start + i] * (double)padded[start + i];
            energy[t] = 10 * Math.Log10(sum / ShortWindow + 1e-10);
        }
        var loudest = energy.Max();
        if (loudest <= -99.9) return (values, 0);   // digital silence
        var active = energy.Select(e => e >= loudest - _o.ActivityRangeDb).ToArray();
        var activeCount = active.Count(a => a);

        var mfcc = _mfcc.ComputeFrom(padded, ShortOffset, ShortOffset + (frames - 1) * Hop + ShortWindow);
        while (mfcc.Count < frames) mfcc.Add(new float[AcousticFeatureNames.Mfccs]);
        if (mfcc.Count > frames) mfcc.RemoveRange(frames, mfcc.Count - frames);
        var withDeltas = mfcc.Select(v => v.ToArray()).ToList();
        FeaturePostProcessing.AddDeltas(withDeltas, null, null, includeDeltaDelta: false, N: 2);

        var zcr = new List<double>();
        var centroid = new List<double>();
        var flatness = new List<double>();
        var rolloff = new List<double>();
        var semitones = new double[frames];
        var voiced = new bool[frames];
        var harmonicity = new List<double>();
        for (var t = 0; t < frames; t++)
        {
            if (!active[t]) continue;
            var start = t * Hop + ShortOffset;
            var crossings = 0;
            for (var i = 1; i < ShortWindow; i++)
                if ((padded[start + i] >= 0) != (padded[start + i - 1] >= 0)) crossings++;
            zcr.Add(crossings / (double)(ShortWindow - 1));
            Array.Clear(_block);
            for (var i = 0; i < ShortWindow; i++) _block[i] = padded[start + i] * _window[i];
            _fft.PowerSpectrum(_block, _power, false);
            centroid.Add(Spectral.Centroid(_power, _frequencies));
            flatness.Add(Spectral.Flatness(_power, 1e-10f));
            rolloff.Add(Spectral.Rolloff(_power, _frequencies, 0.85f));

            var pitchStart = t * Hop;
            var yin = YinPitch.Period(padded, Rate, pitchStart, pitchStart + PitchWindow, _o.PitchFloor, _o.PitchCeiling, YinThreshold, _cmndf);
            if (yin == 0) continue;
            // YIN settles the octave; the period is refined to the autocorrelation peak near YIN's (parabolic interpolation).
            var (period, r) = RefinePeriod(padded, pitchStart, yin);
            if (!(Rate / period >= _o.PitchFloor && Rate / period <= _o.PitchCeiling)) continue;
            if (r < _o.VoicingThreshold) continue;
            voiced[t] = true;
            semitones[t] = 12 * Math.Log2(Rate / period / 27.5);
            var clipped = Math.Clamp(r, 1e-3, 1 - 1e-3);
            harmonicity.Add(10 * Math.Log10(clipped / (1 - clipped)));
        }

        var at = 0;
        var activeIdx = Enumerable.Range(0, frames).Where(t => active[t]).ToArray();
        for (var c = 0; c < AcousticFeatureNames.Mfccs; c++) values[at++] = (float)Mean(activeIdx.Select(t => (double)mfcc[t][c]));
        for (var c = 0; c < AcousticFeatureNames.Mfccs; c++) values[at++] = (float)Std(activeIdx.Select(t => (double)mfcc[t][c]));
        for (var c = 0; c < AcousticFeatureNames.Mfccs; c++) values[at++] = (float)Std(activeIdx.Select(t => (double)withDeltas[t][AcousticFeatureNames.Mfccs + c]));
        var activeEnergy = activeIdx.Select(t => energy[t]).ToArray();
        foreach (var v in new[] { Mean(activeEnergy), Std(activeEnergy), Percentile(activeEnergy, 0.1), Percentile(activeEnergy, 0.5), Percentile(activeEnergy, 0.9) }) values[at++] = (float)v;
        foreach (var list in new[] { zcr, centroid, flatness, rolloff })
        {
            values[at++] = (float)Mean(list);
            values[at++] = (float)Std(list);
        }
        var voicedIdx = Enumerable.Range(0, frames).Where(t => voiced[t]).ToArray();
        var st = voicedIdx.Select(t => semitones[t]).ToArray();
        if (st.Length > 0)
        {
            var p10 = Percentile(st, 0.1);
            var p90 = Percentile(st, 0.9);
            foreach (var v in new[] { Mean(st), Std(st), p10, Percentile(st, 0.5), p90, p90 - p10 }) values[at++] = (float)v;
            var steps = Enumerable.Range(1, frames - 1).Where(t => voiced[t] && voiced[t - 1]).Select(t => Math.Abs(semitones[t] - semitones[t - 1])).ToArray();
            values[at++] = (float)Mean(steps);
            values[at++] = (float)Mean(harmonicity);
            values[at++] = (float)Std(harmonicity);
        }
        else at += 9;
        var segments = 0;
        for (var t = 0; t < frames; t++)
            if (voiced[t] && (t == 0 || !voiced[t - 1])) segments++;
        values[at++] = voicedIdx.Length / (float)activeCount;
        values[at++] = activeCount / (float)frames;
        values[at++] = segments / (frames * Hop / (float)Rate);
        values[at++] = segments == 0 ? 0 : voicedIdx.Length * Hop / (float)Rate / segments;
        return (values, activeCount);
    }

    /// <summary>
    /// The lag (fractional, in samples) of the highest normalised autocorrelation within 2 samples of
    /// <paramref name="lag"/>, refined by a parabola through its neighbours, and that autocorrelation.
    /// </summary>
    internal static (double Period, double Periodicity) RefinePeriod(float[] x, int start, double lag)
    {
        var lo = Math.Max(2, (int)Math.Floor(lag) - 2);
        var hi = Math.Min(PitchWindow / 2, (int)Math.Ceiling(lag) + 2);
        var (best, bestR) = (-1, double.NegativeInfinity);
        for (var l = lo; l <= hi; l++)
        {
            var r = Periodicity(x, start, l);
            if (r > bestR) (best, bestR) = (l, r);
        }
        if (best < 0) return (lag, 0);
        var left = Periodicity(x, start, best - 1);
        var right = Periodicity(x, start, best + 1);
        var curvature = left - 2 * bestR + right;
        var shift = curvature < 0 ? Math.Clamp(0.5 * (left - right) / curvature, -0.5, 0.5) : 0;
        return (best + shift, bestR);
    }

    /// <summary>Normalised autocorrelation of the pitch window at <paramref name="lag"/> samples.</summary>
    internal static double Periodicity(float[] x, int start, int lag)
    {
        if (lag <= 0 || lag >= PitchWindow) return 0;
        double xy = 0, xx = 0, yy = 0;
        for (var i = start; i < start + PitchWindow - lag; i++)
        {
            xy += x[i] * (double)x[i + lag];
            xx += x[i] * (double)x[i];
            yy += x[i + lag] * (double)x[i + lag];
        }
        return xx > 0 && yy > 0 ? xy / Math.Sqrt(xx * yy) : 0;
    }

    private static double Mean(IEnumerable<double> v)
    {
        var a = v as IReadOnlyCollection<double> ?? v.ToArray();
        return a.Count == 0 ? 0 : a.Average();
    }

    /// <summary>Population standard deviation (0 for fewer than two values).</summary>
    private static double Std(IEnumerable<double> v)
    {
        var a = v.ToArray();
        if (a.Length < 2) return 0;
        var m = a.Average();
        return Math.Sqrt(a.Sum(x => (x - m) * (x - m)) / a.Length);
    }

    /// <summary>Linear-interpolation percentile (numpy's default) of <paramref name="v"/>, q in [0, 1].</summary>
    internal static double Percentile(IReadOnlyList<double> v, double q)
    {
        if (v.Count == 0) return 0;
        var s = v.Order().ToArray();
        var pos = q * (s.Length - 1);
        var lo = (int)Math.Floor(pos);
        var hi = Math.Min(lo + 1, s.Length - 1);
        return s[lo] + (pos - lo) * (s[hi] - s[lo]);
    }
}
