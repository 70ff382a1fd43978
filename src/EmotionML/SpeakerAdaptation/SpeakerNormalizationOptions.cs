using EmotionML.Core;

namespace EmotionML.SpeakerAdaptation;

/// <summary>What a speaker's mean and standard deviation are taken over.</summary>
public enum SpeakerStatisticsLevel
{
    /// <summary>Every real frame (face) and real audio position of the speaker's clips is one sample.</summary>
    Frames,
    /// <summary>
    /// Each clip is one sample: its mean over its real frames (positions). The mean is nearly that of
    /// <see cref="Frames"/>; the standard deviation is the spread between the speaker's clips, so the clip means of the
    /// output have unit variance per speaker.
    /// </summary>
    ClipMeans,
}

/// <summary>
/// Options of the speaker normalisation stage (<see cref="SpeakerNormalizationTransformer"/>): which columns hold the
/// speaker, the face and audio feature sets and their masks, and the limits that make a speaker's statistics usable.
/// All of it is saved in the model zip. The face or the audio modality can be left out by setting its feature column
/// name to null (at least one must be set); the outputs replace the inputs of the same name unless other names are given.
/// </summary>
public sealed class SpeakerNormalizationOptions : IStageOptions<SpeakerNormalizationOptions>
{
    /// <summary>Input: the speaker of each clip (text). Default "Speaker".</summary>
    public string SpeakerColumnName { get; set; } = "Speaker";

    /// <summary>Input: per-frame face features [MaxFrames, D]; null leaves the face out. Default "FaceFeatures".</summary>
    public string? FaceFeaturesColumnName { get; set; } = "FaceFeatures";

    /// <summary>Input: frame mask [MaxFrames] (1 for a real frame). Default "FrameMask".</summary>
    public string FaceMaskColumnName { get; set; } = "FrameMask";

    /// <summary>Input: audio feature set [n, C]; null leaves the audio out. Default "AudioFeatures".</summary>
    public string? AudioFeaturesColumnName { get; set; } = "AudioFeatures";

    /// <summary>Input: audio mask [n] (1 for a real position). Default "AudioMask".</summary>
    public string AudioMaskColumnName { get; set; } = "AudioMask";

    /// <summary>Output: the normalised face features; null (default) replaces <see cref="FaceFeaturesColumnName"/>.</summary>
    public string? FaceOutputColumnName { get; set; }

    /// <summary>Output: the normalised audio features; null (default) replaces <see cref="AudioFeaturesColumnName"/>.</summary>
    public string? AudioOutputColumnName { get; set; }

    /// <summary>
    /// Fewest clips a speaker's statistics may come from. Statistics of a single clip describe that clip's expression,
    /// not the speaker, so a speaker with fewer clips is an <see cref="InvalidInputException"/>. Default 2, at least 1.
    /// </summary>
    public int MinClipsPerSpeaker { get; set; } = 2;

    /// <summary>
    /// A dimension whose standard deviation over a speaker's samples is below this is set to 0 (the speaker's mean) for
    /// that speaker: documented fallback for (nearly) constant dimensions, such as a ReLU unit that never fires for that
    /// speaker; centring alone would leave float noise that a later standardisation blows up. Default 1e-6, positive.
    /// </summary>
    public float MinStd { get; set; } = 1e-6f;

    /// <summary>What the statistics are taken over: frames (default) or clip means (see <see cref="SpeakerStatisticsLevel"/>).</summary>
    public SpeakerStatisticsLevel Statistics { get; set; } = SpeakerStatisticsLevel.Frames;

    internal string? FaceOutput => FaceFeaturesColumnName is null ? null : FaceOutputColumnName ?? FaceFeaturesColumnName;

    internal string? AudioOutput => AudioFeaturesColumnName is null ? null : AudioOutputColumnName ?? AudioFeaturesColumnName;

    internal SpeakerNormalizationOptions Clone() => (SpeakerNormalizationOptions)MemberwiseClone();

    void IStageOptions<SpeakerNormalizationOptions>.Validate() => Validate();

    SpeakerNormalizationOptions IStageOptions<SpeakerNormalizationOptions>.Clone() => Clone();

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(SpeakerColumnName)) throw new ArgumentException($"{nameof(SpeakerColumnName)} must name a column.", nameof(SpeakerColumnName));
        if (FaceFeaturesColumnName is null && AudioFeaturesColumnName is null)
            throw new ArgumentException($"Set {nameof(FaceFeaturesColumnName)} or {nameof(AudioFeaturesColumnName)}: there is nothing to normalise.", nameof(FaceFeaturesColumnName));
        foreach (var (name, value, used) in new[]
        {
            (nameof(FaceFeaturesColumnName), FaceFeaturesColumnName, FaceFeaturesColumnName != null),
            (nameof(FaceMaskColumnName), FaceMaskColumnName, FaceFeaturesColumnName != null),
            (nameof(AudioFeaturesColumnName), AudioFeaturesColumnName, AudioFeaturesColumnName != null),
            (nameof(AudioMaskColumnName), AudioMaskColumnName, AudioFeaturesColumnName != null),
        })
            if (used && string.IsNullOrWhiteSpace(value)) throw new ArgumentException($"{name} must name a column.", name);
        if (FaceOutputColumnName is { } f && string.IsNullOrWhiteSpace(f)) throw new ArgumentException($"{nameof(FaceOutputColumnName)} must be null or name a column.", nameof(FaceOutputColumnName));
        if (AudioOutputColumnName is { } a && string.IsNullOrWhiteSpace(a)) throw new ArgumentException($"{nameof(AudioOutputColumnName)} must be null or name a column.", nameof(AudioOutputColumnName));
        if (FaceOutput != null && FaceOutput == AudioOutput) throw new ArgumentException("The face and audio outputs must be different columns.", nameof(AudioOutputColumnName));
        if (!Enum.IsDefined(Statistics)) throw new ArgumentOutOfRangeException(nameof(Statistics), Statistics, "Unknown statistics level.");
        if (MinClipsPerSpeaker < 1) throw new ArgumentOutOfRangeException(nameof(MinClipsPerSpeaker), MinClipsPerSpeaker, "At least 1.");
        if (!(MinStd > 0) || float.IsInfinity(MinStd)) throw new ArgumentOutOfRangeException(nameof(MinStd), MinStd, "Must be positive and finite.");
    }
}
