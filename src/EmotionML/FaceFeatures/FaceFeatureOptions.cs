using EmotionML.Core;
using System.Text.Json.Serialization;

namespace EmotionML.FaceFeatures;

/// <summary>
/// Options of the face-feature stage (<see cref="FaceFeatureEstimator"/>). Model settings (backbones, enhancement, copies,
/// columns) are saved in the model zip; <see cref="ModelPath"/>, <see cref="SecondModelPath"/>, <see cref="CacheDirectory"/>
/// and <see cref="Execution"/> are deployment settings, used in this process and never saved.
/// </summary>
public sealed class FaceFeatureOptions : IStageOptions<FaceFeatureOptions>
{
    /// <summary>The backbone CNN. Default <see cref="FaceBackboneKind.FerDenseNet121"/> (1024-d).</summary>
    public FaceBackboneKind Backbone { get; set; } = FaceBackboneKind.FerDenseNet121;

    /// <summary>ONNX file of <see cref="Backbone"/>; null finds the default file as <see cref="KnownModel.Resolve"/> does (next to the application, <c>EMOTIONML_MODELS</c>, the shared folder). Its sha256 is checked; a file fine-tuned by EmotionML.Training (e.g. <c>emotionml train-face</c>) is accepted by its metadata and interface instead (see the face-feature docs).</summary>
    [JsonIgnore]
    public string? ModelPath { get; set; }

    /// <summary>Second backbone, used only by <see cref="FeatureEnhancement.FArMean"/>. Default <see cref="FaceBackboneKind.MobileFaceNet"/>.</summary>
    public FaceBackboneKind SecondBackbone { get; set; } = FaceBackboneKind.MobileFaceNet;

    /// <summary>ONNX file of <see cref="SecondBackbone"/>; null uses its default path.</summary>
    [JsonIgnore]
    public string? SecondModelPath { get; set; }

    /// <summary>How the per-frame feature is built. Default <see cref="FeatureEnhancement.Basic"/>.</summary>
    public FeatureEnhancement Enhancement { get; set; } = FeatureEnhancement.Basic;

    /// <summary>Rotations (degrees) of the transformed copies; null = the enhancement's set ({−2, 0, 2}; {−15, 0, 15} for F-MeanStd-2).</summary>
    public double[]? Rotations { get; set; }

    /// <summary>Scales of the transformed copies; null = the enhancement's set ({1, 1.03, 1.07}; {0.75, 1, 1.25} for F-MeanStd-2).</summary>
    public double[]? Scales { get; set; }

    /// <summary>Whether every rotation × scale copy also has a horizontally mirrored twin. Default true (3 × 3 × 2 = 18 copies).</summary>
    public bool Mirror { get; set; } = true;

    /// <summary>
    /// Folder of the on-disk feature cache (<see cref="FaceFeatureCache"/>); null (default) turns caching off.
    /// <see cref="FaceFeatureCache.DefaultDirectory"/> is the conventional place ($EMOTIONML_CACHE or ~/.cache/emotionml).
    /// Not saved: a loaded model caches where <see cref="EmotionDeploymentOptions.FeatureCacheDirectory"/> says.
    /// </summary>
    [JsonIgnore]
    public string? CacheDirectory { get; set; }

    /// <summary>How the backbone graphs run (CPU/CUDA with fallback, intra-op threads). Not saved (see <see cref="EmotionDeploymentOptions"/>).</summary>
    [JsonIgnore]
    public OnnxExecutionOptions Execution { get; set; } = new();

    /// <summary>Input: aligned 224×224 RGB crops, MaxFrames × 224 × 224 × 3 bytes. Default "FaceCrops".</summary>
    public string CropsColumnName { get; set; } = "FaceCrops";

    /// <summary>Input: 1 for a real frame, 0 for padding (MaxFrames floats). Default "FrameMask".</summary>
    public string MaskColumnName { get; set; } = "FrameMask";

    /// <summary>Output: features, MaxFrames × D floats (padding rows zero). Default "FaceFeatures".</summary>
    public string OutputColumnName { get; set; } = "FaceFeatures";

    /// <summary>
    /// In-process only (not saved): feed every backbone the whole crop, ignoring its crop geometry. Used for inputs that are
    /// already tight face images (FER2013) rather than 224 aligned crops with a 30 % margin.
    /// </summary>
    internal bool WholeCropInput { get; set; }

    /// <summary>The per-frame feature dimension these options produce.</summary>
    public int FeatureDimension => FaceFeatures.Enhancement.OutputDim(Enhancement, FaceBackbone.Of(Backbone).FeatureDim,
        Enhancement == FeatureEnhancement.FArMean ? FaceBackbone.Of(SecondBackbone).FeatureDim : 0);

    /// <summary>The transformed copies each frame is expanded to (empty for Basic and F-NormFFT).</summary>
    internal CropCopy[] Copies()
    {
        if (!FaceFeatures.Enhancement.UsesCopies(Enhancement)) return [];
        var wide = Enhancement == FeatureEnhancement.FMeanStd2;
        return CropCopy.Grid(Rotations ?? (wide ? FaceFeatures.Enhancement.Rotations2 : FaceFeatures.Enhancement.Rotations),
            Scales ?? (wide ? FaceFeatures.Enhancement.Scales2 : FaceFeatures.Enhancement.Scales), Mirror);
    }

    internal FaceFeatureOptions Clone()
    {
        var copy = (FaceFeatureOptions)MemberwiseClone();
        copy.Rotations = (double[]?)Rotations?.Clone();
        copy.Scales = (double[]?)Scales?.Clone();
        copy.Execution = Execution.Clone();
        return copy;
    }

    void IStageOptions<FaceFeatureOptions>.Validate() => Validate();

    FaceFeatureOptions IStageOptions<FaceFeatureOptions>.Clone() => Clone();

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Execution, nameof(Execution));
        Execution.Validate();
        if (string.IsNullOrWhiteSpace(CropsColumnName)) throw new ArgumentException("CropsColumnName must be set.", nameof(CropsColumnName));
        if (string.IsNullOrWhiteSpace(MaskColumnName)) throw new ArgumentException("MaskColumnName must be set.", nameof(MaskColumnName));
        FaceBackbone.Of(Backbone);
        if (!Enum.IsDefined(Enhancement)) throw new ArgumentOutOfRangeException(nameof(Enhancement), Enhancement, "unknown enhancement");
        if (Enhancement == FeatureEnhancement.FArMean) FaceBackbone.Of(SecondBackbone);
        if (Rotations is { Length: 0 }) throw new ArgumentOutOfRangeException(nameof(Rotations), "Rotations must not be empty (null = default set).");
        if (Scales is { Length: 0 }) throw new ArgumentOutOfRangeException(nameof(Scales), "Scales must not be empty (null = default set).");
        if (Scales != null && Scales.Any(s => !(s > 0) || double.IsInfinity(s))) throw new ArgumentOutOfRangeException(nameof(Scales), "Scales must be positive.");
        if (Rotations != null && Rotations.Any(r => !double.IsFinite(r))) throw new ArgumentOutOfRangeException(nameof(Rotations), "Rotations must be finite.");
        if (string.IsNullOrWhiteSpace(OutputColumnName)) throw new ArgumentException("OutputColumnName must be set.", nameof(OutputColumnName));
    }
}
