using EmotionML.AcousticFeatures;
using EmotionML.Spectrogram;

namespace EmotionML.Benchmarks.Stages;

/// <summary>
/// The 65 acoustic functionals (<see cref="AcousticFeatureNames"/>) of the clips' 16 kHz audio against the same kind of
/// feature set written with aubio (Debian's python3-aubio: YIN pitch, MFCC, spectral centroid and roll-off, zero
/// crossings; energy, flatness, deltas and the functionals with numpy), the way a Python user without openSMILE would
/// compute them, on the same samples. openSMILE and librosa are PyPI-only, and PyPI is not reachable from this machine;
/// aubio is the speech-analysis library Debian packages. Agreement: each clip's median F0 in semitones
/// (<c>f0_semitones_p50</c>) against aubio YIN's median over its confident frames.
/// </summary>
internal sealed class AcousticBenchStage : IBenchStage
{
    public string Name => "acoustic";
    public string Description => "acoustic functionals (MFCC, energy, YIN pitch, spectral shape, voicing) of the clips' 16 kHz audio vs the same feature set written with aubio + numpy on the same samples; F0 agreement per clip";
    public int Steps(BenchContext context) => context.Clips.Count + 2;


    /// <summary>
    /// The aubio side: per clip, frames of 10 ms; YIN over 40 ms (tolerance 0.2, 60–500 Hz, confidence ≥ 0.8), MFCC
    /// c0–c12 from 26 bands of a 512-point FFT, centroid, 85 % roll-off, flatness, ZCR and energy of the frame; active
    /// frames within 40 dB of the loudest; the same functionals as the stage. Writes per clip: median F0 in semitones
    /// (NaN when no frame is voiced), voiced frames, and the mean power-weighted centroid in Hz of aubio's spectra (the
    /// stage's definition; aubio's own specdesc centroid weights by magnitude, which puts it higher).
    /// </summary>
    internal const string AubioScript = """
        import sys, time
        import numpy as np
        import aubio
        audio = np.fromfile(sys.argv[1], dtype=np.float32)
        lengths = [int(v) for v in open(sys.argv[2]).read().split()]
        repeat = int(sys.argv[3])
        RATE, HOP, WIN, FFT, SHORT = 16000, 160, 640, 512, 400
        clips, at = [], 0
        for n in lengths:
            clips.append(audio[at:at + n]); at += n
        def stats(v):
            v = np.asarray(v, np.float64)
            return [v.mean(), v.std()] if v.size else [0.0, 0.0]
        def functionals(x):
            n = 1 if len(x) <= WIN else 1 + (len(x) - WIN) // HOP
            x = np.concatenate([x, np.zeros(max(0, n * HOP + WIN - len(x)), np.float32)])
            pitch = aubio.pitch("yin", WIN, HOP, RATE); pitch.set_unit("Hz"); pitch.set_tolerance(0.2)
            pv = aubio.pvoc(FFT, HOP); mfcc = aubio.mfcc(FFT, 26, 13, RATE)
            centroid = aubio.specdesc("centroid", FFT); rolloff = aubio.specdesc("rolloff", FFT)
            f0, conf, mf, ce, ro, fl, zc, en, cp = [], [], [], [], [], [], [], [], []
            freqs = np.arange(FFT // 2 + 1) * RATE / FFT
            for t in range(n):
                hop = x[t * HOP:(t + 1) * HOP]
                f0.append(pitch(hop)[0]); conf.append(pitch.get_confidence())
                spec = pv(hop)
                mf.append(np.array(mfcc(spec))); ce.append(centroid(spec)[0] * RATE / FFT); ro.append(rolloff(spec)[0] * RATE / FFT)
                p = np.asarray(spec.norm, np.float64) ** 2 + 1e-10
                fl.append(np.exp(np.log(p).mean()) / p.mean()); cp.append((p * freqs).sum() / p.sum())
                frame = x[t * HOP + 120:t * HOP + 120 + SHORT]
                zc.append(aubio.zero_crossing_rate(frame))
                en.append(10 * np.log10(np.mean(frame.astype(np.float64) ** 2) + 1e-10))
            en = np.array(en); active = en >= en.max() - 40
            mf = np.array(mf)[active]; delta = np.gradient(mf, axis=0) if len(mf) > 1 else np.zeros_like(mf)
            f0 = np.array(f0); voiced = active & (np.array(conf) >= 0.8) & (f0 >= 60) & (f0 <= 500)
            st = 12 * np.log2(f0[voiced] / 27.5)
            out = list(mf.mean(0)) + list(mf.std(0)) + list(delta.std(0))
            e = en[active]; out += [e.mean(), e.std()] + list(np.percentile(e, [10, 50, 90]))
            for v in (zc, ce, fl, ro): out += stats(np.array(v)[active])
            if st.size:
                p10, p50, p90 = np.percentile(st, [10, 50, 90])
                out += [st.mean(), st.std(), p10, p50, p90, p90 - p10]
            else:
                out += [0.0] * 6
            out += [voiced.sum() / max(1, active.sum()), active.mean()]
            return np.array(out), (np.median(st) if st.size else np.nan), float(voiced.sum()), float(np.mean(np.array(cp)[active]))
        def run():
            return [functionals(x) for x in clips]
        run()
        best = float("inf")
        for _ in range(repeat):
            t = time.perf_counter(); results = run(); best = min(best, time.perf_counter() - t)
        np.array([[r[1], r[2], r[3]] for r in results], np.float64).ravel().tofile(sys.argv[4])
        print(best)
        """;

