using NWaves.Operations;
using NWaves.Signals;

namespace EmotionML.Spectrogram;

/// <summary>Brings audio of another sample rate to the 16 kHz the spectrogram stages analyse.</summary>
public static class AudioResampling
{
    /// <summary>The analysis rate of the spectrogram stages, 16000 Hz.</summary>
    public const int TargetRate = 16000;

    /// <summary>
    /// Resamples <paramref name="samples"/> from <paramref name="sampleRate"/> Hz to 16 kHz with NWaves' band-limited
    /// resampler (<c>Resampler.Resample</c>, low-pass at the lower Nyquist frequency). Returns a copy when the rate is
    /// already 16 kHz. Measured on 1 kHz sines: from 8 and 22.05 kHz the error is small (rms 3e-5 and 9e-3 of full
    /// scale), from 44.1/48 kHz the output lags by about 1 ms and has an rms error near 3 % of full scale: fine for
    /// 10 ms-hop spectrograms, not for sample-exact work.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The rate is outside 1000..384000 Hz.</exception>
    /// <exception cref="InvalidInputException">A sample is NaN or infinite.</exception>
    public static float[] ResampleTo16k(float[] samples, int sampleRate)
    {
        ArgumentNullException.ThrowIfNull(samples);
        SpectrogramChecks.Rate(sampleRate);
        AudioInput.CheckFinite(samples, "audio", -1);
        return Resample(samples, sampleRate);
    }

    internal static float[] Resample(float[] samples, int sampleRate)
    {
        if (sampleRate == TargetRate || samples.Length == 0) return (float[])samples.Clone();
        var output = new Resampler().Resample(new DiscreteSignal(sampleRate, samples), TargetRate);
        return output.Samples;
    }
}

/// <summary>Checks and prepares one row's audio for analysis.</summary>
internal static class AudioInput
{
    /// <summary>Throws <see cref="InvalidInputException"/> at the first NaN or infinite sample.</summary>
    public static void CheckFinite(ReadOnlySpan<float> audio, string column, long row)
    {
        for (var i = 0; i < audio.Length; i++)
        {
            var v = audio[i];
            if (float.IsFinite(v)) continue;
            var what = float.IsNaN(v) ? "NaN" : v > 0 ? "+Infinity" : "-Infinity";
            var where = row >= 0 ? $"Column '{column}', row {row}" : "Audio";
            throw new InvalidInputException($"{where}: sample {i} of {audio.Length} is {what}; audio samples must be finite (16 kHz mono, nominally -1..1). Fix or drop the clip before the spectrogram stage.");
        }
    }

    /// <summary>Checks the samples and resamples them to 16 kHz. Returns null for empty audio that is allowed (silence).</summary>
    public static float[] Prepare(float[] audio, int sampleRate, bool rejectEmpty, string column, long row)
    {
        CheckFinite(audio, column, row);
        if (audio.Length == 0 && rejectEmpty)
            throw new InvalidInputException($"Column '{column}', row {row}: the audio is empty (0 samples) and RejectEmptyAudio is set.");
        return sampleRate == AudioResampling.TargetRate ? audio : AudioResampling.Resample(audio, sampleRate);
    }
}
