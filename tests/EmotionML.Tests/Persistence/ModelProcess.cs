using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EmotionML.Tests.Persistence;

/// <summary>Runs the consumer sample in a new process and digests transformed data in this one, the same way.</summary>
internal static class ModelProcess
{
    public static string ConsumerAppDll
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            var tfm = dir.Name;
            var config = dir.Parent!.Name;
            while (dir != null && !File.Exists(Path.Combine(dir.FullName, "EmotionML.sln"))) dir = dir.Parent;
            var dll = Path.Combine(dir!.FullName, "samples", "EmotionML.ConsumerApp", "bin", config, tfm, "EmotionML.ConsumerApp.dll");
            if (!File.Exists(dll)) throw new FileNotFoundException("Build the solution first: consumer app not found", dll);
            return dll;
        }
    }

    public sealed record DumpResult(List<Dictionary<string, string>> Rows, List<string> Assemblies);

    /// <summary>Loads <paramref name="zip"/> in a fresh process, transforms the clips, returns per-column digests.</summary>
    public static DumpResult DumpInNewProcess(string zip, params string[] clips) => DumpInNewProcess(zip, new Dictionary<string, string>(), clips);

    /// <summary>As <see cref="DumpInNewProcess(string, string[])"/>, with extra environment variables for the new process.</summary>
    public static DumpResult DumpInNewProcess(string zip, IReadOnlyDictionary<string, string> environment, params string[] clips)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(ConsumerAppDll);
        psi.ArgumentList.Add("dump");
        psi.ArgumentList.Add(zip);
        foreach (var c in clips) psi.ArgumentList.Add(c);
        psi.Environment["EMOTIONML_SHARED"] = "/nonexistent-so-models-must-come-from-the-zip";
        foreach (var (name, value) in environment) psi.Environment[name] = value;
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"consumer app failed ({p.ExitCode}): {err.Result}\n{output}");
        var doc = JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;
        var rows = doc.GetProperty("rows").EnumerateArray()
            .Select(r => r.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!)).ToList();
        var assemblies = doc.GetProperty("assemblies").EnumerateArray().Select(a => a.GetString()!).ToList();
        return new DumpResult(rows, assemblies);
    }

    /// <summary>The consumer app's dump digests (shared code: ColumnDigest.cs), computed in this process.</summary>
    public static List<Dictionary<string, string>> DumpHere(IDataView view) => EmotionML.ConsumerApp.ColumnDigest.Rows(view);
}
