using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NWaves.FeatureExtractors;
using NWaves.FeatureExtractors.Base;
using NWaves.FeatureExtractors.Options;
using NWaves.Filters.Fda;
using NWaves.Windows;

namespace EmotionML.Spectrogram;

/// <summary>Framing shared by both extractors: 40 ms Hamming frames every 10 ms at 16 kHz, FFT 1024.</summary>
internal static class Framing
{
    public const int WindowSize = 640;
    public const int HopSize = 160;
    public const int FftSize = 1024;

    /// <summary>Number of frames that lie entirely inside <paramref name="samples"/> samples (after padding short audio to one window).</summary>
    public static int FrameCount(int samples) => samples == 0 ? 0 : 1 + (Math.Max(samples, WindowSize) - WindowSize) / HopSize;

    /// <summary>Real (not padded) frames of a fixed <paramref name="frames"/>-frame output of <paramref name="samples"/> samples.</summary>
    public static int ValidFrames(int samples, int frames) => Math.Min(FrameCount(samples), frames);

    /// <summary>Zero-pads audio shorter than one window to one window.</summary>
    public static float[] PadToWindow(float[] audio)
    {
        if (audio.Length >= WindowSize) return audio;
        var padded = new float[WindowSize];
        audio.CopyTo(padded, 0);
        return padded;
    }

    /// <summary>The first real frame kept and the number of real frames kept, for a clip of <paramref name="total"/> frames fitted to <paramref name="wanted"/>.</summary>
    public static (int Start, int Count) Fit(int total, int wanted)
        => total > wanted ? ((total - wanted) / 2, wanted) : (0, total);
}

/// <summary>
/// Speech spectrogram of 16 kHz audio: one row of <c>Bins</c> values per 10 ms frame, the power <c>re² + im²</c> of the
/// 640-sample frame times the symmetric Hamming window, zero-padded to 1024 (<see cref="FramePowerSpectrum{T}"/>).
/// Not thread-safe (buffers are reused): one instance per cursor.
/// </summary>
/// <remarks>
/// The values are those of NWaves 0.9.6 <c>Stft(640, 160, Hamming, fftSize: 1024).Spectrogram(x, normalize: false)</c>
/// (which this class used before) restricted to the frames that lie inside the audio, and of
/// <c>scipy.signal.stft(x, window=hamming(640, sym=True), nperseg=640, noverlap=480, nfft=1024, boundary=None,
/// padded=False, detrend=False)</c> times <c>(Σ window)²</c>. Frame <c>t</c> starts at sample <c>160t</c>.
/// </remarks>
internal sealed class SpeechSpectrogramExtractor
{
    public const int FftSize = Framing.FftSize;

    private readonly FramePowerSpectrum<double> _fft = new(Framing.FftSize, HammingWindow(Framing.WindowSize));
    private readonly SpeechSpectrogramOptions _options;

    public SpeechSpectrogramExtractor(SpeechSpectrogramOptions options)
    {
        options.Validate();
        _options = options.Clone();
        SilenceValue = _options.LogPower ? (float)Math.Log(_options.LogFloor) : 0f;
    }

    public int Frames => _options.Frames;

    public int Bins => _options.Bins;

    /// <summary>The value of every bin of a silent (or padded) frame.</summary>
    public float SilenceValue { get; }

    /// <summary>Centre frequency of bin <paramref name="k"/> in Hz.</summary>
    public static double BinFrequency(int k) => k * (double)AudioResampling.TargetRate / FftSize;

    /// <summary>The symmetric Hamming window 0.54 − 0.46·cos(2πn/(N−1)).</summary>
    internal static double[] HammingWindow(int n)
    {
        var w = new double[n];
        for (var i = 0; i < n; i++) w[i] = 0.54 - 0.46 * Math.Cos(2 * Math.PI * i / (n - 1));
        return w;
    }

    /// <summary>The fixed-size output [Frames, Bins] of one clip of 16 kHz audio (already checked to be finite).</summary>
    public float[] Compute(float[] audio16k)
    {
        var output = new float[Frames * Bins];
        var (start, count) = Framing.Fit(Framing.FrameCount(audio16k.Length), Frames);
        if (count > 0)
        {
            var padded = Framing.PadToWindow(audio16k);
            var block = output.AsSpan(0, count * Bins);
            _fft.Compute(padded.AsSpan(start * Framing.HopSize), count, Framing.HopSize, Bins, block);
            if (_options.LogPower) LogInPlace(block, (float)_options.LogFloor);
        }
        Pad(output, count, Frames, Bins, _options.Padding, SilenceValue);
        return output;
    }

