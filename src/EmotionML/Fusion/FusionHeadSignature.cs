namespace EmotionML.Fusion;

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
