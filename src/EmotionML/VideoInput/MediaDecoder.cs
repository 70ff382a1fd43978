using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace EmotionML.VideoInput;

/// <summary>What ffprobe says of a media file.</summary>
internal sealed record MediaInfo(
    bool HasVideo, int Width, int Height, double FrameRate, long FrameCountEstimate, double VideoDuration,
    bool HasAudio, int AudioSampleRate, int AudioChannels, double Duration);

/// <summary>Decoded frames of a clip: RGB24 packed frame after frame.</summary>
internal sealed record DecodedFrames(byte[] Pixels, int Count, int Width, int Height, float[] Times);

/// <summary>
/// Decodes media through the ffmpeg/ffprobe command-line programs (Debian's ffmpeg package). Processes are used rather
/// than a binding so that every container/codec ffmpeg knows works, with no native library to ship; the raw frames and
/// PCM come back over a pipe. Errors become <see cref="MediaFileException"/> with the path.
/// </summary>
internal static class MediaDecoder
{
    public static string FfmpegPath { get; set; } = "ffmpeg";

    public static string FfprobePath { get; set; } = "ffprobe";

    public static void CheckFile(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new MediaFileException("(empty path)", MediaProblem.Missing, "the VideoPath value is empty");
        if (!File.Exists(path)) throw new MediaFileException(path, MediaProblem.Missing, "");
        if (new FileInfo(path).Length == 0) throw new MediaFileException(path, MediaProblem.Empty, "");
    }

    public static MediaInfo Probe(string path)
    {
        CheckFile(path);
        var (code, stdout, stderr) = RunText(FfprobePath, path, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", path);
        if (code != 0)
        {
            // ffprobe says "Invalid data" both for a text file named .mp4 and for a truncated mp4: tell them apart by the
            // container signature at the start of the file.
            var problem = HasContainerSignature(path) ? MediaProblem.Corrupt : MediaProblem.NotMedia;
            throw new MediaFileException(path, problem, LastLine(stderr));
        }
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        double duration = 0;
        if (root.TryGetProperty("format", out var format))
        {
            duration = ReadDouble(format, "duration");
            // Text files are sometimes probed as odd "formats" (e.g. tty) with no usable stream.
            var formatName = format.TryGetProperty("format_name", out var fn) ? fn.GetString() ?? "" : "";
            if (formatName is "tty" or "txt") throw new MediaFileException(path, MediaProblem.NotMedia, $"ffprobe reads it as '{formatName}'");
        }
        JsonElement? video = null, audio = null;
        if (root.TryGetProperty("streams", out var streams))
        {
            foreach (var s in streams.EnumerateArray())
            {
                var type = s.GetProperty("codec_type").GetString();
                var attached = s.TryGetProperty("disposition", out var d) && d.TryGetProperty("attached_pic", out var ap) && ap.GetInt32() == 1;
                if (type == "video" && !attached && video == null) video = s;
                if (type == "audio" && audio == null) audio = s;
            }
        }
        if (video == null && audio == null) throw new MediaFileException(path, MediaProblem.NotMedia, "no audio or video stream");
        int w = 0, h = 0;
        double fps = 0, vdur = 0;
        long frames = 0;
        if (video is { } v)
        {
            w = v.GetProperty("width").GetInt32();
            h = v.GetProperty("height").GetInt32();
            fps = ParseRate(v.TryGetProperty("avg_frame_rate", out var afr) ? afr.GetString() : null);
            if (fps <= 0) fps = ParseRate(v.TryGetProperty("r_frame_rate", out var rfr) ? rfr.GetString() : null);
            vdur = ReadDouble(v, "duration");
            if (vdur <= 0) vdur = duration;
            frames = v.TryGetProperty("nb_frames", out var nb) && long.TryParse(nb.GetString(), out var n) ? n : 0;
            if (frames <= 0 && fps > 0) frames = (long)Math.Round(vdur * fps);
        }
        int sr = 0, ch = 0;
        if (audio is { } a)
        {
            sr = int.TryParse(a.TryGetProperty("sample_rate", out var srs) ? srs.GetString() : null, out var srv) ? srv : 0;
            ch = a.TryGetProperty("channels", out var chs) ? chs.GetInt32() : 0;
        }
        return new MediaInfo(video != null, w, h, fps, frames, vdur, audio != null, sr, ch, duration);
    }

    /// <summary>Decodes the frames with the given indices (ascending), scaled to at most <paramref name="maxSide"/> pixels.</summary>
    public static DecodedFrames DecodeFrames(string path, MediaInfo info, IReadOnlyList<int> indices, int maxSide)
    {
        if (!info.HasVideo) throw new MediaFileException(path, MediaProblem.NoVideo, "");
        var (w, h) = ScaledSize(info.Width, info.Height, maxSide);
        var frameBytes = w * h * 3;
        var select = indices.Count == 0 ? "select=0" : "select='" + string.Join("+", indices.Select(i => $"eq(n\\,{i})")) + "'";
        var args = new List<string> { "-nostdin", "-v", "error", "-i", path, "-map", "0:v:0", "-vf", $"{select},scale={w}:{h}:flags=area",
            "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1" };
        var (code, bytes, stderr) = RunBinary(FfmpegPath, path, args);
        var count = Math.Min(bytes.Length / frameBytes, indices.Count);
        if (code != 0 && count == 0)
            throw new MediaFileException(path, MediaProblem.Corrupt, LastLine(stderr));
        if (count == 0)
            throw new MediaFileException(path, MediaProblem.Corrupt, "no frame could be decoded");
        var pixels = bytes.Length == count * frameBytes ? bytes : bytes.AsSpan(0, count * frameBytes).ToArray();
        var fps = info.FrameRate > 0 ? info.FrameRate : 25;
        var times = indices.Take(count).Select(i => (float)(i / fps)).ToArray();
        return new DecodedFrames(pixels, count, w, h, times);
    }

    /// <summary>Decodes the first audio stream as mono float PCM at <paramref name="sampleRate"/>.</summary>
    public static float[] DecodeAudio(string path, MediaInfo info, int sampleRate)
    {
        if (!info.HasAudio) throw new MediaFileException(path, MediaProblem.NoAudio, "");
        var (code, bytes, stderr) = RunBinary(FfmpegPath, path,
            ["-nostdin", "-v", "error", "-i", path, "-map", "0:a:0", "-ac", "1", "-ar", sampleRate.ToString(CultureInfo.InvariantCulture), "-f", "f32le", "pipe:1"]);
        if (code != 0 && bytes.Length == 0) throw new MediaFileException(path, MediaProblem.Corrupt, LastLine(stderr));
        var samples = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, samples, 0, samples.Length * 4);
        return samples;
    }

