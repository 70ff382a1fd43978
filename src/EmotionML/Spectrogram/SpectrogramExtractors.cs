using NWaves.FeatureExtractors;
using NWaves.FeatureExtractors.Base;
using NWaves.FeatureExtractors.Options;
using NWaves.Filters.Fda;
using NWaves.Transforms;
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
/// Speech spectrogram of 16 kHz audio (NWaves <see cref="Stft"/>): one row of <c>Bins</c> values per 10 ms frame.
/// Not thread-safe (NWaves keeps buffers): one instance per cursor.
/// </summary>
/// <remarks>
/// Verified on NWaves 0.9.6: <c>Stft(640, 160, Hamming, fftSize: 1024).Spectrogram(x, normalize: false)</c> returns
/// <c>re² + im²</c> (power, not magnitude, not divided by the FFT size; <c>normalize: true</c> divides by 1024) of the
/// frame times the symmetric Hamming window, frame <c>t</c> starting at sample <c>160t</c>; it also returns extra
/// frames that run past the end of the signal (zero-padded; e.g. 2 frames for 640 samples, 98 for 16000), which are
/// dropped here so that only frames inside the audio are used.
/// </remarks>
internal sealed class SpeechSpectrogramExtractor
{
    public const int FftSize = Framing.FftSize;

    private readonly Stft _stft = new(Framing.WindowSize, Framing.HopSize, WindowType.Hamming, fftSize: Framing.FftSize);
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

    /// <summary>Power spectra (<c>re² + im²</c>, bins 0..Bins−1) of every frame inside <paramref name="audio16k"/>, frames <paramref name="start"/>..start+count−1.</summary>
    public List<float[]> PowerFrames(float[] audio16k, int start, int count)
    {
        var result = new List<float[]>(count);
        if (count == 0) return result;
        var padded = Framing.PadToWindow(audio16k);
        var from = start * Framing.HopSize;
        var length = (count - 1) * Framing.HopSize + Framing.WindowSize;
        var slice = from == 0 && length == padded.Length ? padded : padded.AsSpan(from, length).ToArray();
        var spectra = _stft.Spectrogram(slice, normalize: false);
        for (var t = 0; t < count; t++) result.Add(spectra[t]);
        return result;
    }

    /// <summary>The fixed-size output [Frames, Bins] of one clip of 16 kHz audio (already checked to be finite).</summary>
    public float[] Compute(float[] audio16k)
    {
        var output = new float[Frames * Bins];
        var (start, count) = Framing.Fit(Framing.FrameCount(audio16k.Length), Frames);
        var spectra = PowerFrames(audio16k, start, count);
        var floor = _options.LogFloor;
        for (var t = 0; t < count; t++)
        {
            var row = output.AsSpan(t * Bins, Bins);
            var spectrum = spectra[t];
            if (_options.LogPower)
                for (var k = 0; k < Bins; k++) row[k] = (float)Math.Log(spectrum[k] + floor);
            else
                spectrum.AsSpan(0, Bins).CopyTo(row);
        }
        Pad(output, count, Frames, Bins, _options.Padding, SilenceValue);
        return output;
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
