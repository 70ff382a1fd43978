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
