namespace EmotionML;

/// <summary>Base class of every error EmotionML raises on purpose.</summary>
public class EmotionMLException : Exception
{
    /// <summary>Creates the exception.</summary>
    public EmotionMLException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>What is wrong with a media file.</summary>
public enum MediaProblem
{
    /// <summary>The file does not exist.</summary>
    Missing,
    /// <summary>The file has zero bytes.</summary>
    Empty,
    /// <summary>The file is not a media container that ffmpeg can read.</summary>
    NotMedia,
    /// <summary>The container was recognised but decoding failed part-way (truncated or damaged).</summary>
    Corrupt,
    /// <summary>The file has no video stream, and the stage needs one.</summary>
    NoVideo,
    /// <summary>The file has no audio stream, and the stage needs one.</summary>
    NoAudio,
    /// <summary>ffmpeg/ffprobe could not be started.</summary>
    DecoderUnavailable,
    /// <summary>The path is not a local regular file: a URL or protocol prefix (<c>http:</c>, <c>concat:</c>, <c>file:</c>...), or a directory.</summary>
    NotAFile,
    /// <summary>The file is a format EmotionML does not accept, such as a playlist (HLS) or a concat list that would make ffmpeg read other files.</summary>
    UnsupportedFormat,
    /// <summary>The file exceeds a limit of the input stage (file size, duration or frame size), checked before decoding.</summary>
    TooLarge,
    /// <summary>ffmpeg/ffprobe did not finish within the input stage's time limit and was killed.</summary>
    TimedOut,
}

/// <summary>A media file could not be used. <see cref="Path"/> names it; <see cref="Problem"/> says why.</summary>
public sealed class MediaFileException : EmotionMLException
{
    /// <summary>Creates the exception.</summary>
    public MediaFileException(string path, MediaProblem problem, string detail, Exception? inner = null)
        : base($"{path}: {Describe(problem)}{(string.IsNullOrWhiteSpace(detail) ? "" : $" ({detail.Trim()})")}", inner)
    {
        Path = path;
        Problem = problem;
    }

    /// <summary>The file that failed.</summary>
    public string Path { get; }

    /// <summary>Why it failed.</summary>
    public MediaProblem Problem { get; }

    private static string Describe(MediaProblem p) => p switch
    {
        MediaProblem.Missing => "file not found",
        MediaProblem.Empty => "file is empty (0 bytes)",
        MediaProblem.NotMedia => "not a media file ffmpeg can read",
        MediaProblem.Corrupt => "media file is truncated or damaged",
        MediaProblem.NoVideo => "no video stream",
        MediaProblem.NoAudio => "no audio stream",
        MediaProblem.DecoderUnavailable => "ffmpeg/ffprobe not found on PATH (install the 'ffmpeg' package)",
        MediaProblem.NotAFile => "not a local regular file (URLs, protocol prefixes and directories are refused)",
        MediaProblem.UnsupportedFormat => "media format not accepted",
        MediaProblem.TooLarge => "media file exceeds a limit of the input stage",
        MediaProblem.TimedOut => "decoding did not finish in time (ffmpeg was stopped)",
        _ => p.ToString(),
    };
}

/// <summary>A pretrained model file is missing or is not the file EmotionML was built for.</summary>
public sealed class ModelFileException : EmotionMLException
{
    /// <summary>Creates the exception.</summary>
    public ModelFileException(string path, string message) : base($"{path}: {message}")
    {
        Path = path;
        Searched = [path];
    }

    /// <summary>Creates the exception for a file looked for in several places (<paramref name="searched"/>, in order).</summary>
    public ModelFileException(string path, string message, IReadOnlyList<string> searched) : base($"{path}: {message}")
    {
        Path = path;
        Searched = searched;
    }

    /// <summary>The model file (for a file not found anywhere, its path relative to a models folder).</summary>
    public string Path { get; }

    /// <summary>Every path that was tried, in the order they were tried.</summary>
    public IReadOnlyList<string> Searched { get; }
}

/// <summary>A saved EmotionML model (zip) cannot be read by this build: written by another format version, or incomplete.</summary>
public sealed class ModelFormatException : EmotionMLException
{
    /// <summary>Creates the exception.</summary>
    public ModelFormatException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>Input data that cannot be used: NaN/Inf features, wrong sample rate, a clip too short for a stage.</summary>
public sealed class InvalidInputException : EmotionMLException
{
    /// <summary>Creates the exception.</summary>
    public InvalidInputException(string message) : base(message) { }
}
