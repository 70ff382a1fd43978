using System.Text.Json.Serialization;

namespace EmotionML.Fusion;

/// <summary>
/// Column names and execution settings of the fusion head stage (<see cref="FusionHeadTransformer"/>). The column names
/// are saved in the model zip; <see cref="Execution"/> is a deployment setting, never saved.
/// </summary>
public sealed class FusionHeadColumns
{
    /// <summary>Input: per-frame face features [MaxFrames, D]. Default "FaceFeatures".</summary>
    public string FaceFeaturesColumnName { get; set; } = "FaceFeatures";

    /// <summary>Input: frame mask [MaxFrames]. Default "FrameMask".</summary>
    public string FaceMaskColumnName { get; set; } = "FrameMask";

    /// <summary>Input: audio feature set [n, C]. Default "AudioFeatures".</summary>
    public string AudioFeaturesColumnName { get; set; } = "AudioFeatures";

    /// <summary>Input: audio mask [n]. Default "AudioMask".</summary>
    public string AudioMaskColumnName { get; set; } = "AudioMask";

    /// <summary>Output: class probabilities [K], with slot names. Default "Score".</summary>
    public string ScoreColumnName { get; set; } = "Score";

    /// <summary>Output: the most probable class, as a key with the class names as key values. Default "PredictedLabel".</summary>
    public string PredictedLabelColumnName { get; set; } = "PredictedLabel";

    /// <summary>Output: normalised attention weight of each frame (sums to 1 over real frames). Default "FaceAttention".</summary>
    public string FaceAttentionColumnName { get; set; } = "FaceAttention";

    /// <summary>Output: normalised attention weight of each audio position. Default "AudioAttention".</summary>
    public string AudioAttentionColumnName { get; set; } = "AudioAttention";

    /// <summary>How the head's ONNX graph runs. Not saved (see <see cref="EmotionDeploymentOptions"/>).</summary>
    [JsonIgnore]
    public OnnxExecutionOptions Execution { get; set; } = new();

    internal FusionHeadColumns Clone()
    {
        var copy = (FusionHeadColumns)MemberwiseClone();
        copy.Execution = Execution.Clone();
        return copy;
    }

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Execution, nameof(Execution));
        Execution.Validate();
        foreach (var (name, value) in new[] { (nameof(FaceFeaturesColumnName), FaceFeaturesColumnName), (nameof(FaceMaskColumnName), FaceMaskColumnName),
            (nameof(AudioFeaturesColumnName), AudioFeaturesColumnName), (nameof(AudioMaskColumnName), AudioMaskColumnName), (nameof(ScoreColumnName), ScoreColumnName),
            (nameof(PredictedLabelColumnName), PredictedLabelColumnName), (nameof(FaceAttentionColumnName), FaceAttentionColumnName), (nameof(AudioAttentionColumnName), AudioAttentionColumnName) })
            if (string.IsNullOrWhiteSpace(value)) throw new ArgumentException($"{name} must name a column.", name);
    }
}

/// <summary>What a trained head consumes and produces (stored with its ONNX graph).</summary>
public sealed class FusionHeadSignature
{
    /// <summary>Class names, in score order.</summary>
    public string[] Classes { get; set; } = [];

    /// <summary>Frames per clip of the face input (0 when the head uses no face).</summary>
    public int FaceFrames { get; set; }

    /// <summary>Face feature dimension D (0 when the head uses no face).</summary>
    public int FaceDim { get; set; }

    /// <summary>Audio positions n (0 when the head uses no audio).</summary>
    public int AudioPositions { get; set; }

    /// <summary>Audio feature dimension C (0 when the head uses no audio).</summary>
    public int AudioDim { get; set; }

    /// <summary>A human-readable description of the head (attention kinds, fusion), for reports.</summary>
    public string Description { get; set; } = "";

    internal FusionHeadSignature Clone()
    {
        var copy = (FusionHeadSignature)MemberwiseClone();
        copy.Classes = (string[])Classes.Clone();
        return copy;
    }

    internal void Validate()
    {
        if (Classes is null || Classes.Length < 2) throw new ArgumentException("A fusion head needs at least two classes.", nameof(Classes));
        if (Classes.Any(string.IsNullOrEmpty) || Classes.Distinct().Count() != Classes.Length) throw new ArgumentException("Class names must be non-empty and distinct.", nameof(Classes));
        if (FaceFrames < 0 || FaceDim < 0 || AudioPositions < 0 || AudioDim < 0) throw new ArgumentOutOfRangeException(nameof(FaceFrames), "Input sizes must not be negative.");
        if (FaceFrames == 0 && AudioPositions == 0) throw new ArgumentException("A fusion head needs face or audio input.");
        if ((FaceFrames > 0) != (FaceDim > 0) || (AudioPositions > 0) != (AudioDim > 0)) throw new ArgumentException("Each used modality needs both its item count and its dimension.");
    }

    internal bool UsesFace => FaceFrames > 0;

    internal bool UsesAudio => AudioPositions > 0;
}
