using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EmotionML.Training.Fusion;

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
public sealed class FusionHead : nn.Module<Tensor?, Tensor?, Tensor?, Tensor?, FusionHeadOutput>
{
    private readonly FeatureStandardizer? faceNorm;
    private readonly FeatureStandardizer? audioNorm;
    private readonly AttentionPooling? face;
    private readonly AttentionPooling? audio;
    private readonly CrossModalFusion? fusion;
    private readonly Dropout dropout;
    private readonly Linear classifier;

    /// <summary>Creates the head (weights initialised from TorchSharp's current generator).</summary>
    /// <param name="options">Architecture and hyper-parameters.</param>
    /// <param name="faceDim">d_v, the per-frame face feature dimension.</param>
    /// <param name="audioDim">d_a, the per-position audio feature dimension.</param>
    /// <param name="classes">K, the number of classes.</param>
    public FusionHead(FusionHeadOptions options, int faceDim, int audioDim, int classes)
        : this((options ?? throw new ArgumentNullException(nameof(options))) with { FaceDim = faceDim, AudioDim = audioDim, Classes = classes })
    {
    }

    internal FusionHead(FusionHeadOptions options) : base(nameof(FusionHead))
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options with { };
        if (options.UsesFace) faceNorm = new FeatureStandardizer(options.FaceDim);
        if (options.UsesAudio) audioNorm = new FeatureStandardizer(options.AudioDim);
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

    /// <summary>Standardisation of the face features (identity unless fitted; see <see cref="FusionHeadOptions.Standardize"/>), or null for an audio-only head.</summary>
    public FeatureStandardizer? FaceStandardizer => faceNorm;

    /// <summary>Standardisation of the audio features, or null for a face-only head.</summary>
    public FeatureStandardizer? AudioStandardizer => audioNorm;

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
    public override FusionHeadOutput forward(Tensor? faceFeatures, Tensor? faceMask, Tensor? audioFeatures, Tensor? audioMask)
    {
        Tensor? fv = null, fw = null, av = null, aw = null;
        if (face is not null)
        {
            if (faceFeatures is null || faceMask is null) throw new ArgumentException("This head uses the face: give face features and mask.");
            (fv, fw) = face.forward(faceNorm!.forward(faceFeatures), faceMask);
        }
        if (audio is not null)
        {
            if (audioFeatures is null || audioMask is null) throw new ArgumentException("This head uses audio: give audio features and mask.");
            (av, aw) = audio.forward(audioNorm!.forward(audioFeatures), audioMask);
        }
        var fused = fusion is not null ? fusion.forward(av!, fv!) : (fv ?? av)!;
        return new FusionHeadOutput(classifier.forward(dropout.forward(fused)), fw, aw);
    }

    /// <summary>Class probabilities [B,K] = softmax of the logits (call <c>eval()</c> first for inference).</summary>
    public Tensor Predict(Tensor? faceFeatures, Tensor? faceMask, Tensor? audioFeatures, Tensor? audioMask)
        => torch.softmax(forward(faceFeatures, faceMask, audioFeatures, audioMask).Logits, 1);
}
