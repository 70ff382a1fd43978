namespace EmotionML.AudioCnn;

/// <summary>Options of the audio feature stage (<see cref="AudioFeatureTransformer"/>): runs a trained audio CNN on spectrograms.</summary>
public sealed class AudioFeatureOptions
{
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

    /// <summary>How the CNN's ONNX graph runs.</summary>
    public OnnxExecutionOptions Execution { get; set; } = new();
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
}
