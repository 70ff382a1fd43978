using EmotionML.Core;
namespace EmotionML.Spectrogram;

/// <summary>How a clip whose analysis yields fewer than the wanted number of frames is filled up.</summary>
public enum SpectrogramPadding
{
    /// <summary>
    /// Padded frames are what silence gives: power 0 (the log floor <c>ln(LogFloor)</c> in log scale); delta and
    /// delta-delta channels 0. Padding goes after the real frames.
    /// </summary>
    Silence = 0,

    /// <summary>Padded frames repeat the last real frame (delta and delta-delta channels are 0). Padding goes after the real frames.</summary>
    Edge = 1,
}

/// <summary>
/// Options of the speech spectrogram stage (Zhou et al. 2019): 16 kHz audio, Hamming window of 40 ms (640 samples),
/// hop 10 ms (160 samples), FFT size 1024, the <see cref="Bins"/> lowest bins (bin <c>k</c> is centred at
/// <c>k·16000/1024</c> Hz, 15.625 Hz apart), fixed clip length <see cref="Frames"/>.
/// </summary>
/// <remarks>
/// <para>Values are unnormalised power <c>|X_k|²</c> of the Hamming-windowed (symmetric window,
/// <c>0.54 − 0.46·cos(2πn/639)</c>), zero-padded frame; with <see cref="LogPower"/> they are <c>ln(|X_k|² + LogFloor)</c>.</para>
/// <para>Frame <c>t</c> covers samples <c>[160t, 160t + 640)</c>; only frames that lie entirely inside the audio are
/// analysed (<c>1 + ⌊(n − 640)/160⌋</c> frames for <c>n ≥ 640</c> samples). Clip-length policy: more frames than
/// <see cref="Frames"/> → the centre <see cref="Frames"/> frames are kept (<c>⌊(frames − Frames)/2⌋</c> dropped at
/// the start); fewer → padded after the real frames as <see cref="Padding"/> says.</para>
/// <para>Bad input: audio shorter than one window (1..639 samples) is zero-padded to one window (one real frame);
/// empty audio (0 samples) gives the all-silence output unless <see cref="RejectEmptyAudio"/>; a NaN or infinite
/// sample raises <see cref="InvalidInputException"/> naming the row and sample. Samples are not rescaled or clipped:
/// clipped (saturated) or out-of-range audio is analysed as given.</para>
/// </remarks>
public sealed class SpeechSpectrogramOptions : IStageOptions<SpeechSpectrogramOptions>
{
    /// <summary>Input column: a (variable-length) vector of Single audio samples at <see cref="SampleRate"/>. Default <c>Audio</c>.</summary>
    public string InputColumnName { get; set; } = "Audio";

    /// <summary>Output column: a vector of Single of size <see cref="Frames"/>·<see cref="Bins"/>, dimensions [Frames, Bins]. Default <c>Spectrogram</c>.</summary>
    public string OutputColumnName { get; set; } = "Spectrogram";

    /// <summary>
    /// Output column: the number of real frames of the output (Int32, 0..<see cref="Frames"/>); frames from there on are
    /// padding. 0 for empty audio. The audio feature stage turns it into its attention mask. Default <c>SpectrogramFrames</c>.
    /// </summary>
    public string ValidFramesColumnName { get; set; } = "SpectrogramFrames";

    /// <summary>
    /// Sample rate of the input column in Hz. Default 16000 (the contract of the <c>Audio</c> column). Any other rate is
    /// resampled to 16 kHz per row with <see cref="AudioResampling.ResampleTo16k"/> before analysis.
    /// </summary>
    public int SampleRate { get; set; } = 16000;

    /// <summary>Number of lowest FFT bins kept, 1..513. Default 200 (0 to 3.11 kHz).</summary>
    public int Bins { get; set; } = 200;

    /// <summary>Fixed number of frames T per clip (10 ms each). Default 300 (3 s).</summary>
    public int Frames { get; set; } = 300;

    /// <summary>Output <c>ln(power + LogFloor)</c> when true (default), the power itself when false.</summary>
    public bool LogPower { get; set; } = true;

    /// <summary>Added to the power before the logarithm, so silence gives <c>ln(LogFloor)</c> (default 1e-10 → −23.03).</summary>
    public double LogFloor { get; set; } = 1e-10;

