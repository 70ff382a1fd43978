namespace EmotionML.AudioCnn;

/// <summary>Options of the audio feature stage (<see cref="AudioFeatureTransformer"/>): runs a trained audio CNN on spectrograms.</summary>
public sealed class AudioFeatureOptions
{
    /// <summary>Input: spectrogram, vector of T × F floats. Default "Spectrogram".</summary>
    public string InputColumnName { get; set; } = "Spectrogram";

    /// <summary>Output: the CNN's last pooling map as n = H·W vectors of C dims (vector [n, C]). Default "AudioFeatures".</summary>
    public string OutputColumnName { get; set; } = "AudioFeatures";

    /// <summary>Output: 1 for each of the n positions (all real; kept for the fusion head's masked attention). Default "AudioMask".</summary>
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
