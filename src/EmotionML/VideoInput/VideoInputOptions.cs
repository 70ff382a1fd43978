using EmotionML.Core;
namespace EmotionML.VideoInput;

/// <summary>How frames are chosen from a clip. Saved in models by name.</summary>
public enum FrameSampling
{
    /// <summary><see cref="VideoInputOptions.FrameCount"/> frames spread uniformly over the clip (the centre of each of N equal segments).</summary>
    Uniform,
    /// <summary>Frames at <see cref="VideoInputOptions.FramesPerSecond"/>, at most <see cref="VideoInputOptions.FrameCount"/> (spread uniformly when there would be more).</summary>
    Rate,
}

/// <summary>What to do when a clip lacks a stream the stage decodes. Saved in models by name.</summary>
public enum MissingStreamPolicy
{
    /// <summary>Throw <see cref="MediaFileException"/> (<see cref="MediaProblem.NoAudio"/> or <see cref="MediaProblem.NoVideo"/>).</summary>
    Throw,
    /// <summary>Output an empty stream: zero frames (FrameCount 0), or zero audio samples. Later stages treat it as absent.</summary>
    Empty,
}

/// <summary>What the input stage does with a clip that cannot be decoded (any <see cref="MediaFileException"/>). Saved in models by name.</summary>
public enum DecodeErrorPolicy
{
    /// <summary>Throw the <see cref="MediaFileException"/> from the cursor: one bad clip stops the pipeline.</summary>
    Throw,
    /// <summary>
    /// Keep the row with empty outputs (FrameCount 0, no frames, no audio), put the reason in the
    /// <see cref="VideoInputOptions.DecodeErrorColumnName"/> column, and log a warning naming the file through the
    /// MLContext log. A row-to-row stage cannot drop rows: filter on that column (non-empty = skipped) to leave them out.
    /// <see cref="MediaProblem.DecoderUnavailable"/> (ffmpeg missing) is never skipped: it is not the clip's fault.
    /// </summary>
    Skip,
}

/// <summary>
/// Options of the video input stage (<see cref="VideoInputEstimator"/>).
/// </summary>
/// <remarks>
/// <para>Every clip is decoded by one ffmpeg run, which stops reading video after the last sampled frame. Its headers
/// are read before: in process for MP4/MOV, by one ffprobe run for other containers and for any MP4 the header reader
/// is not sure of. Clips are treated as untrusted: only a path to an existing local regular file is accepted (no URLs or protocol
/// prefixes), ffmpeg may open only that file (protocol whitelist <c>file</c>), only the containers EmotionML supports are
/// demuxed (mp4/mov/m4a/3gp, Matroska/WebM, AVI, FLV, MP3, WAV, FLAC, Ogg, MPEG-TS/PS, AAC; never playlists or concat
/// lists), and <see cref="MaxFileBytes"/>, <see cref="MaxDurationSeconds"/> and <see cref="MaxSourceFrameSide"/> are
/// checked before decoding. Each child process is killed after <see cref="ProcessTimeout"/>.</para>
/// <para>A decode that returns less than the container promises is an error (<see cref="MediaProblem.Corrupt"/>), never a
/// silently shorter result: fewer sampled frames than requested (a shortfall is accepted only at the very end of the
/// stream: within 2 frames of the stated frame count, or 2 % when the count is estimated from the duration), or audio
/// shorter than the stated duration by more than 0.1 s + 0.5 %.</para>
/// </remarks>
public sealed class VideoInputOptions : IStageOptions<VideoInputOptions>
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

    /// <summary>What to do with a clip that cannot be decoded. Default <see cref="DecodeErrorPolicy.Throw"/>.</summary>
    /// <example>
    /// Decode a folder of clips, leaving out (and logging) the ones that fail:
    /// <code>
    /// mlContext.Log += (_, e) => { if (e.Kind == ChannelMessageKind.Warning) Console.Error.WriteLine(e.Message); };
    /// var decoded = mlContext.Transforms.LoadVideo(new VideoInputOptions { OnError = DecodeErrorPolicy.Skip }).Fit(clips).Transform(clips);
    /// // FilterByCustomPredicate drops the rows for which the predicate is true.
    /// var good = mlContext.Data.FilterByCustomPredicate&lt;DecodeResult&gt;(decoded, r =&gt; r.DecodeError.Length &gt; 0);
    /// // class DecodeResult { public string DecodeError { get; set; } = ""; }
    /// </code>
    /// </example>
    public DecodeErrorPolicy OnError { get; set; } = DecodeErrorPolicy.Throw;

    /// <summary>
    /// Output when <see cref="OnError"/> is <see cref="DecodeErrorPolicy.Skip"/>: empty for a decoded clip, else
    /// "<c>Problem: message</c>" (the <see cref="MediaProblem"/> name, then the exception message with the path). Default "DecodeError".
    /// </summary>
    public string DecodeErrorColumnName { get; set; } = "DecodeError";

    /// <summary>Time limit of each ffprobe/ffmpeg run; the process is killed when it is exceeded (<see cref="MediaProblem.TimedOut"/>). Default 2 minutes.</summary>
    public TimeSpan ProcessTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Largest accepted file, in bytes (<see cref="MediaProblem.TooLarge"/> beyond). Default 1 GiB.</summary>
    public long MaxFileBytes { get; set; } = 1L << 30;

    /// <summary>Longest accepted clip, in seconds, as the container states it (<see cref="MediaProblem.TooLarge"/> beyond). Default 600 (10 minutes; the audio output is 64 kB per second).</summary>
    public double MaxDurationSeconds { get; set; } = 600;

    /// <summary>Largest accepted stored frame, longest side in pixels (<see cref="MediaProblem.TooLarge"/> beyond). Default 8192 (8K).</summary>
    public int MaxSourceFrameSide { get; set; } = 8192;

    internal VideoInputOptions Clone() => (VideoInputOptions)MemberwiseClone();

    void IStageOptions<VideoInputOptions>.Validate() => Validate();

    VideoInputOptions IStageOptions<VideoInputOptions>.Clone() => Clone();

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
        if (!Enum.IsDefined(OnError)) throw new ArgumentOutOfRangeException(nameof(OnError), OnError, "OnError must be Throw or Skip.");
        if (OnError == DecodeErrorPolicy.Skip && string.IsNullOrWhiteSpace(DecodeErrorColumnName)) throw new ArgumentException("DecodeErrorColumnName must be set when OnError is Skip.", nameof(DecodeErrorColumnName));
        if (ProcessTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ProcessTimeout), ProcessTimeout, "ProcessTimeout must be positive.");
        if (MaxFileBytes < 1) throw new ArgumentOutOfRangeException(nameof(MaxFileBytes), MaxFileBytes, "MaxFileBytes must be positive.");
        if (!(MaxDurationSeconds > 0)) throw new ArgumentOutOfRangeException(nameof(MaxDurationSeconds), MaxDurationSeconds, "MaxDurationSeconds must be positive.");
        if (MaxSourceFrameSide < 1) throw new ArgumentOutOfRangeException(nameof(MaxSourceFrameSide), MaxSourceFrameSide, "MaxSourceFrameSide must be positive.");
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
