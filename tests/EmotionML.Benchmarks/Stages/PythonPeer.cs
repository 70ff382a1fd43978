using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace EmotionML.Benchmarks.Stages;

/// <summary>
/// Runs a Python peer (Debian's /usr/bin/python3 with its python3-* packages) on the clips' audio: the samples are
/// written once to a float32 file with their lengths, the script times itself inside Python and prints its best-of
/// seconds on stdout, and writes what the bench compares (float64) to a file. Shared by the stages whose peer is a
/// Python library (scipy, aubio).
/// </summary>
internal static class PythonPeer
{
    private const string Python = "/usr/bin/python3";

    /// <summary>What a peer run gave: best-of seconds and the float64 values it wrote, or why it did not run.</summary>
    internal readonly record struct Result(double? Seconds, double[] Values, string Why);

    /// <summary>
    /// Runs <paramref name="script"/> as <c>python3 script audio.f32 lengths.txt repeat out.f64</c>.
    /// <paramref name="module"/> names the Debian package to suggest when an import fails.
    /// </summary>
    public static Result Run(string script, IReadOnlyList<float[]> audio, int repeat, string module)
    {
        if (!File.Exists(Python)) return new Result(null, [], $"{Python} not found");
        var dir = Path.Combine(Path.GetTempPath(), $"emotionml-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var samples = Path.Combine(dir, "audio.f32");
            using (var f = File.Create(samples))
                foreach (var a in audio) f.Write(MemoryMarshal.AsBytes(a.AsSpan()));
            var lengths = Path.Combine(dir, "lengths.txt");
            File.WriteAllText(lengths, string.Join(' ', audio.Select(a => a.Length)));
            var code = Path.Combine(dir, "peer.py");
            File.WriteAllText(code, script);
            var output = Path.Combine(dir, "out.f64");
            var psi = new ProcessStartInfo(Python) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { code, samples, lengths, Math.Max(1, repeat).ToString(CultureInfo.InvariantCulture), output })
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            var stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
            {
                return new Result(null, [], err.Result.Contains("No module named", StringComparison.Ordinal)
                    ? $"{module} not importable by {Python}"
                    : "python3 failed: " + err.Result.Trim().Split('\n').Last());
            }
            var values = MemoryMarshal.Cast<byte, double>(File.ReadAllBytes(output)).ToArray();
            return new Result(double.Parse(stdout.Trim(), CultureInfo.InvariantCulture), values, "");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
