using System.Diagnostics;
using System.Globalization;

namespace EmotionML.Tests;

/// <summary>Independent ffprobe/ffmpeg calls used by tests as references and to make bad inputs.</summary>
internal static class MediaTools
{
    public static string Run(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{exe} failed: {err.Result}");
        return output;
    }

    /// <summary>Frame count by decoding every frame (ffprobe -count_frames).</summary>
    public static int CountFrames(string path)
        => int.Parse(Run("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path)
            .Trim().Split('\n')[0].TrimEnd(','), CultureInfo.InvariantCulture);

    /// <summary>A stream's duration in seconds (the container's when the stream has none, as in FLV).</summary>
    public static double StreamDuration(string path, string stream)
    {
        var text = Run("ffprobe", "-v", "error", "-select_streams", stream, "-show_entries", "stream=duration", "-of", "csv=p=0", path).Trim().Split('\n')[0];
        if (double.TryParse(text, CultureInfo.InvariantCulture, out var d)) return d;
        return double.Parse(Run("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path).Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>Runs ffmpeg to make a test file.</summary>
    public static string Make(string output, params string[] args)
    {
        Run("ffmpeg", ["-nostdin", "-v", "error", "-y", .. args, output]);
        return output;
    }

    /// <summary>Runs a program and returns its stdout as bytes.</summary>
    public static byte[] RunBinary(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        using var ms = new MemoryStream();
        p.StandardOutput.BaseStream.CopyTo(ms);
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{exe} failed: {err.Result}");
        return ms.ToArray();
    }

    /// <summary>
    /// The frames with the given indices, decoded by a separate plain ffmpeg run (select filter, area scaling to
    /// <paramref name="width"/> x <paramref name="height"/>, RGB24): the reference for the input stage's frames.
    /// </summary>
    public static byte[] ReferenceFrames(string path, IReadOnlyList<int> indices, int width, int height)
    {
        var select = "select='" + string.Join("+", indices.Select(i => $"eq(n\\,{i})")) + "'";
        return RunBinary("ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:v:0", "-vf", $"{select},scale={width}:{height}:flags=area",
            "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1");
    }

    /// <summary>The first audio stream as 16 kHz mono float, decoded by a separate plain ffmpeg run.</summary>
    public static float[] ReferenceAudio(string path)
    {
        var bytes = RunBinary("ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:a:0", "-ac", "1", "-ar", "16000", "-f", "f32le", "pipe:1");
        var samples = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, samples, 0, samples.Length * 4);
        return samples;
    }

    /// <summary>Presentation time (s) of every frame of the first video stream, as ffprobe reads them.</summary>
    public static double[] FrameTimes(string path)
        => Run("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pts_time", "-of", "csv=p=0", path)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => double.Parse(l.TrimEnd(','), CultureInfo.InvariantCulture)).ToArray();

    /// <summary>Writes an executable shell script (a stand-in for ffmpeg/ffprobe).</summary>
    public static string Script(string path, string body)
    {
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    /// <summary>Whether a process with this id is still running (not a zombie).</summary>
    public static bool IsRunning(int pid)
    {
        var stat = $"/proc/{pid}/stat";
        if (!File.Exists(stat)) return false;
        try
        {
            var text = File.ReadAllText(stat);
            return text[(text.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }
}