    /// <summary>Whether the file starts like a media container (mp4/mov, FLV, MP3, WAV, FLAC, Ogg, Matroska, MPEG-PS/TS).</summary>
    internal static bool HasContainerSignature(string path)
    {
        var buffer = new byte[12];
        int read;
        using (var f = File.OpenRead(path))
            read = f.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        var head = buffer.AsSpan(0, read);
        bool At(int offset, string ascii) => read >= offset + ascii.Length && buffer.AsSpan(offset, ascii.Length).SequenceEqual(System.Text.Encoding.ASCII.GetBytes(ascii));
        if (At(4, "ftyp") || At(4, "moov") || At(4, "mdat") || At(4, "free") || At(4, "wide")) return true;
        if (At(0, "FLV") || At(0, "ID3") || At(0, "RIFF") || At(0, "fLaC") || At(0, "OggS")) return true;
        if (head.Length >= 2 && head[0] == 0xFF && (head[1] & 0xE0) == 0xE0) return true; // MPEG audio frame sync
        if (head.Length >= 4 && head[0] == 0x1A && head[1] == 0x45 && head[2] == 0xDF && head[3] == 0xA3) return true; // Matroska/WebM
        if (head.Length >= 4 && head[0] == 0 && head[1] == 0 && head[2] == 1 && head[3] == 0xBA) return true; // MPEG-PS
        return head.Length >= 1 && head[0] == 0x47 && new FileInfo(path).Length % 188 == 0; // MPEG-TS
    }

    /// <summary>Decodes the first audio stream without probing first; null when that fails (the caller then probes to explain why).</summary>
    public static float[]? TryDecodeAudioDirect(string path, int sampleRate)
    {
        CheckFile(path);
        var (code, bytes, _) = RunBinary(FfmpegPath, path,
            ["-nostdin", "-v", "error", "-i", path, "-map", "0:a:0", "-ac", "1", "-ar", sampleRate.ToString(CultureInfo.InvariantCulture), "-f", "f32le", "pipe:1"]);
        if (code != 0 || bytes.Length == 0) return null;
        var samples = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, samples, 0, samples.Length * 4);
        return samples;
    }

    public static (int W, int H) ScaledSize(int width, int height, int maxSide)
    {
        if (maxSide <= 0 || Math.Max(width, height) <= maxSide) return (width, height);
        var s = (double)maxSide / Math.Max(width, height);
        return (Math.Max(2, (int)Math.Round(width * s / 2) * 2), Math.Max(2, (int)Math.Round(height * s / 2) * 2));
    }

    private static double ParseRate(string? rate)
    {
        if (string.IsNullOrEmpty(rate)) return 0;
        var parts = rate.Split('/');
        if (parts.Length == 2 && double.TryParse(parts[0], CultureInfo.InvariantCulture, out var a) && double.TryParse(parts[1], CultureInfo.InvariantCulture, out var b) && b != 0)
            return a / b;
        return double.TryParse(rate, CultureInfo.InvariantCulture, out var r) ? r : 0;
    }

    private static double ReadDouble(JsonElement e, string name)
        => e.TryGetProperty(name, out var p) && double.TryParse(p.GetString(), CultureInfo.InvariantCulture, out var v) ? v : 0;

    private static string LastLine(string s)
    {
        var lines = s.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? "" : lines[^1];
    }

    private static Process Start(string exe, string path, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        try
        {
            return Process.Start(psi) ?? throw new InvalidOperationException("Process.Start returned null");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new MediaFileException(path, MediaProblem.DecoderUnavailable, e.Message, e);
        }
    }

    private static (int Code, string Stdout, string Stderr) RunText(string exe, string path, params string[] args)
    {
        using var p = Start(exe, path, args);
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output, err.Result);
    }

    private static (int Code, byte[] Stdout, string Stderr) RunBinary(string exe, string path, IEnumerable<string> args)
    {
        using var p = Start(exe, path, args);
        var err = p.StandardError.ReadToEndAsync();
        using var ms = new MemoryStream();
        p.StandardOutput.BaseStream.CopyTo(ms);
        p.WaitForExit();
        return (p.ExitCode, ms.ToArray(), err.Result);
    }
}
