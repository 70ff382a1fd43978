using EmotionML.Core;
using System.Text.Json.Serialization;

namespace EmotionML.AudioCnn;

/// <summary>
/// Options of the audio feature stage (<see cref="AudioFeatureTransformer"/>): runs a trained audio CNN on spectrograms.
/// Column names are saved in the model zip; <see cref="ModelPath"/> and <see cref="Execution"/> are deployment settings,
/// never saved (the zip stores the CNN's ONNX bytes).
/// </summary>
public sealed class AudioFeatureOptions : IStageOptions<AudioFeatureOptions>
{
    /// <summary>The trained audio CNN's ONNX file (from <c>emotionml train-audio</c> or <c>AudioCnnTrainer</c>); read when fitting.</summary>
    [JsonIgnore]
    public string? ModelPath { get; set; }

    /// <summary>Input: spectrogram, vector of T × F floats. Default "Spectrogram".</summary>
    public string InputColumnName { get; set; } = "Spectrogram";

    /// <summary>Output: the CNN's last pooling map as n = H·W vectors of C dims (vector [n, C]). Default "AudioFeatures".</summary>
    public string OutputColumnName { get; set; } = "AudioFeatures";

    /// <summary>
    /// Input: the spectrogram's count of real frames (Int32, written by the spectrogram stages). Default
    /// "SpectrogramFrames". When the input has no such column, every frame counts as real.
    /// </summary>
    public string ValidFramesColumnName { get; set; } = "SpectrogramFrames";

    /// <summary>
    /// Output: the attention mask [n] of the n positions, row-major over the feature map's time rows H and frequency
    /// columns W. A time row is 1 when the frames it stands for start inside the real audio (the first ⌈valid·H/T⌉ rows),
    /// 0 when they are padding; a clip without audio (0 real frames, e.g. <c>MissingAudio = Empty</c>) gets all zero, so
    /// the fusion head rests on the face. Default "AudioMask".
    /// </summary>
    public string MaskColumnName { get; set; } = "AudioMask";

    /// <summary>How the CNN's ONNX graph runs. Not saved (see <see cref="EmotionDeploymentOptions"/>).</summary>
    [JsonIgnore]
    public OnnxExecutionOptions Execution { get; set; } = new();

    internal AudioFeatureOptions Clone()
    {
        var copy = (AudioFeatureOptions)MemberwiseClone();
        copy.Execution = Execution.Clone();
        return copy;
    }

    void IStageOptions<AudioFeatureOptions>.Validate() => Validate();

    AudioFeatureOptions IStageOptions<AudioFeatureOptions>.Clone() => Clone();

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Execution, nameof(Execution));
        Execution.Validate();
        if (string.IsNullOrWhiteSpace(InputColumnName)) throw new ArgumentException("InputColumnName must be set.", nameof(InputColumnName));
        if (string.IsNullOrWhiteSpace(OutputColumnName)) throw new ArgumentException("OutputColumnName must be set.", nameof(OutputColumnName));
        if (string.IsNullOrWhiteSpace(MaskColumnName)) throw new ArgumentException("MaskColumnName must be set.", nameof(MaskColumnName));
    }
}

/// <summary>Shapes of a trained audio CNN graph: input [1, 1, Frames, Bins] → output [1, Positions, Channels].</summary>
public sealed class AudioCnnShape
{
    /// <summary>T, spectrogram frames.</summary>
    public int Frames { get; set; }

    /// <summary>F, spectrogram bins.</summary>
    public int Bins { get; set; }

    /// <summary>n = H·W, positions of the last pooling map.</summary>
    public int Positions { get; set; }

    /// <summary>C, channels of the last pooling map.</summary>
    public int Channels { get; set; }

    internal AudioCnnShape Clone() => (AudioCnnShape)MemberwiseClone();

    internal void Validate()
    {
        if (Frames < 1 || Bins < 1 || Positions < 1 || Channels < 1)
            throw new ArgumentOutOfRangeException(nameof(Frames), $"audio CNN shape must be positive; got {Frames}×{Bins} → {Positions}×{Channels}.");
    }
}
