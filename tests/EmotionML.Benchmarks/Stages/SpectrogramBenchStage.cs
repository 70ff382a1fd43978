using EmotionML.Spectrogram;
using NWaves.Transforms;
using NWaves.Windows;

namespace EmotionML.Benchmarks.Stages;

/// <summary>
/// The speech spectrogram (640-sample Hamming frames every 160 samples, FFT 1024, 200 bins) of the clips' 16 kHz audio
/// against <c>scipy.signal.stft</c> (Debian's python3-scipy, run by /usr/bin/python3 on the same samples written to a
/// file), and the FFT variants measured before choosing the stage's: float and double <see cref="FramePowerSpectrum{T}"/>
/// and NWaves' <c>Stft</c> (the stage's previous FFT). Agreement: the stage's power ÷ (Σ window)² against scipy's
/// <c>|Z|²</c> with <c>scaling="spectrum"</c>, where scipy's power is above 1e-10 of its maximum.
/// </summary>
internal sealed class SpectrogramBenchStage : IBenchStage
{
    private const int Bins = 200;

    public string Name => "spectrogram";
    public string Description => "speech spectrogram (40 ms Hamming, 10 ms hop, FFT 1024, 200 bins, log power) of the clips' 16 kHz audio vs scipy.signal.stft |Z|² on the same samples; also the float FFT and NWaves' STFT";
    public int Steps(BenchContext context) => context.Clips.Count + 2;

    /// <summary>The scipy side: reads the clips, times the STFT of all of them best of R, writes the power of the last round.</summary>
    internal const string ScipyScript = """
        import sys, time
        import numpy as np
        from scipy.signal import stft
        from scipy.signal.windows import hamming
        audio = np.fromfile(sys.argv[1], dtype=np.float32).astype(np.float64)
        lengths = [int(v) for v in open(sys.argv[2]).read().split()]
        repeat = int(sys.argv[3])
        window = hamming(640, sym=True)
        clips, at = [], 0
        for n in lengths:
            clips.append(audio[at:at + n]); at += n
        def run():
            return [np.abs(stft(x, fs=16000, window=window, nperseg=640, noverlap=480, nfft=1024, boundary=None, padded=False, detrend=False, scaling="spectrum")[2][:200]) ** 2 for x in clips]
        run()
        best = float("inf")
        for _ in range(repeat):
            t = time.perf_counter(); out = run(); best = min(best, time.perf_counter() - t)
        np.concatenate([p.T.ravel() for p in out]).astype(np.float64).tofile(sys.argv[4])
        print(best)
        """;

    public IReadOnlyList<BenchRow> Run(BenchContext context, Action<string?> step)
    {
        var audio = context.DecodeAudio(step).Select(a => a.Length >= 640 ? a : Framing.PadToWindow(a)).ToList();
        var seconds = audio.Sum(a => a.Length) / (double)AudioResampling.TargetRate;
        var frames = audio.Select(a => Framing.FrameCount(a.Length)).ToList();
        var items = Enumerable.Range(0, audio.Count).ToList();
        var stage = items.Select(i => new SpeechSpectrogramExtractor(new SpeechSpectrogramOptions { Frames = frames[i], Bins = Bins })).ToList();
        var window = SpeechSpectrogramExtractor.HammingWindow(Framing.WindowSize);
        var single = new FramePowerSpectrum<float>(Framing.FftSize, window);
        var outputs = items.Select(i => new float[frames[i] * Bins]).ToList();
        var nwaves = new Stft(Framing.WindowSize, Framing.HopSize, WindowType.Hamming, fftSize: Framing.FftSize);
        var best = Timing.BestOf(context.Repeat, items,
        [
            i => stage[i].Compute(audio[i]),
            i => single.Compute(audio[i], frames[i], Framing.HopSize, Bins, outputs[i]),
            i => nwaves.Spectrogram(audio[i], normalize: false),
        ]);
        step("EmotionML");
        var rows = new List<BenchRow>();
        string Rate(double s) => BenchContext.F(seconds / s, "0");
        var peer = PythonPeer.Run(ScipyScript, audio, context.Repeat, "scipy/numpy");
        var (scipy, scipyPower, why) = (peer.Seconds, peer.Values, peer.Why);
        step("scipy");
        var notes = $"{audio.Count} clips, {seconds:0} s of audio, best of {context.Repeat}";
        if (scipy is { } sp)
        {
            // Agreement with scipy of the stage's FFT (power, no log) and of the float FFT, scaled as scipy scales its power.
            var scale = Math.Pow(window.Sum(), 2);
            var power = items.SelectMany(i => new SpeechSpectrogramExtractor(new SpeechSpectrogramOptions { Frames = frames[i], Bins = Bins, LogPower = false }).Compute(audio[i])).ToArray();
            var (worst, compared) = Agreement(power, scipyPower, scale);
            var (worstFloat, _) = Agreement(outputs.SelectMany(o => o).ToArray(), scipyPower, scale);
            context.Facts.Add($"Spectrogram agreement with scipy: max relative difference of the power {worst:0.0e0} over {compared} bins above 1e-10 of the maximum (goal ≤ 1e-4).");
            rows.Add(new BenchRow(Name, "audio s per s (log power)", Rate(best[0]), "scipy.signal.stft |Z|² (float64)", Rate(sp) + " audio s/s", sp / best[0],
                notes + $"; max relative difference {worst:0.0e0}") { Headline = true, Goal = "≥ 2" });
            rows.Add(new BenchRow(Name, "audio s per s, float FFT (power only)", Rate(best[1]), "scipy.signal.stft", Rate(sp) + " audio s/s", sp / best[1], $"FramePowerSpectrum<float>: twice the SIMD lanes, but max relative difference {worstFloat:0.0e0}"));
            rows.Add(new BenchRow(Name, "audio s per s, NWaves Stft (power)", Rate(best[2]), "scipy.signal.stft", Rate(sp) + " audio s/s", sp / best[2], "the stage's previous FFT"));
        }
        else
        {
            context.Facts.Add($"scipy peer not run: {why}. Install Debian's python3-scipy (scripts/setup.sh does).");
            rows.Add(new BenchRow(Name, "audio s per s (log power)", Rate(best[0]), "scipy.signal.stft", "absent", null, why));
            rows.Add(new BenchRow(Name, "audio s per s, float FFT (power only)", Rate(best[1]), "the stage (double FFT, log)", Rate(best[0]) + " audio s/s", best[0] / best[1], ""));
            rows.Add(new BenchRow(Name, "audio s per s, NWaves Stft (power)", Rate(best[2]), "the stage (double FFT, log)", Rate(best[0]) + " audio s/s", best[0] / best[2], "the stage's previous FFT"));
        }
        return rows;
    }

    /// <summary>Max relative difference of ours ÷ <paramref name="scale"/> from scipy's power where scipy's is above 1e-10 of its maximum, and how many bins that is.</summary>
    private static (double Worst, int Compared) Agreement(float[] ours, double[] scipy, double scale)
    {
        var max = scipy.Max();
        double worst = 0;
        var compared = 0;
        for (var i = 0; i < ours.Length; i++)
        {
            if (scipy[i] <= 1e-10 * max) continue;
            compared++;
            worst = Math.Max(worst, Math.Abs(ours[i] / scale - scipy[i]) / scipy[i]);
        }
        return (worst, compared);
    }
}
