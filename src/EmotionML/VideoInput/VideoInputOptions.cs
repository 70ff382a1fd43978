namespace EmotionML.VideoInput;

/// <summary>How frames are chosen from a clip.</summary>
public enum FrameSampling
{
    /// <summary><see cref="VideoInputOptions.FrameCount"/> frames spread uniformly over the clip (the centre of each of N equal segments).</summary>
    Uniform,
    /// <summary>Frames at <see cref="VideoInputOptions.FramesPerSecond"/>, at most <see cref="VideoInputOptions.FrameCount"/> (spread uniformly when there would be more).</summary>
    Rate,
}

/// <summary>What to do when a clip lacks a stream the stage decodes.</summary>
public enum MissingStreamPolicy
{
    /// <summary>Throw <see cref="MediaFileException"/> (<see cref="MediaProblem.NoAudio"/> or <see cref="MediaProblem.NoVideo"/>).</summary>
    Throw,
    /// <summary>Output an empty stream: zero frames (FrameCount 0), or zero audio samples. Later stages treat it as absent.</summary>
    Empty,
}

/// <summary>Options of the video input stage (<see cref="VideoInputEstimator"/>).</summary>
public sealed class VideoInputOptions
{
    /// <summary>The audio sample rate of the <see cref="AudioColumnName"/> output: 16 kHz mono.</summary>
    public const int AudioSampleRate = 16000;

    /// <summary>Text column with the path of each clip. Default "VideoPath".</summary>
    public string InputColumnName { get; set; } = "VideoPath";

    /// <summary>Frame sampling policy. Default <see cref="FrameSampling.Uniform"/>.</summary>
    public FrameSampling Sampling { get; set; } = FrameSampling.Uniform;

    /// <summary>Number of frames (Uniform) or maximum number of frames (Rate). Default 16.</summary>
    public int FrameCount { get; set; } = 16;

    /// <summary>Sampling rate in frames per second, for <see cref="FrameSampling.Rate"/>. Default 5.</summary>
    public double FramesPerSecond { get; set; } = 5;

    /// <summary>Frames larger than this (longest side, pixels) are scaled down by ffmpeg; 0 keeps the size. Default 640.</summary>
    public int MaxFrameSide { get; set; } = 640;

    /// <summary>Decode frames. Default true.</summary>
    public bool DecodeVideo { get; set; } = true;

    /// <summary>Decode the audio track. Default true.</summary>
    public bool DecodeAudio { get; set; } = true;

    /// <summary>When the clip has no video stream. Default <see cref="MissingStreamPolicy.Throw"/>.</summary>
    public MissingStreamPolicy MissingVideo { get; set; } = MissingStreamPolicy.Throw;

    /// <summary>When the clip has no audio stream. Default <see cref="MissingStreamPolicy.Throw"/>.</summary>
    public MissingStreamPolicy MissingAudio { get; set; } = MissingStreamPolicy.Throw;

    /// <summary>Output: frames, RGB24, frame after frame (FrameCount × FrameHeight × FrameWidth × 3). Default "Frames".</summary>
    public string FramesColumnName { get; set; } = "Frames";

    /// <summary>Output: number of decoded frames (int). Default "FrameCount".</summary>
    public string FrameCountColumnName { get; set; } = "FrameCount";

    /// <summary>Output: frame width in pixels (int). Default "FrameWidth".</summary>
    public string FrameWidthColumnName { get; set; } = "FrameWidth";

    /// <summary>Output: frame height in pixels (int). Default "FrameHeight".</summary>
    public string FrameHeightColumnName { get; set; } = "FrameHeight";

    /// <summary>Output: time of each frame in seconds. Default "FrameTimes".</summary>
    public string FrameTimesColumnName { get; set; } = "FrameTimes";

    /// <summary>Output: 16 kHz mono audio, −1..1. Default "Audio".</summary>
    public string AudioColumnName { get; set; } = "Audio";

    internal VideoInputOptions Clone() => (VideoInputOptions)MemberwiseClone();

    internal void Validate()
    {
        if (!Enum.IsDefined(Sampling)) throw new ArgumentOutOfRangeException(nameof(Sampling), Sampling, "unknown frame sampling");
        if (!Enum.IsDefined(MissingVideo)) throw new ArgumentOutOfRangeException(nameof(MissingVideo), MissingVideo, "unknown missing-stream policy");
        if (!Enum.IsDefined(MissingAudio)) throw new ArgumentOutOfRangeException(nameof(MissingAudio), MissingAudio, "unknown missing-stream policy");
        foreach (var (name, value) in new[] { (nameof(FramesColumnName), FramesColumnName), (nameof(FrameCountColumnName), FrameCountColumnName), (nameof(FrameWidthColumnName), FrameWidthColumnName),
            (nameof(FrameHeightColumnName), FrameHeightColumnName), (nameof(FrameTimesColumnName), FrameTimesColumnName), (nameof(AudioColumnName), AudioColumnName) })
            if (string.IsNullOrWhiteSpace(value)) throw new ArgumentException($"{name} must name a column.", name);
        if (string.IsNullOrWhiteSpace(InputColumnName)) throw new ArgumentException("InputColumnName must be set.");
        if (FrameCount < 1) throw new ArgumentOutOfRangeException(nameof(FrameCount), FrameCount, "FrameCount must be at least 1.");
        if (Sampling == FrameSampling.Rate && !(FramesPerSecond > 0)) throw new ArgumentOutOfRangeException(nameof(FramesPerSecond), FramesPerSecond, "FramesPerSecond must be positive.");
        if (MaxFrameSide < 0) throw new ArgumentOutOfRangeException(nameof(MaxFrameSide), MaxFrameSide, "MaxFrameSide must be 0 (keep) or positive.");
        if (!DecodeVideo && !DecodeAudio) throw new ArgumentException("At least one of DecodeVideo and DecodeAudio must be true.");
    }

    /// <summary>The frame indices to decode from a clip of <paramref name="totalFrames"/> frames at <paramref name="fps"/>.</summary>
    internal IReadOnlyList<int> SelectFrames(long totalFrames, double fps)
    {
        if (totalFrames <= 0) return [];
        var n = (int)Math.Min(int.MaxValue, totalFrames);
        if (Sampling == FrameSampling.Rate && fps > 0)
        {
            var step = fps / FramesPerSecond;
            var list = new List<int>();
            for (var k = 0; ; k++)
            {
                var i = (int)Math.Round(k * step);
                if (i >= n) break;
                if (list.Count == 0 || list[^1] != i) list.Add(i);
            }
            if (list.Count <= FrameCount) return list;
        }
        return Uniform(n, FrameCount);
    }

    private static List<int> Uniform(int total, int count)
    {
        if (total <= count) return Enumerable.Range(0, total).ToList();
        var list = new List<int>(count);
        for (var i = 0; i < count; i++)
            list.Add((int)Math.Floor((i + 0.5) * total / count));
        return list;
    }
}
