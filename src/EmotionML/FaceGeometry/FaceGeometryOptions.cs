using EmotionML.Core;
using System.Text.Json.Serialization;

namespace EmotionML.FaceGeometry;

/// <summary>
/// Options of the face-geometry stage (<see cref="FaceGeometryEstimator"/>): 68-point landmarks on every aligned face crop,
/// reduced to the expression measures of <see cref="FaceGeometryMeasures.Names"/> (mouth opening, brow raise, eye aperture…,
/// normalised by the face's size). Model settings are saved in the model zip; <see cref="ModelPath"/> and
/// <see cref="Execution"/> are deployment settings, used in this process and never saved.
/// </summary>
public sealed class FaceGeometryOptions : IStageOptions<FaceGeometryOptions>
{
    /// <summary>
    /// The landmark CNN's ONNX file; null finds <c>models/face-landmarks68/fr_landmark.onnx</c> as <see cref="KnownModel.Resolve"/>
    /// does (next to the application, <c>EMOTIONML_MODELS</c>, the shared folder). Its sha256 is checked; the model zip
    /// stores the bytes, not this path.
    /// </summary>
    [JsonIgnore]
    public string? ModelPath { get; set; }

    /// <summary>How the landmark graph runs. Not saved: a loaded model runs as <see cref="EmotionDeploymentOptions"/> say.</summary>
    [JsonIgnore]
    public OnnxExecutionOptions Execution { get; set; } = new();

    /// <summary>Input: aligned 224×224 RGB crops, MaxFrames × 224 × 224 × 3 bytes (the face alignment stage's output). Default "FaceCrops".</summary>
    public string CropsColumnName { get; set; } = "FaceCrops";

    /// <summary>Input: per frame, whether a face was found (MaxFrames booleans). Default "FaceFound".</summary>
    public string FaceFoundColumnName { get; set; } = "FaceFound";

    /// <summary>
    /// Output: the measures, MaxFrames × <see cref="FaceGeometryMeasures.Count"/> floats. Frames without a face (the whole-frame
    /// fallback crop) and padding frames are all zero: no landmarks are guessed on a crop that holds no aligned face.
    /// Default "FaceGeometry".
    /// </summary>
    public string OutputColumnName { get; set; } = "FaceGeometry";

    /// <summary>Output, when set: the 68 landmarks per frame (x, y in 224-crop pixels; zero where no face). Default null (not written).</summary>
    public string? LandmarksColumnName { get; set; }

    internal FaceGeometryOptions Clone()
    {
        var copy = (FaceGeometryOptions)MemberwiseClone();
        copy.Execution = Execution.Clone();
        return copy;
    }

    void IStageOptions<FaceGeometryOptions>.Validate() => Validate();

    FaceGeometryOptions IStageOptions<FaceGeometryOptions>.Clone() => Clone();

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Execution, nameof(Execution));
        Execution.Validate();
        foreach (var (name, value) in new[] { (nameof(CropsColumnName), CropsColumnName), (nameof(FaceFoundColumnName), FaceFoundColumnName), (nameof(OutputColumnName), OutputColumnName) })
            if (string.IsNullOrWhiteSpace(value)) throw new ArgumentException($"{name} must name a column.", name);
        if (LandmarksColumnName != null && string.IsNullOrWhiteSpace(LandmarksColumnName))
            throw new ArgumentException($"{nameof(LandmarksColumnName)} must name a column or be null.", nameof(LandmarksColumnName));
    }
}
