using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace EmotionML.VideoInput;

/// <summary>What ffprobe says of a media file.</summary>
/// <param name="HasVideo">A video stream (not a cover picture) is present.</param>
/// <param name="Width">Width of the frames ffmpeg outputs (after the rotation the container asks for).</param>
/// <param name="Height">Height of the frames ffmpeg outputs (after rotation).</param>
/// <param name="FrameRate">Average frame rate; 0 when unknown.</param>
/// <param name="FrameCountEstimate">Frames the video stream states (nb_frames), or its duration × rate.</param>
/// <param name="VideoDuration">Video stream duration in seconds (the container's when the stream has none).</param>
/// <param name="HasAudio">An audio stream is present.</param>
/// <param name="AudioSampleRate">Sample rate of the audio stream.</param>
/// <param name="AudioChannels">Channels of the audio stream.</param>
/// <param name="Duration">The container's duration in seconds; 0 when unknown.</param>
internal sealed record MediaInfo(
    bool HasVideo, int Width, int Height, double FrameRate, long FrameCountEstimate, double VideoDuration,
    bool HasAudio, int AudioSampleRate, int AudioChannels, double Duration)
{
    /// <summary>The frame count is the container's own (nb_frames), not estimated from the duration.</summary>
    public bool FrameCountExact { get; init; }

    /// <summary>Absolute stream index of the video stream (for <c>-map</c>).</summary>
    public int VideoStreamIndex { get; init; }

    /// <summary>Absolute stream index of the audio stream.</summary>
    public int AudioStreamIndex { get; init; }

    /// <summary>Start time of the video stream in seconds; frame times are given relative to it.</summary>
    public double VideoStart { get; init; }

    /// <summary>Audio stream duration in seconds (the container's when the stream has none); 0 when unknown.</summary>
    public double AudioDuration { get; init; }

    /// <summary>The audio duration is the stream's own, not the container's.</summary>
    public bool AudioDurationOwn { get; init; }

    /// <summary>ffprobe estimated the duration from the bit rate (MP3 without a header): the decoded length is not checked against it.</summary>
    public bool DurationEstimated { get; init; }

    /// <summary>The demuxer ffprobe used (e.g. "mov,mp4,m4a,3gp,3g2,mj2").</summary>
    public string FormatName { get; init; } = "";
}

/// <summary>Decoded frames of a clip: RGB24 packed frame after frame.</summary>
internal sealed record DecodedFrames(byte[] Pixels, int Count, int Width, int Height, float[] Times)
{
    public static DecodedFrames None { get; } = new([], 0, 0, 0, []);
}

/// <summary>
/// Decodes media through the ffmpeg/ffprobe command-line programs (Debian's ffmpeg package). Processes are used rather
/// than a binding so that every codec ffmpeg knows works, with no native library to ship. One clip costs one ffmpeg run
/// (the raw RGB frames come back over stdout, the 16 kHz mono PCM through a temporary file), after its headers are read:
/// in process for MP4/MOV (<see cref="IsoMediaHeader"/>), by one ffprobe run for any other container or whenever the
/// header reader is not sure.
/// Errors become <see cref="MediaFileException"/> with the path as the caller gave it.
/// </summary>
/// <remarks>
/// Files are untrusted. ffmpeg follows references inside some formats (HLS playlists, concat lists, image sequences) to
/// other files or to the network, so: only a local regular file is accepted and passed as <c>file:</c> + its absolute
/// path (no URL, no leading '-'); <c>-protocol_whitelist file</c> and <c>-format_whitelist</c>
/// <see cref="AllowedDemuxers"/> are given to every run; size, duration and frame size limits are checked before
/// decoding; each run is killed after <see cref="VideoInputOptions.ProcessTimeout"/> or on cancellation.
/// </remarks>
internal sealed partial class MediaDecoder
{
    /// <summary>Demuxers ffmpeg may use: the containers EmotionML supports, none of which opens other files.</summary>
    /// <remarks>Matched by ffmpeg against each name of a demuxer ("mov" covers mp4/m4a/3gp, "matroska" covers WebM).</remarks>
    internal const string AllowedDemuxers = "mov,matroska,avi,flv,mp3,wav,flac,ogg,mpegts,mpeg,aac";