    /// <summary>x ← ln(x + floor), vectorised.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void LogInPlace(Span<float> values, float floor)
    {
        var vectors = MemoryMarshal.Cast<float, Vector<float>>(values);
        var f = new Vector<float>(floor);
        for (var i = 0; i < vectors.Length; i++) vectors[i] = Vector.Log(vectors[i] + f);
        for (var i = vectors.Length * Vector<float>.Count; i < values.Length; i++) values[i] = MathF.Log(values[i] + floor);
    }

    /// <summary>Fills frames <paramref name="real"/>..frames−1 of a [frames, width] block.</summary>
    internal static void Pad(Span<float> block, int real, int frames, int width, SpectrogramPadding padding, float silence)
    {
        if (real >= frames) return;
        var rest = block[(real * width)..(frames * width)];
        if (padding == SpectrogramPadding.Edge && real > 0)
        {
            var last = block.Slice((real - 1) * width, width);
            for (var t = real; t < frames; t++) last.CopyTo(block.Slice(t * width, width));
        }
        else
        {
            rest.Fill(silence);
        }
    }
}

/// <summary>
/// Log-Mel spectrogram with deltas and delta-deltas (NWaves <see cref="FilterbankExtractor"/> and
/// <see cref="FeaturePostProcessing.AddDeltas"/>). Not thread-safe: one instance per cursor.
/// </summary>
internal sealed class LogMelExtractor
{
    private readonly FilterbankExtractor _extractor;
    private readonly LogMelSpectrogramOptions _options;

    public LogMelExtractor(LogMelSpectrogramOptions options)
    {
        options.Validate();
        _options = options.Clone();
        var rate = AudioResampling.TargetRate;
        _extractor = new FilterbankExtractor(new FilterbankOptions
        {
            SamplingRate = rate,
            FrameSize = Framing.WindowSize,
            HopSize = Framing.HopSize,
            FftSize = Framing.FftSize,
            Window = WindowType.Hamming,
            SpectrumType = SpectrumType.Power,
            NonLinearity = NonLinearityType.LogE,
            LogFloor = (float)_options.LogFloor,
            FilterBank = FilterBanks.Triangular(Framing.FftSize, rate,
                FilterBanks.MelBands(_options.Bands, rate, _options.LowFrequency, _options.HighFrequency, true)),
        });
        SilenceValue = (float)Math.Log((float)_options.LogFloor);
    }

    public int Frames => _options.Frames;

    public int Bands => _options.Bands;

    /// <summary>The log-Mel value of a silent (or padded) frame.</summary>
    public float SilenceValue { get; }

    /// <summary>Log-Mel vectors of every frame, each extended in place to [static; delta; delta-delta] (3·Bands).</summary>
    public List<float[]> AllFrames(float[] audio16k)
    {
        if (audio16k.Length == 0) return [];
        var vectors = _extractor.ComputeFrom(Framing.PadToWindow(audio16k));
        AddDeltas(vectors, _options.DeltaWindow);
        return vectors;
    }

    /// <summary>NWaves' regression deltas with edge frames repeated N times, then delta-deltas the same way.</summary>
    internal static void AddDeltas(IList<float[]> vectors, int n)
        => FeaturePostProcessing.AddDeltas(vectors, null, null, includeDeltaDelta: true, N: n);

    /// <summary>The fixed-size output [3, Frames, Bands] of one clip of 16 kHz audio (already checked to be finite).</summary>
    public float[] Compute(float[] audio16k)
    {
        int frames = Frames, bands = Bands;
        var output = new float[3 * frames * bands];
        var all = AllFrames(audio16k);
        var (start, count) = Framing.Fit(all.Count, frames);
        for (var c = 0; c < 3; c++)
        {
            var channel = output.AsSpan(c * frames * bands, frames * bands);
            for (var t = 0; t < count; t++)
                all[start + t].AsSpan(c * bands, bands).CopyTo(channel.Slice(t * bands, bands));
            if (c == 0)
                SpeechSpectrogramExtractor.Pad(channel, count, frames, bands, _options.Padding, SilenceValue);
            // Delta channels of padded frames stay 0 in both padding modes.
        }
        return output;
    }
}
