using System.Text.Json.Serialization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

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
    /// <summary>d_v, the per-frame face feature dimension. Default 512.</summary>
    public int FaceDim { get; set; } = 512;

    /// <summary>d_a, the per-position audio feature dimension (the audio CNN's channel count C). Default 128.</summary>
    public int AudioDim { get; set; } = 128;

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

    /// <summary>K, the number of classes. Default 7.</summary>
    public int Classes { get; set; } = 7;

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

/// <summary>What <see cref="FusionHead.forward"/> returns.</summary>
/// <param name="Logits">Class logits [B,K] (apply softmax for probabilities; train with cross-entropy on these).</param>
/// <param name="FaceAttention">Normalised face attention weights [B,N], or null for an audio-only head.</param>
/// <param name="AudioAttention">Normalised audio attention weights [B,n], or null for a face-only head.</param>
public sealed record FusionHeadOutput(Tensor Logits, Tensor? FaceAttention, Tensor? AudioAttention);

/// <summary>
/// The trainable head of the method: attention over the face frames and over the audio map positions (kinds chosen
/// independently), cross-modal fusion (FBP or concatenation), then dropout and a Linear classifier to K classes.
/// Single-modality variants skip the fusion. Export it with <see cref="Onnx.FusionHeadOnnx.Export"/>.
/// </summary>
public sealed class FusionHead : nn.Module
{
    private readonly AttentionPooling? face;
    private readonly AttentionPooling? audio;
    private readonly CrossModalFusion? fusion;
    private readonly Dropout dropout;
    private readonly Linear classifier;

    /// <summary>Creates the head (weights initialised from TorchSharp's current generator).</summary>
    public FusionHead(FusionHeadOptions options) : base(nameof(FusionHead))
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options with { };
        if (options.UsesFace) face = AttentionPooling.Create(options.FaceAttention, options.FaceDim, options.AttentionDropout, options.TransformerDim);
        if (options.UsesAudio) audio = AttentionPooling.Create(options.AudioAttention, options.AudioDim, options.AttentionDropout, options.TransformerDim);
        int features;
        if (face is not null && audio is not null)
        {
            fusion = options.Fusion == FusionKind.Fbp
                ? new FactorizedBilinearPooling(audio.OutputDim, face.OutputDim, options.FbpOutputDim, options.FbpFactor, options.FbpDropout, options.FbpSignedSqrt)
                : new ConcatFusion(audio.OutputDim, face.OutputDim);
            features = fusion.OutputDim;
        }
        else
        {
            features = (face ?? audio)!.OutputDim;
        }
        dropout = nn.Dropout(options.ClassifierDropout);
        classifier = nn.Linear(features, options.Classes);
        RegisterComponents();
    }

    /// <summary>A copy of the options the head was built from.</summary>
    public FusionHeadOptions Options { get; }

    /// <summary>Face attention, or null for an audio-only head.</summary>
    public AttentionPooling? FaceAttention => face;

    /// <summary>Audio attention, or null for a face-only head.</summary>
    public AttentionPooling? AudioAttention => audio;

    /// <summary>Cross-modal fusion, or null for a single-modality head.</summary>
    public CrossModalFusion? Fusion => fusion;

    /// <summary>The classifier Linear(fused → K).</summary>
    public Linear Classifier => classifier;

    /// <summary>
    /// Runs the head. face [B,N,d_v] with faceMask [B,N]; audio [B,n,d_a] with audioMask [B,n] (mask 1 = real item,
    /// 0 = padding). The inputs of an unused modality may be null.
    /// </summary>
    public FusionHeadOutput forward(Tensor? faceFeatures, Tensor? faceMask, Tensor? audioFeatures, Tensor? audioMask)
    {
        Tensor? fv = null, fw = null, av = null, aw = null;
        if (face is not null)
        {
            if (faceFeatures is null || faceMask is null) throw new ArgumentException("This head uses the face: give face features and mask.");
            (fv, fw) = face.forward(faceFeatures, faceMask);
        }
        if (audio is not null)
        {
            if (audioFeatures is null || audioMask is null) throw new ArgumentException("This head uses audio: give audio features and mask.");
            (av, aw) = audio.forward(audioFeatures, audioMask);
        }
        var fused = fusion is not null ? fusion.forward(av!, fv!) : (fv ?? av)!;
        return new FusionHeadOutput(classifier.forward(dropout.forward(fused)), fw, aw);
    }

    /// <summary>Class probabilities [B,K] = softmax of the logits (call <c>eval()</c> first for inference).</summary>
    public Tensor Predict(Tensor? faceFeatures, Tensor? faceMask, Tensor? audioFeatures, Tensor? audioMask)
        => torch.softmax(forward(faceFeatures, faceMask, audioFeatures, audioMask).Logits, 1);
}