    private const int MaxProbeOutputChars = 4 << 20;
    private const int MaxKeptErrorLines = 20;

    private readonly VideoInputOptions _options;

    public MediaDecoder(VideoInputOptions options)
    {
        _options = options;
        Ffmpeg = FfmpegPath;
        Ffprobe = FfprobePath;
    }

    /// <summary>The ffmpeg program new decoders use (a name on PATH or a full path).</summary>
    public static string FfmpegPath { get; set; } = "ffmpeg";

    /// <summary>The ffprobe program new decoders use.</summary>
    public static string FfprobePath { get; set; } = "ffprobe";

    /// <summary>The ffmpeg program of this decoder.</summary>
    public string Ffmpeg { get; init; }

    /// <summary>The ffprobe program of this decoder.</summary>
    public string Ffprobe { get; init; }

    /// <summary>Read MP4/MOV headers in process instead of running ffprobe (default true; false: always ffprobe).</summary>
    public bool ReadHeaders { get; init; } = true;

    /// <summary>
    /// Checks that <paramref name="path"/> names an existing, non-empty local regular file within
    /// <see cref="VideoInputOptions.MaxFileBytes"/>, and returns its absolute path (symbolic links resolved).
    /// </summary>
    public string CheckFile(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new MediaFileException("(empty path)", MediaProblem.Missing, "the VideoPath value is empty");
        if (UrlScheme().IsMatch(path))
            throw new MediaFileException(path, MediaProblem.NotAFile, "give a path to a local file; URLs and ffmpeg protocols are not accepted");
        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new MediaFileException(path, MediaProblem.Missing, e.Message, e);
        }
        if (Directory.Exists(full)) throw new MediaFileException(path, MediaProblem.NotAFile, "it is a directory");
        if (!File.Exists(full)) throw new MediaFileException(path, MediaProblem.Missing, "");
        try
        {
            if (File.ResolveLinkTarget(full, returnFinalTarget: true) is { } target)
            {
                if (!target.Exists || target is DirectoryInfo) throw new MediaFileException(path, MediaProblem.Missing, "a symbolic link to nothing readable");
                full = target.FullName;
            }
        }
        catch (IOException e)
        {
            throw new MediaFileException(path, MediaProblem.Missing, e.Message, e);
        }
        // Devices, FIFOs and sockets report a size of 0, so they stop here too.
        var length = new FileInfo(full).Length;
        if (length == 0) throw new MediaFileException(path, MediaProblem.Empty, "");
        if (length > _options.MaxFileBytes)
            throw new MediaFileException(path, MediaProblem.TooLarge, $"{length} bytes; the limit is MaxFileBytes = {_options.MaxFileBytes}");
        return full;
    }

    /// <summary>
    /// Reads MP4/MOV headers in process (<see cref="IsoMediaHeader"/>) when <see cref="ReadHeaders"/> is set, and runs
    /// ffprobe otherwise or whenever the header reader is not sure (any other container, any odd or broken MP4).
    /// </summary>
    public MediaInfo Probe(string path, string fullPath, CancellationToken cancellation = default)
    {
        cancellation.ThrowIfCancellationRequested();
        if (ReadHeaders && IsoMediaHeader.TryRead(fullPath) is { } info) return info;
        return RunProbe(path, fullPath, cancellation);
    }

    /// <summary>Runs ffprobe on the file checked by <see cref="CheckFile"/>.</summary>
    internal MediaInfo RunProbe(string path, string fullPath, CancellationToken cancellation = default)
    {
        var args = new List<string> { "-hide_banner", "-v", "level+warning" };
        args.AddRange(InputOptions());
        args.AddRange(["-print_format", "json", "-show_format", "-show_streams", FileUrl(fullPath)]);
        string? stdout = null;
        var stderr = new StderrLog(0);
        var code = Run(Ffprobe, args, path, s => stdout = ReadText(s, path), stderr.Add, cancellation);
        if (code != 0)
        {
            if (stderr.NotOnWhitelist is { } format)
                throw new MediaFileException(path, MediaProblem.UnsupportedFormat,
                    $"ffprobe reads it as '{format}'; accepted containers: {AllowedDemuxers} (playlists and concat lists are refused: they make ffmpeg read other files)");
            // ffprobe says "Invalid data" both for a text file named .mp4 and for a truncated mp4: tell them apart by the
            // container signature at the start of the file.
            var problem = HasContainerSignature(fullPath) ? MediaProblem.Corrupt : MediaProblem.NotMedia;
            throw new MediaFileException(path, problem, stderr.FirstError);
        }
        return ParseProbe(path, stdout ?? "", stderr.DurationEstimated);
    }

    /// <summary>Reads ffprobe's JSON; anything missing or malformed becomes a <see cref="MediaFileException"/>.</summary>
    internal static MediaInfo ParseProbe(string path, string json, bool durationEstimated = false)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new MediaFileException(path, MediaProblem.Corrupt, $"ffprobe output is not valid JSON: {e.Message}", e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Malformed(path, "the top level is not an object");
            double duration = 0;
            var formatName = "";
            if (root.TryGetProperty("format", out var format) && format.ValueKind == JsonValueKind.Object)
            {
                duration = ReadDouble(format, "duration");
                formatName = ReadString(format, "format_name") ?? "";
                // Text files are sometimes probed as odd "formats" (e.g. tty) with no usable stream.
                if (formatName is "tty" or "txt") throw new MediaFileException(path, MediaProblem.NotMedia, $"ffprobe reads it as '{formatName}'");
            }
            JsonElement? video = null, audio = null;
            if (root.TryGetProperty("streams", out var streams))
            {
                if (streams.ValueKind != JsonValueKind.Array) throw Malformed(path, "'streams' is not an array");
                foreach (var s in streams.EnumerateArray())
                {
                    if (s.ValueKind != JsonValueKind.Object) throw Malformed(path, "a stream is not an object");
                    var type = ReadString(s, "codec_type");
                    var attached = s.TryGetProperty("disposition", out var d) && d.ValueKind == JsonValueKind.Object && ReadInt(d, "attached_pic") == 1;
                    if (type == "video" && !attached && video == null) video = s;
                    if (type == "audio" && audio == null) audio = s;
                }
            }
            if (video == null && audio == null) throw new MediaFileException(path, MediaProblem.NotMedia, "no audio or video stream");
            int w = 0, h = 0, vIndex = 0, aIndex = 0;
            double fps = 0, vdur = 0, vstart = 0;
            long frames = 0;
            var exact = false;
            if (video is { } v)
            {
                vIndex = ReadIndex(path, v);
                w = ReadInt(v, "width");
                h = ReadInt(v, "height");
                if (w <= 0 || h <= 0) throw Malformed(path, "the video stream states no frame size");
                if (Math.Abs(Rotation(v)) % 180 == 90) (w, h) = (h, w);
                fps = ParseRate(ReadString(v, "avg_frame_rate"));
                if (!(fps > 0 && fps < 1000)) fps = ParseRate(ReadString(v, "r_frame_rate"));
                if (!(fps > 0 && fps < 1000)) fps = 0;
                vdur = StreamDuration(v);
                if (vdur <= 0) vdur = duration;
                vstart = Math.Max(0, ReadDouble(v, "start_time"));
                frames = long.TryParse(ReadString(v, "nb_frames"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;
                exact = frames > 0;
                if (frames <= 0 && fps > 0) frames = (long)Math.Round(vdur * fps);
            }
            int sr = 0, ch = 0;
            double adur = 0;
            var aOwn = false;
            if (audio is { } a)
            {
                aIndex = ReadIndex(path, a);
                sr = int.TryParse(ReadString(a, "sample_rate"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var srv) ? srv : 0;
                ch = ReadInt(a, "channels");
                adur = StreamDuration(a);
                aOwn = adur > 0;
                if (!aOwn) adur = duration;
            }
            return new MediaInfo(video != null, w, h, fps, frames, vdur, audio != null, sr, ch, duration)
            {
                FrameCountExact = exact,
                VideoStreamIndex = vIndex,
                AudioStreamIndex = aIndex,
                VideoStart = vstart,
                AudioDuration = adur,
                AudioDurationOwn = aOwn,
                DurationEstimated = durationEstimated,
                FormatName = formatName,
            };
        }
    }

    /// <summary>Refuses a clip whose stated duration or frame size exceeds the options' limits (before any decoding).</summary>
    public void CheckLimits(string path, MediaInfo info)
    {
        var longest = Math.Max(info.Duration, Math.Max(info.VideoDuration, info.AudioDuration));
        if (longest > _options.MaxDurationSeconds)
            throw new MediaFileException(path, MediaProblem.TooLarge, $"{longest.ToString("0.###", CultureInfo.InvariantCulture)} s long; the limit is MaxDurationSeconds = {_options.MaxDurationSeconds.ToString(CultureInfo.InvariantCulture)}");
        var side = Math.Max(info.Width, info.Height);
        if (side > _options.MaxSourceFrameSide)
            throw new MediaFileException(path, MediaProblem.TooLarge, $"frames of {info.Width}x{info.Height}; the limit is MaxSourceFrameSide = {_options.MaxSourceFrameSide}");
    }

    /// <summary>
    /// Decodes, in one ffmpeg run, the frames with the given indices (ascending; null or empty: no video) scaled to at
    /// most <see cref="VideoInputOptions.MaxFrameSide"/>, and (when <paramref name="decodeAudio"/>) the audio stream as
    /// mono float PCM at <see cref="VideoInputOptions.AudioSampleRate"/>. Less than the container states is an error.
    /// </summary>
    public (DecodedFrames Frames, float[] Audio) Decode(string path, string fullPath, MediaInfo info, IReadOnlyList<int>? indices,
        bool decodeAudio, CancellationToken cancellation = default)
    {
        var video = indices is { Count: > 0 } && info.HasVideo;
        var audio = decodeAudio && info.HasAudio;
        if (!video && !audio) return (DecodedFrames.None, []);
        var (w, h) = video ? ScaledSize(info.Width, info.Height, _options.MaxFrameSide) : (0, 0);
        var frameBytes = w * h * 3;
        var wanted = video ? indices!.Count : 0;
        var args = new List<string> { "-nostdin", "-hide_banner", "-nostats", "-v", "level+info" };
        // Two demuxers of the same file, one for each stream: when the last sampled frame is out, ffmpeg stops reading
        // the video input (the audio input has never decoded video), so the video decoder does not run to the end.
        if (video)
        {
            args.AddRange(InputOptions());
            if (info.HasAudio) args.AddRange(["-discard:a", "all"]);
            args.AddRange(["-i", FileUrl(fullPath)]);
        }
        if (audio)
        {
            args.AddRange(InputOptions());
            if (info.HasVideo) args.AddRange(["-discard:v", "all"]);
            args.AddRange(["-i", FileUrl(fullPath)]);
        }
        string? audioFile = null;
        if (video)
        {
            var select = "select='" + string.Join("+", indices!.Select(i => $"eq(n\\,{i})")) + "'";
            args.AddRange(["-map", $"0:{info.VideoStreamIndex}", "-vf", $"{select},scale={w}:{h}:flags=area,showinfo",
                "-fps_mode", "passthrough", "-frames:v", wanted.ToString(CultureInfo.InvariantCulture), "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]);
        }
        if (audio)
        {
            audioFile = Path.Combine(Path.GetTempPath(), $"emotionml-audio-{Guid.NewGuid():N}.f32");
            // -t guards memory against a container that states less than it holds.
            var cap = (_options.MaxDurationSeconds + 1).ToString("0.###", CultureInfo.InvariantCulture);
            args.AddRange(["-map", $"{(video ? 1 : 0)}:{info.AudioStreamIndex}", "-ac", "1", "-ar", VideoInputOptions.AudioSampleRate.ToString(CultureInfo.InvariantCulture),
                "-t", cap, "-f", "f32le", FileUrl(audioFile)]);
        }
        var stderr = new StderrLog(wanted);
        if ((long)wanted * frameBytes > Array.MaxLength)
            throw new MediaFileException(path, MediaProblem.TooLarge, $"{wanted} frames of {w}x{h} do not fit in one array; lower FrameCount or MaxFrameSide");
        var pixels = video ? new byte[wanted * frameBytes] : [];
        var read = 0;
        try
        {
            var code = Run(Ffmpeg, args, path, s => read = ReadFrames(s, pixels, path), stderr.Add, cancellation);
            if (code != 0) throw new MediaFileException(path, MediaProblem.Corrupt, stderr.FirstError);
            var frames = video ? CheckFrames(path, info, indices!, pixels, read, w, h, stderr) : DecodedFrames.None;
            var samples = audio ? ReadAudio(path, audioFile!, info) : [];
            return (frames, samples);
        }
        finally
        {
            if (audioFile != null) TryDelete(audioFile);
        }
    }

    private static DecodedFrames CheckFrames(string path, MediaInfo info, IReadOnlyList<int> indices, byte[] pixels, int read, int w, int h, StderrLog log)
    {
        var frameBytes = w * h * 3;
        if (read % frameBytes != 0)
            throw new MediaFileException(path, MediaProblem.Corrupt, $"ffmpeg returned a partial frame ({read} bytes for frames of {frameBytes})");
        var count = read / frameBytes;
        if (count == 0)
            throw new MediaFileException(path, MediaProblem.Corrupt, log.FirstError is { Length: > 0 } e ? e : "no frame could be decoded");
        if (count < indices.Count)
        {
            // A stated frame count can be a little high (estimated from the duration, or frames the decoder drops at the
            // end): a stream that ends within that margin of its stated end is complete; one that ends earlier is not.
            var stated = info.FrameCountEstimate;
            var margin = info.FrameCountExact ? 2 : Math.Max(2, (long)Math.Ceiling(0.02 * stated));
            if (indices[count] < stated - margin)
                throw new MediaFileException(path, MediaProblem.Corrupt,
                    $"{count} of {indices.Count} sampled frames decoded: the video stream ended before frame {indices[count]} of the {stated} it states");
            pixels = pixels.AsSpan(0, count * frameBytes).ToArray();
        }
        var fps = info.FrameRate > 0 ? info.FrameRate : 25;
        var times = log.FrameTimes.Count == count
            ? log.FrameTimes.Select(t => (float)Math.Max(0, t - info.VideoStart)).ToArray()
            : indices.Take(count).Select(i => (float)(i / fps)).ToArray();
        return new DecodedFrames(pixels, count, w, h, times);
    }

    private float[] ReadAudio(string path, string file, MediaInfo info)
    {
        if (!File.Exists(file)) throw new MediaFileException(path, MediaProblem.Corrupt, "ffmpeg wrote no audio");
        float[] samples;
        using (var f = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan))
        {
            var limit = (long)((_options.MaxDurationSeconds + 1) * VideoInputOptions.AudioSampleRate * 4) + 4096;
            if (f.Length > limit) throw new MediaFileException(path, MediaProblem.TooLarge, "more audio than MaxDurationSeconds allows");
            samples = new float[f.Length / 4];
            f.ReadExactly(MemoryMarshal.AsBytes(samples.AsSpan()));
        }
        var seconds = samples.Length / (double)VideoInputOptions.AudioSampleRate;
        // A container that states no duration (or too short a one) passed the limit check: the decode is capped, and
        // reaching the cap is the same refusal.
        if (seconds > _options.MaxDurationSeconds)
            throw new MediaFileException(path, MediaProblem.TooLarge, $"more than MaxDurationSeconds = {_options.MaxDurationSeconds.ToString(CultureInfo.InvariantCulture)} s of audio");
        if (info.DurationEstimated) return samples;
        var stated = info.AudioDuration;
        // The stream's own duration is exact to a few ms; the container's (FLV) may cover the longer video stream.
        var margin = info.AudioDurationOwn ? 0.1 + 0.005 * stated : 0.5 + 0.05 * stated;
        if (stated - seconds > margin)
            throw new MediaFileException(path, MediaProblem.Corrupt,
                $"{seconds.ToString("0.###", CultureInfo.InvariantCulture)} s of audio decoded of the {stated.ToString("0.###", CultureInfo.InvariantCulture)} s the container states");
        return samples;
    }

    /// <summary>Reads raw frames into <paramref name="buffer"/> until end of stream; more than it holds is an error.</summary>
    private static int ReadFrames(Stream s, byte[] buffer, string path)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = s.Read(buffer, total, buffer.Length - total);
            if (n == 0) return total;
            total += n;
        }
        // -frames:v stops ffmpeg at the last wanted frame; drain anything more so that it never blocks on a full pipe.
        var scratch = new byte[4096];
        var extra = 0L;
        int m;
        while ((m = s.Read(scratch, 0, scratch.Length)) > 0) extra += m;
        return extra == 0 ? total : throw new MediaFileException(path, MediaProblem.Corrupt, $"ffmpeg returned {extra} bytes more than the sampled frames");
    }

    private static string ReadText(Stream s, string path)
    {
        using var reader = new StreamReader(s, Encoding.UTF8);
        var buffer = new char[8192];
        var sb = new StringBuilder();
        int n;
        while ((n = reader.Read(buffer, 0, buffer.Length)) > 0)
        {
            if (sb.Length + n > MaxProbeOutputChars)
            {
                while (reader.Read(buffer, 0, buffer.Length) > 0) { }
                throw new MediaFileException(path, MediaProblem.Corrupt, $"ffprobe output exceeds {MaxProbeOutputChars} characters");
            }
            sb.Append(buffer, 0, n);
        }
        return sb.ToString();
    }

    /// <summary>Whether the file starts like a media container (mp4/mov, FLV, MP3, WAV, FLAC, Ogg, Matroska, MPEG-PS/TS).</summary>
    internal static bool HasContainerSignature(string path)
    {
        var buffer = new byte[12];
        int read;
        using (var f = File.OpenRead(path))
            read = f.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        var head = buffer.AsSpan(0, read);
        bool At(int offset, string ascii) => read >= offset + ascii.Length && buffer.AsSpan(offset, ascii.Length).SequenceEqual(Encoding.ASCII.GetBytes(ascii));
        if (At(4, "ftyp") || At(4, "moov") || At(4, "mdat") || At(4, "free") || At(4, "wide")) return true;
        if (At(0, "FLV") || At(0, "ID3") || At(0, "RIFF") || At(0, "fLaC") || At(0, "OggS")) return true;
        if (head.Length >= 2 && head[0] == 0xFF && (head[1] & 0xE0) == 0xE0) return true; // MPEG audio frame sync
        if (head.Length >= 4 && head[0] == 0x1A && head[1] == 0x45 && head[2] == 0xDF && head[3] == 0xA3) return true; // Matroska/WebM
        if (head.Length >= 4 && head[0] == 0 && head[1] == 0 && head[2] == 1 && head[3] == 0xBA) return true; // MPEG-PS
        return head.Length >= 1 && head[0] == 0x47 && new FileInfo(path).Length % 188 == 0; // MPEG-TS
    }

    public static (int W, int H) ScaledSize(int width, int height, int maxSide)
    {
        if (maxSide <= 0 || Math.Max(width, height) <= maxSide) return (width, height);
        var s = (double)maxSide / Math.Max(width, height);
        return (Math.Max(2, (int)Math.Round(width * s / 2) * 2), Math.Max(2, (int)Math.Round(height * s / 2) * 2));
    }

    /// <summary>The input as ffmpeg is given it: the file protocol named explicitly, so nothing in the name is read as a protocol or an option.</summary>
    internal static string FileUrl(string fullPath) => "file:" + fullPath;

    /// <summary>Options before every <c>-i</c>: only the file protocol, only the supported demuxers.</summary>
    internal static string[] InputOptions() => ["-protocol_whitelist", "file", "-format_whitelist", AllowedDemuxers];

    /// <summary>
    /// "scheme:" at the start of a path (two or more characters, so that a Windows drive letter is not one), including
    /// ffmpeg's "protocol,options,:" form (subfile).
    /// </summary>
    [GeneratedRegex("^[A-Za-z][A-Za-z0-9+.,-]+:")]
    private static partial Regex UrlScheme();

    private static MediaFileException Malformed(string path, string what)
        => new(path, MediaProblem.Corrupt, $"unexpected ffprobe output: {what}");

    private static int ReadIndex(string path, JsonElement stream)
        => stream.TryGetProperty("index", out var i) && i.ValueKind == JsonValueKind.Number && i.TryGetInt32(out var v) && v >= 0 ? v : throw Malformed(path, "a stream has no index");

    private static int Rotation(JsonElement stream)
    {
        if (stream.TryGetProperty("side_data_list", out var list) && list.ValueKind == JsonValueKind.Array)
            foreach (var sd in list.EnumerateArray())
                if (sd.ValueKind == JsonValueKind.Object && sd.TryGetProperty("rotation", out var r) && r.ValueKind == JsonValueKind.Number && r.TryGetDouble(out var deg))
                    return (int)Math.Round(deg);
        return stream.TryGetProperty("tags", out var tags) && tags.ValueKind == JsonValueKind.Object
            && int.TryParse(ReadString(tags, "rotate"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var rot) ? rot : 0;
    }

    /// <summary>A stream's duration: its "duration", else Matroska's DURATION tag (hh:mm:ss.fffffffff); 0 when neither.</summary>
    private static double StreamDuration(JsonElement stream)
    {
        var d = ReadDouble(stream, "duration");
        if (d > 0) return d;
        if (stream.TryGetProperty("tags", out var tags) && tags.ValueKind == JsonValueKind.Object)
            foreach (var tag in tags.EnumerateObject())
                if (tag.NameEquals("DURATION") || tag.NameEquals("duration"))
                {
                    var parts = (tag.Value.ValueKind == JsonValueKind.String ? tag.Value.GetString() ?? "" : "").Split(':');
                    if (parts.Length == 3 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out var hh) && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var mm)
                        && double.TryParse(parts[2], CultureInfo.InvariantCulture, out var ss))
                        return hh * 3600 + mm * 60 + ss;
                }
        return 0;
    }

    private static double ParseRate(string? rate)
    {
        if (string.IsNullOrEmpty(rate)) return 0;
        var parts = rate.Split('/');
        if (parts.Length == 2 && double.TryParse(parts[0], CultureInfo.InvariantCulture, out var a) && double.TryParse(parts[1], CultureInfo.InvariantCulture, out var b) && b != 0)
            return a / b;
        return double.TryParse(rate, CultureInfo.InvariantCulture, out var r) ? r : 0;
    }

    private static string? ReadString(JsonElement e, string name)
        => e.TryGetProperty(name, out var p) ? p.ValueKind switch
        {
            JsonValueKind.String => p.GetString(),
            JsonValueKind.Number => p.GetRawText(),
            _ => null,
        } : null;

    private static int ReadInt(JsonElement e, string name)
        => int.TryParse(ReadString(e, name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : 0;

    private static double ReadDouble(JsonElement e, string name)
        => double.TryParse(ReadString(e, name), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v : 0;

    private static void TryDelete(string file)
    {
        try { File.Delete(file); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>
    /// Runs <paramref name="exe"/>, hands its stdout to <paramref name="readStdout"/> and its stderr lines to
    /// <paramref name="onStderrLine"/>, and returns the exit code. The process (with its children) is killed when
    /// <see cref="VideoInputOptions.ProcessTimeout"/> passes (<see cref="MediaProblem.TimedOut"/>) or
    /// <paramref name="cancellation"/> fires (<see cref="OperationCanceledException"/>).
    /// </summary>
    private int Run(string exe, IEnumerable<string> args, string path, Action<Stream> readStdout, Action<string> onStderrLine, CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = new Process { StartInfo = psi };
        p.ErrorDataReceived += (_, e) => { if (e.Data != null) onStderrLine(e.Data); };
        try
        {
            if (!p.Start()) throw new InvalidOperationException("Process.Start returned false");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new MediaFileException(path, MediaProblem.DecoderUnavailable, e.Message, e);
        }
        p.BeginErrorReadLine();
        var killed = 0;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        limit.CancelAfter(_options.ProcessTimeout);
        using (limit.Token.Register(() =>
        {
            try
            {
                if (!p.HasExited)
                {
                    Interlocked.Exchange(ref killed, 1);
                    p.Kill(entireProcessTree: true);
                }
            }
            catch (InvalidOperationException) { } // exited meanwhile
            catch (System.ComponentModel.Win32Exception) { }
        }))
        {
            try
            {
                readStdout(p.StandardOutput.BaseStream);
            }
            catch
            {
                // Never leave a child behind when reading fails.
                try { if (!p.HasExited) p.Kill(entireProcessTree: true); }
                catch (InvalidOperationException) { }
                throw;
            }
            p.WaitForExit();
        }
        if (Volatile.Read(ref killed) == 1)
        {
            cancellation.ThrowIfCancellationRequested();
            throw new MediaFileException(path, MediaProblem.TimedOut,
                $"{Path.GetFileName(exe)} was stopped after ProcessTimeout = {_options.ProcessTimeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s");
        }
        return p.ExitCode;
    }

    /// <summary>What is kept of ffmpeg's stderr (bounded): the first error lines, the sampled frames' times, and flags.</summary>
    private sealed partial class StderrLog(int maxFrames)
    {
        private readonly object _lock = new();
        private readonly List<string> _errors = [];
        private readonly List<double> _times = [];

        /// <summary>The first error ffmpeg reported (the cause; later ones are mostly consequences).</summary>
        public string FirstError { get { lock (_lock) return _errors.Count == 0 ? "" : _errors[0]; } }

        public string? NotOnWhitelist { get; private set; }

        public bool DurationEstimated { get; private set; }

        public IReadOnlyList<double> FrameTimes { get { lock (_lock) return _times.ToArray(); } }

        public void Add(string line)
        {
            lock (_lock)
            {
                if (line.Contains("Estimating duration from bitrate", StringComparison.Ordinal)) DurationEstimated = true;
                if (line.Contains("Format not on whitelist", StringComparison.Ordinal))
                    NotOnWhitelist = Component().Match(line) is { Success: true } m ? m.Groups[1].Value : "unknown";
                if (line.Contains("[error]", StringComparison.Ordinal) || line.Contains("[fatal]", StringComparison.Ordinal) || line.Contains("[panic]", StringComparison.Ordinal))
                {
                    if (_errors.Count < MaxKeptErrorLines) _errors.Add(Level().Replace(line, "").Trim());
                }
                else if (_times.Count < maxFrames && line.Contains("Parsed_showinfo", StringComparison.Ordinal) && ShowInfo().Match(line) is { Success: true } s
                    && double.TryParse(s.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var t))
                {
                    _times.Add(t);
                }
            }
        }

        [GeneratedRegex(@"^\[([^\]@ ]+) @")]
        private static partial Regex Component();

        [GeneratedRegex(@"\[(error|fatal|panic)\] ?")]
        private static partial Regex Level();

        [GeneratedRegex(@"\bn:\s*\d+\s+pts:\s*-?\d+\s+pts_time:(-?[0-9.eE+-]+)")]
        private static partial Regex ShowInfo();
    }
}
