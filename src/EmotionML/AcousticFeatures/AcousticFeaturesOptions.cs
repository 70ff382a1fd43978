using EmotionML.Core;
using EmotionML.Spectrogram;

namespace EmotionML.AcousticFeatures;

/// <summary>
/// Options of the acoustic-features stage (<see cref="AcousticFeaturesEstimator"/>): one fixed-length vector of
/// utterance-level functionals per clip of 16 kHz audio — MFCC and their deltas, energy, pitch (YIN), harmonicity,
/// spectral shape and voicing rhythm — in the spirit of openSMILE's functionals (not eGeMAPS itself: its values are not
/// openSMILE's). <see cref="AcousticFeatureNames.All"/> names every slot.
/// </summary>
/// <remarks>
/// <para>Framing: 25 ms Hamming windows (MFCC, energy, spectral shape; FFT 512) and 40 ms windows (pitch), hop 10 ms.
/// Active frames are those within <see cref="ActivityRangeDb"/> of the clip's loudest frame; a frame is voiced when it
/// is active, YIN finds a pitch in <see cref="PitchFloor"/>..<see cref="PitchCeiling"/> Hz and the normalised
/// autocorrelation at that period is at least <see cref="VoicingThreshold"/>.</para>
/// <para>Bad input: NaN or infinite samples raise <see cref="InvalidInputException"/>; empty or silent audio
/// gives the all-zero vector and 0 active frames (or an error when <see cref="RejectEmptyAudio"/> is set); a clip
/// without voiced frames has its pitch and harmonicity slots at 0 and its voiced share at 0.</para>
/// </remarks>
public sealed class AcousticFeaturesOptions : Core.IStageOptions<AcousticFeaturesOptions>
{
    /// <summary>Input column: a (variable-length) vector of Single audio samples at <see cref="SampleRate"/>. Default <c>Audio</c>.</summary>
    public string InputColumnName { get; set; } = "Audio";

    /// <summary>Output column: Single vector of <see cref="AcousticFeatureNames.Count"/> functionals. Default <c>AcousticFeatures</c>.</summary>
    public string OutputColumnName { get; set; } = "AcousticFeatures";

    /// <summary>Output column: the count of active frames the functionals were computed over (Int32; 0 for silence). Default <c>AcousticFrames</c>.</summary>
    public string ActiveFramesColumnName { get; set; } = "AcousticFrames";

    /// <summary>
    /// Output column, when set: a one-position mask, Single vector [1], 1 when the clip has active frames and 0 for
    /// silence or no audio — what the fusion head reads beside <see cref="OutputColumnName"/> when the functionals are its
    /// audio features (one position of 65; point <c>FusionHeadColumns.AudioFeaturesColumnName</c> and
    /// <c>AudioMaskColumnName</c> at the two). Default null (not written).
    /// </summary>
    public string? MaskColumnName { get; set; }

    /// <summary>Sample rate of the input column in Hz. Default 16000; any other rate is resampled to 16 kHz per row.</summary>
    public int SampleRate { get; set; } = 16000;

    /// <summary>Lowest pitch searched, Hz. Default 60.</summary>
    public double PitchFloor { get; set; } = 60;

    /// <summary>Highest pitch searched, Hz. Default 500.</summary>
    public double PitchCeiling { get; set; } = 500;

    /// <summary>Least normalised autocorrelation at the pitch period for a voiced frame (0..1). Default 0.5.</summary>
    public double VoicingThreshold { get; set; } = 0.5;

    /// <summary>Frames more than this many dB below the clip's loudest frame are inactive (left out of every functional). Default 40.</summary>
    public double ActivityRangeDb { get; set; } = 40;

    /// <summary>When true, a zero-length audio vector raises <see cref="InvalidInputException"/>; when false (default) it gives the all-zero vector.</summary>
    public bool RejectEmptyAudio { get; set; }

    internal AcousticFeaturesOptions Clone() => (AcousticFeaturesOptions)MemberwiseClone();

    void Core.IStageOptions<AcousticFeaturesOptions>.Validate() => Validate();

    AcousticFeaturesOptions Core.IStageOptions<AcousticFeaturesOptions>.Clone() => Clone();

    internal void Validate()
    {
        SpectrogramChecks.Column(InputColumnName, nameof(InputColumnName));
        SpectrogramChecks.Column(OutputColumnName, nameof(OutputColumnName));
        SpectrogramChecks.Column(ActiveFramesColumnName, nameof(ActiveFramesColumnName));
        if (MaskColumnName != null) SpectrogramChecks.Column(MaskColumnName, nameof(MaskColumnName));
        SpectrogramChecks.Rate(SampleRate);
        if (!(PitchFloor >= 30) || !(PitchCeiling <= 1000) || !(PitchCeiling > PitchFloor))
            throw new ArgumentOutOfRangeException(nameof(PitchCeiling), $"Need 30 ≤ PitchFloor < PitchCeiling ≤ 1000 Hz; got {PitchFloor}..{PitchCeiling}.");
        if (!(VoicingThreshold >= 0 && VoicingThreshold < 1))
            throw new ArgumentOutOfRangeException(nameof(VoicingThreshold), VoicingThreshold, "VoicingThreshold must be in [0, 1).");
        if (!(ActivityRangeDb > 0 && ActivityRangeDb <= 120))
            throw new ArgumentOutOfRangeException(nameof(ActivityRangeDb), ActivityRangeDb, "ActivityRangeDb must be in (0, 120] dB.");
    }
}
