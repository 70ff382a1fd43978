namespace EmotionML.Fusion;

/// <summary>Column names and execution settings of the fusion head stage (<see cref="FusionHeadTransformer"/>).</summary>
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

    /// <summary>How the head's ONNX graph runs.</summary>
    public OnnxExecutionOptions Execution { get; set; } = new();
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

    internal bool UsesFace => FaceFrames > 0;

    internal bool UsesAudio => AudioPositions > 0;
}
