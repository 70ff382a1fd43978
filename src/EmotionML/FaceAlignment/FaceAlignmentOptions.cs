using EmotionML.Core;
using System.Text.Json.Serialization;

namespace EmotionML.FaceAlignment;

/// <summary>
/// Options of the face alignment stage (<see cref="FaceAlignmentEstimator"/>). Model settings are saved in the model zip;
/// <see cref="DetectorModelPath"/> and <see cref="Execution"/> are deployment settings, used in this process and never saved.
/// </summary>
public sealed class FaceAlignmentOptions : IStageOptions<FaceAlignmentOptions>
{
    /// <summary>Side of the aligned square crop, in pixels. Default 224.</summary>
    public const int CropSize = 224;

    /// <summary>Frames per clip in the fixed-shape outputs. Clips with more frames are subsampled uniformly; fewer are padded (mask 0). Default 16.</summary>
    public int MaxFrames { get; set; } = 16;

    /// <summary>
    /// YuNet ONNX file; null finds <c>models/yunet/face_detection_yunet_2023mar.onnx</c> as <see cref="KnownModel.Resolve"/>
    /// does (next to the application, <c>EMOTIONML_MODELS</c>, the shared folder). Its sha256 is checked. Read when
    /// fitting; the model zip stores the detector's bytes, not this path.
    /// </summary>
    [JsonIgnore]
    public string? DetectorModelPath { get; set; }

    /// <summary>Minimum detection score (√(cls·obj)). Default 0.6.</summary>
    public float ScoreThreshold { get; set; } = 0.6f;

    /// <summary>IoU above which overlapping detections are suppressed. Default 0.3.</summary>
    public float NmsThreshold { get; set; } = 0.3f;

    /// <summary>Margin around the face, as a fraction of the landmark template's face box (the paper enlarges the box by 30 %). Default 0.3.</summary>
    public float Margin { get; set; } = 0.3f;

    /// <summary>
    /// When a frame has no face: true (default, the paper's rule) uses the whole frame resized to 224×224; false leaves the crop black.
    /// Either way <c>FaceFound</c> is false for that frame.
    /// </summary>
    public bool WholeFrameFallback { get; set; } = true;

    /// <summary>How the detector's ONNX graph runs. Not saved: a loaded model runs as <see cref="EmotionDeploymentOptions"/> say.</summary>
    [JsonIgnore]
    public OnnxExecutionOptions Execution { get; set; } = new();

    /// <summary>Input: frames (RGB24). Default "Frames".</summary>
    public string FramesColumnName { get; set; } = "Frames";

    /// <summary>Input: number of frames. Default "FrameCount".</summary>
    public string FrameCountColumnName { get; set; } = "FrameCount";

    /// <summary>Input: frame width. Default "FrameWidth".</summary>
    public string FrameWidthColumnName { get; set; } = "FrameWidth";

    /// <summary>Input: frame height. Default "FrameHeight".</summary>
    public string FrameHeightColumnName { get; set; } = "FrameHeight";

    /// <summary>Output: aligned crops, MaxFrames × 224 × 224 × 3 bytes, RGB. Default "FaceCrops".</summary>
    public string CropsColumnName { get; set; } = "FaceCrops";

    /// <summary>Output: per frame, whether a face was found. Default "FaceFound".</summary>
    public string FaceFoundColumnName { get; set; } = "FaceFound";

    /// <summary>Output: 5 landmarks per frame (x, y in crop pixels; 0 where no face). Default "FaceLandmarks".</summary>
    public string LandmarksColumnName { get; set; } = "FaceLandmarks";

    /// <summary>Output: face box per frame in frame pixels (x, y, w, h; 0 where no face). Default "FaceBoxes".</summary>
    public string BoxesColumnName { get; set; } = "FaceBoxes";

    /// <summary>Output: 1 for a real frame, 0 for padding. Default "FrameMask".</summary>
    public string MaskColumnName { get; set; } = "FrameMask";

    /// <summary>
    /// Output: 1 for a real frame in which a face was found, 0 for the others and for padding (MaxFrames floats). A clip
    /// without a face in any frame gets its <see cref="MaskColumnName"/> values instead (documented fallback: its frames,
    /// whole-frame crops under <see cref="WholeFrameFallback"/>, are all it has). Point a later stage's mask at this column
    /// (e.g. <c>FusionHeadColumns.FaceMaskColumnName</c> and the fusion trainer's) so that frame attention and pooling skip
    /// frames without a face. Default "FaceMask".
    /// </summary>
    /// <example>
    /// <code>
    /// var chain = ml.Transforms.LoadVideo()
    ///     .Append(ml.Transforms.AlignFaces())
    ///     .Append(ml.Transforms.ExtractFaceFeatures(new FaceFeatureOptions { MaskColumnName = "FaceMask" }));
    /// </code>
    /// </example>
    public string FaceMaskColumnName { get; set; } = "FaceMask";

    internal FaceAlignmentOptions Clone()
    {
        var copy = (FaceAlignmentOptions)MemberwiseClone();
        copy.Execution = Execution.Clone();
        return copy;
    }

    void IStageOptions<FaceAlignmentOptions>.Validate() => Validate();

    FaceAlignmentOptions IStageOptions<FaceAlignmentOptions>.Clone() => Clone();

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Execution, nameof(Execution));
        Execution.Validate();
        foreach (var (name, value) in new[] { (nameof(FramesColumnName), FramesColumnName), (nameof(FrameCountColumnName), FrameCountColumnName), (nameof(FrameWidthColumnName), FrameWidthColumnName),
            (nameof(FrameHeightColumnName), FrameHeightColumnName), (nameof(CropsColumnName), CropsColumnName), (nameof(FaceFoundColumnName), FaceFoundColumnName),
            (nameof(LandmarksColumnName), LandmarksColumnName), (nameof(BoxesColumnName), BoxesColumnName), (nameof(MaskColumnName), MaskColumnName), (nameof(FaceMaskColumnName), FaceMaskColumnName) })
            if (string.IsNullOrWhiteSpace(value)) throw new ArgumentException($"{name} must name a column.", name);
        if (MaxFrames < 1) throw new ArgumentOutOfRangeException(nameof(MaxFrames), MaxFrames, "MaxFrames must be at least 1.");
        if (ScoreThreshold is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(ScoreThreshold), ScoreThreshold, "ScoreThreshold must be in [0, 1].");
        if (NmsThreshold is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(NmsThreshold), NmsThreshold, "NmsThreshold must be in [0, 1].");
        if (Margin is < 0 or > 2) throw new ArgumentOutOfRangeException(nameof(Margin), Margin, "Margin must be in [0, 2].");
    }
}
