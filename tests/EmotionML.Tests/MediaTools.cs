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
        => int.Parse(Run("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path).Trim(), CultureInfo.InvariantCulture);

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
}