    public IReadOnlyList<BenchRow> Run(BenchContext context, Action<string?> step)
    {
        var audio = context.DecodeAudio(step);
        var seconds = audio.Sum(a => a.Length) / (double)AudioResampling.TargetRate;
        var extractor = new AcousticFeatureExtractor(new AcousticFeaturesOptions());
        var ours = new float[audio.Count][];
        foreach (var a in audio) extractor.Compute(a);   // warm-up over every clip: the JIT's optimised tier, not its first one
        var best = Timing.BestOf(context.Repeat, Enumerable.Range(0, audio.Count).ToList(), [i => ours[i] = extractor.Compute(audio[i]).Values]);
        // The YIN step alone over every 40 ms window: the stage's YinPitch against NWaves' Pitch.FromYin (which it replaced).
        var windows = Enumerable.Range(0, audio.Count).SelectMany(i => Enumerable.Range(0, Math.Max(0, (audio[i].Length - AcousticFeatureExtractor.PitchWindow) / AcousticFeatureExtractor.Hop + 1))
            .Select(t => (Clip: i, Start: t * AcousticFeatureExtractor.Hop))).ToList();
        var scratch = new float[AcousticFeatureExtractor.PitchWindow / 2];
        IReadOnlyList<int> once = audio.Count == 0 ? [] : [0];
        var yin = Timing.BestOf(context.Repeat, once, new List<Action<int>>
        {
            _ => { foreach (var (c, s) in windows) YinPitch.Period(audio[c], AcousticFeatureExtractor.Rate, s, s + AcousticFeatureExtractor.PitchWindow, 60, 500, AcousticFeatureExtractor.YinThreshold, scratch); },
            _ => { foreach (var (c, s) in windows) NWaves.Features.Pitch.FromYin(audio[c], AcousticFeatureExtractor.Rate, s, s + AcousticFeatureExtractor.PitchWindow, 60, 500, AcousticFeatureExtractor.YinThreshold); },
        });
        step("EmotionML");
        var peer = PythonPeer.Run(AubioScript, audio, context.Repeat, "aubio/numpy (Debian's python3-aubio)");
        step("aubio");
        string Rate(double s) => BenchContext.F(seconds / s, "0");
        var notes = $"{audio.Count} clips, {seconds:0} s of audio, best of {context.Repeat}";
        if (peer.Seconds is not { } aubio)
        {
            context.Facts.Add($"aubio peer not run: {peer.Why}. Install Debian's python3-aubio (scripts/setup.sh does).");
            return [new BenchRow(Name, "audio s per s (65 functionals)", Rate(best[0]), "aubio + numpy", "absent", null, peer.Why)];
        }
        var median = AcousticFeatureNames.IndexOf("f0_semitones_p50");
        var share = AcousticFeatureNames.IndexOf("voiced_share");
        var centroid = AcousticFeatureNames.IndexOf("centroid_hz_mean");
        var differences = new List<double>();
        var centroidRatio = new List<double>();
        for (var i = 0; i < audio.Count; i++)
        {
            var aubioMedian = peer.Values[3 * i];
            if (ours[i][share] > 0 && !double.IsNaN(aubioMedian)) differences.Add(Math.Abs(ours[i][median] - aubioMedian));
            if (peer.Values[3 * i + 2] > 0) centroidRatio.Add(ours[i][centroid] / peer.Values[3 * i + 2]);
        }
        var within = differences.Count(d => d <= 1.0);
        var medianDifference = differences.Count == 0 ? double.NaN : differences.Order().ElementAt(differences.Count / 2);
        context.Facts.Add($"Acoustic agreement with aubio: per-clip median F0 within 1 semitone of aubio YIN's on {within}/{differences.Count} clips " +
                          $"with voiced frames on both sides (median |difference| {medianDifference:0.00} semitone); mean spectral centroid EmotionML ÷ aubio " +
                          $"{(centroidRatio.Count == 0 ? double.NaN : centroidRatio.Average()):0.00} (both power-weighted; 25 ms Hamming frames vs aubio's 32 ms Hann).");
        return
        [
            new BenchRow(Name, "audio s per s (65 functionals)", Rate(best[0]), "aubio (YIN, MFCC, specdesc) + numpy functionals", Rate(aubio) + " audio s/s", aubio / best[0],
                notes + $"; F0 medians within 1 semitone on {within}/{differences.Count} clips") { Headline = true, Goal = "≥ 1" },
            new BenchRow(Name, "audio s per s, YIN alone (every 40 ms window)", Rate(yin[0]), "NWaves Pitch.FromYin, same windows", Rate(yin[1]) + " audio s/s", yin[1] / yin[0],
                $"{windows.Count} windows; the YIN the stage used before (scalar, every lag up to half the window)"),
        ];
    }
}