    /// <summary>How clips shorter than <see cref="Frames"/> are filled up. Default <see cref="SpectrogramPadding.Silence"/>.</summary>
    public SpectrogramPadding Padding { get; set; } = SpectrogramPadding.Silence;

    /// <summary>When true, a zero-length audio vector raises <see cref="InvalidInputException"/>; when false (default) it gives the all-silence output.</summary>
    public bool RejectEmptyAudio { get; set; }

    /// <summary>
    /// When true, the audio is first cut to its speech: from the first to the last 32 ms chunk that Silero VAD v5
    /// (<see cref="ModelFiles.SileroVad"/>) scores as speech (probability ≥ 0.5), with 100 ms kept on each side; the clip-length
    /// policy then applies to that span (a span shorter than <see cref="Frames"/> is padded, and the padding is outside
    /// <see cref="ValidFramesColumnName"/>). A clip in which no chunk is speech is kept whole (the documented fallback).
    /// The detector's bytes are stored in the model zip. Default false.
    /// </summary>
    public bool TrimSilence { get; set; }

    /// <summary>The Silero VAD ONNX file for <see cref="TrimSilence"/>; null finds it as <see cref="KnownModel.Resolve"/> does. Its sha256 is checked. Not saved.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? VadModelPath { get; set; }

    internal SpeechSpectrogramOptions Clone() => (SpeechSpectrogramOptions)MemberwiseClone();

    void IStageOptions<SpeechSpectrogramOptions>.Validate() => Validate();

    SpeechSpectrogramOptions IStageOptions<SpeechSpectrogramOptions>.Clone() => Clone();

    internal void Validate()
    {
        SpectrogramChecks.Column(InputColumnName, nameof(InputColumnName));
        SpectrogramChecks.Column(OutputColumnName, nameof(OutputColumnName));
        SpectrogramChecks.Rate(SampleRate);
        if (Bins < 1 || Bins > SpeechSpectrogramExtractor.FftSize / 2 + 1)
            throw new ArgumentOutOfRangeException(nameof(Bins), Bins, $"Bins must be 1..{SpeechSpectrogramExtractor.FftSize / 2 + 1}.");
        SpectrogramChecks.Frames(Frames);
        SpectrogramChecks.Floor(LogFloor);
        SpectrogramChecks.Padding(Padding);
    }
}

/// <summary>
/// Options of the log-Mel spectrogram stage: 16 kHz audio, Hamming window of 40 ms, hop 10 ms, FFT size 1024, power
/// spectrum through <see cref="Bands"/> overlapping triangular Mel filters (NWaves <c>FilterBanks.MelBands</c>, HTK Mel
/// scale) between <see cref="LowFrequency"/> and <see cref="HighFrequency"/>, natural log with floor
/// <see cref="LogFloor"/> (<c>ln(max(e, LogFloor))</c>), then deltas and delta-deltas, stacked as 3 channels.
/// </summary>
/// <remarks>
/// <para>Deltas follow the regression formula <c>d_t = Σ_{n=1..N} n·(c_{t+n} − c_{t−n}) / (2·Σ n²)</c> with
/// <c>N = </c><see cref="DeltaWindow"/>, the first and last frame repeated N times beyond the edges; delta-deltas are the
/// same formula applied to the deltas. They are computed over all frames of the clip before cropping.</para>
/// <para>Output layout [3, Frames, Bands]: channel 0 log-Mel, 1 delta, 2 delta-delta; index
/// <c>c·Frames·Bands + t·Bands + b</c>. Framing, clip-length policy and bad input as in
/// <see cref="SpeechSpectrogramOptions"/>; silence gives <c>ln(LogFloor)</c> in channel 0 and 0 in channels 1 and 2.</para>
/// </remarks>
public sealed class LogMelSpectrogramOptions : IStageOptions<LogMelSpectrogramOptions>
{
    /// <summary>Input column: a (variable-length) vector of Single audio samples at <see cref="SampleRate"/>. Default <c>Audio</c>.</summary>
    public string InputColumnName { get; set; } = "Audio";

    /// <summary>Output column: a vector of Single of size 3·<see cref="Frames"/>·<see cref="Bands"/>, dimensions [3, Frames, Bands]. Default <c>LogMel</c>.</summary>
    public string OutputColumnName { get; set; } = "LogMel";

