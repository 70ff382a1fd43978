using System.Text.Json.Serialization;

namespace EmotionML.Training.Fusion;

/// <summary>Which modalities a <see cref="FusionHead"/> uses.</summary>
public enum Modalities
{
    /// <summary>Face and audio, fused by <see cref="FusionHeadOptions.Fusion"/>.</summary>
    Both,
    /// <summary>Face only (ablation): face attention, then the classifier.</summary>
    FaceOnly,
    /// <summary>Audio only (ablation): audio attention, then the classifier.</summary>
    AudioOnly,
}

/// <summary>Shape and hyper-parameters of a <see cref="FusionHead"/>. JSON-serialisable.</summary>
public sealed record FusionHeadOptions
{
    /// <summary>
    /// d_v, the per-frame face feature dimension. Not settable: the trainer takes it from the face feature column; a
    /// module built directly gets it from <see cref="FusionHead(FusionHeadOptions, int, int, int)"/>. Default 512.
    /// </summary>
    public int FaceDim { get; internal set; } = 512;

    /// <summary>
    /// d_a, the per-position audio feature dimension (the audio CNN's channel count C). Not settable, as
    /// <see cref="FaceDim"/>. Default 128.
    /// </summary>
    public int AudioDim { get; internal set; } = 128;

    /// <summary>Attention over the face frames. Default transformer (best in the paper).</summary>
    public AttentionKind FaceAttention { get; set; } = AttentionKind.Transformer;

    /// <summary>Attention over the audio map positions. Default transformer.</summary>
    public AttentionKind AudioAttention { get; set; } = AttentionKind.Transformer;

    /// <summary>Cross-modal fusion (used when <see cref="Modalities"/> is <see cref="Fusion.Modalities.Both"/>). Default FBP.</summary>
    public FusionKind Fusion { get; set; } = FusionKind.Fbp;

    /// <summary>Face and audio, or one of them for ablations. Default both.</summary>
    public Modalities Modalities { get; set; } = Modalities.Both;

    /// <summary>m of transformer-attention (reduced dimension). Default 64.</summary>
    public int TransformerDim { get; set; } = 64;

    /// <summary>o, FBP's output dimension. Default 256.</summary>
    public int FbpOutputDim { get; set; } = 256;

    /// <summary>k, FBP's factor (sum-pooling window). Default 4.</summary>
    public int FbpFactor { get; set; } = 4;

    /// <summary>Whether FBP applies the signed square root before l2-normalisation. Default true.</summary>
    public bool FbpSignedSqrt { get; set; } = true;

    /// <summary>Dropout before the attention scoring layers. Default 0.5 (Frame Attention Networks).</summary>
    public double AttentionDropout { get; set; } = 0.5;

    /// <summary>Dropout after FBP's element-wise product. Default 0.1.</summary>
    public double FbpDropout { get; set; } = 0.1;

    /// <summary>Dropout before the classifier. Default 0.5.</summary>
    public double ClassifierDropout { get; set; } = 0.5;

    /// <summary>
    /// Whether the trainer standardises each face and audio feature dimension by its mean and standard deviation over the
    /// real items (frames, positions) of the training rows. The statistics are part of the head (and of its ONNX graph),
    /// so a saved head applies them at prediction time. Default false (the setting the documented results were
    /// measured with; see docs/results.md for what is known about it).
    /// </summary>
    public bool Standardize { get; set; }

    /// <summary>
    /// With <see cref="Standardize"/>: whether the face features are standardised too (true, default) or only the audio
    /// features (false; the face standardiser stays the identity). On the Javanese clips standardising the audio
    /// features helps an audio-only head while standardising the 1024 DenseNet dimensions hurts the fused one
    /// (docs/results.md).
    /// </summary>
    public bool StandardizeFace { get; set; } = true;

    /// <summary>
    /// Frames per clip seen in a training step: each step keeps a random subset of this many real frames of every clip
    /// (all of them when a clip has fewer), as Frame Attention Networks train; prediction always uses every frame.
    /// 0 (default) trains on every frame.
    /// </summary>
    public int TrainingFrames { get; set; }

    /// <summary>K, the number of classes. Not settable: the trainer takes it from the label's key values; see <see cref="FaceDim"/>. Default 7.</summary>
    public int Classes { get; internal set; } = 7;

    /// <summary>Throws <see cref="ArgumentException"/> for an unusable setting.</summary>
    public void Validate()
    {
        static void Positive(int v, string name) { if (v <= 0) throw new ArgumentException($"FusionHeadOptions.{name} must be positive, not {v}."); }
        static void Probability(double p, string name) { if (p < 0 || p >= 1 || double.IsNaN(p)) throw new ArgumentException($"FusionHeadOptions.{name} must be in [0,1), not {p}."); }
        Positive(FaceDim, nameof(FaceDim));
        Positive(AudioDim, nameof(AudioDim));
        Positive(TransformerDim, nameof(TransformerDim));
        Positive(FbpOutputDim, nameof(FbpOutputDim));
        Positive(FbpFactor, nameof(FbpFactor));
        if (TrainingFrames < 0) throw new ArgumentException($"FusionHeadOptions.TrainingFrames must be 0 (all frames) or positive, not {TrainingFrames}.");
        if (Classes < 2) throw new ArgumentException($"FusionHeadOptions.Classes must be at least 2, not {Classes}.");
        Probability(AttentionDropout, nameof(AttentionDropout));
        Probability(FbpDropout, nameof(FbpDropout));
        Probability(ClassifierDropout, nameof(ClassifierDropout));
        if (!Enum.IsDefined(FaceAttention) || !Enum.IsDefined(AudioAttention) || !Enum.IsDefined(Fusion) || !Enum.IsDefined(Modalities))
            throw new ArgumentException("FusionHeadOptions has an undefined enum value.");
    }

    /// <summary>Whether the face branch is used.</summary>
    [JsonIgnore]
    public bool UsesFace => Modalities != Modalities.AudioOnly;

    /// <summary>Whether the audio branch is used.</summary>
    [JsonIgnore]
    public bool UsesAudio => Modalities != Modalities.FaceOnly;
}