    /// <summary>Output column: the number of real frames of the output (Int32, 0..<see cref="Frames"/>); frames from there on are padding. Default <c>LogMelFrames</c>.</summary>
    public string ValidFramesColumnName { get; set; } = "LogMelFrames";

    /// <summary>Sample rate of the input column in Hz. Default 16000; any other rate is resampled to 16 kHz per row.</summary>
    public int SampleRate { get; set; } = 16000;

    /// <summary>Number of Mel bands. Default 64.</summary>
    public int Bands { get; set; } = 64;

    /// <summary>Fixed number of frames T per clip (10 ms each). Default 300 (3 s).</summary>
    public int Frames { get; set; } = 300;

    /// <summary>Lowest frequency of the filter bank in Hz. Default 0.</summary>
    public double LowFrequency { get; set; }

    /// <summary>Highest frequency of the filter bank in Hz, at most 8000. Default 8000.</summary>
    public double HighFrequency { get; set; } = 8000;

    /// <summary>Floor of the band energies before the logarithm (default 1e-10 → silence gives −23.03).</summary>
    public double LogFloor { get; set; } = 1e-10;

    /// <summary>N of the delta regression formula (frames on each side). Default 2.</summary>
    public int DeltaWindow { get; set; } = 2;

    /// <summary>How clips shorter than <see cref="Frames"/> are filled up. Default <see cref="SpectrogramPadding.Silence"/>.</summary>
    public SpectrogramPadding Padding { get; set; } = SpectrogramPadding.Silence;

    /// <summary>When true, a zero-length audio vector raises <see cref="InvalidInputException"/>; when false (default) it gives the all-silence output.</summary>
    public bool RejectEmptyAudio { get; set; }

    internal LogMelSpectrogramOptions Clone() => (LogMelSpectrogramOptions)MemberwiseClone();

    void IStageOptions<LogMelSpectrogramOptions>.Validate() => Validate();

    LogMelSpectrogramOptions IStageOptions<LogMelSpectrogramOptions>.Clone() => Clone();

    internal void Validate()
    {
        SpectrogramChecks.Column(InputColumnName, nameof(InputColumnName));
        SpectrogramChecks.Column(OutputColumnName, nameof(OutputColumnName));
        SpectrogramChecks.Rate(SampleRate);
        if (Bands < 1 || Bands > 256)
            throw new ArgumentOutOfRangeException(nameof(Bands), Bands, "Bands must be 1..256.");
        SpectrogramChecks.Frames(Frames);
        if (!(LowFrequency >= 0) || !(HighFrequency <= AudioResampling.TargetRate / 2.0) || !(HighFrequency > LowFrequency))
            throw new ArgumentOutOfRangeException(nameof(HighFrequency), $"Need 0 ≤ LowFrequency < HighFrequency ≤ 8000 Hz; got {LowFrequency}..{HighFrequency}.");
        SpectrogramChecks.Floor(LogFloor);
        if (DeltaWindow < 1 || DeltaWindow > 10)
            throw new ArgumentOutOfRangeException(nameof(DeltaWindow), DeltaWindow, "DeltaWindow must be 1..10.");
        SpectrogramChecks.Padding(Padding);
    }
}

internal static class SpectrogramChecks
{
    public static void Column(string? name, string option)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException($"{option} must name a column.", option);
    }

    public static void Rate(int rate)
    {
        if (rate < 1000 || rate > 384000)
            throw new ArgumentOutOfRangeException("SampleRate", rate, "SampleRate must be 1000..384000 Hz.");
    }

    public static void Frames(int frames)
    {
        if (frames < 1 || frames > 100_000)
            throw new ArgumentOutOfRangeException("Frames", frames, "Frames must be 1..100000.");
    }

    public static void Floor(double floor)
    {
        if (!(floor > 0) || double.IsInfinity(floor))
            throw new ArgumentOutOfRangeException("LogFloor", floor, "LogFloor must be a positive finite number.");
    }

    public static void Padding(SpectrogramPadding padding)
    {
        if (padding is not (SpectrogramPadding.Silence or SpectrogramPadding.Edge))
            throw new ArgumentOutOfRangeException("Padding", padding, "Padding must be Silence or Edge.");
    }
}
