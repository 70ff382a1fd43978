using System.Diagnostics;
using System.Security.Cryptography;
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
    public static DumpResult DumpInNewProcess(string zip, params string[] clips)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(ConsumerAppDll);
        psi.ArgumentList.Add("dump");
        psi.ArgumentList.Add(zip);
        foreach (var c in clips) psi.ArgumentList.Add(c);
        psi.Environment["EMOTIONML_SHARED"] = "/nonexistent-so-models-must-come-from-the-zip";
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

    public static List<Dictionary<string, string>> DumpHere(IDataView view)
    {
        var rows = new List<Dictionary<string, string>>();
        using var cursor = view.GetRowCursor(view.Schema);
        var readers = view.Schema.Where(c => !c.IsHidden).Select(c => (c.Name, Read: Digest(cursor, c))).ToList();
        while (cursor.MoveNext()) rows.Add(readers.ToDictionary(r => r.Name, r => r.Read()));
        return rows;
    }

    private static Func<string> Digest(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        Func<string> Vec<T>(Func<T, byte[]> bytes)
        {
            var getter = cursor.GetGetter<VBuffer<T>>(column);
            VBuffer<T> buffer = default;
            return () => { getter(ref buffer); return Hash(buffer.DenseValues().SelectMany(bytes)); };
        }
        Func<string> Scalar<T>(Func<T, byte[]> bytes)
        {
            var getter = cursor.GetGetter<T>(column);
            T value = default!;
            return () => { getter(ref value); return Hash(bytes(value)); };
        }
        return column.Type switch
        {
            VectorDataViewType { ItemType: var t } when t == NumberDataViewType.Single => Vec<float>(BitConverter.GetBytes),
            VectorDataViewType { ItemType: var t } when t == NumberDataViewType.Byte => Vec<byte>(b => [b]),
            VectorDataViewType { ItemType: BooleanDataViewType } => Vec<bool>(BitConverter.GetBytes),
            VectorDataViewType { ItemType: TextDataViewType } => Vec<ReadOnlyMemory<char>>(s => System.Text.Encoding.UTF8.GetBytes(s.ToString())),
            var t when t == NumberDataViewType.Single => Scalar<float>(BitConverter.GetBytes),
            var t when t == NumberDataViewType.Int32 => Scalar<int>(BitConverter.GetBytes),
            KeyDataViewType => Scalar<uint>(BitConverter.GetBytes),
            TextDataViewType => Scalar<ReadOnlyMemory<char>>(s => System.Text.Encoding.UTF8.GetBytes(s.ToString())),
            BooleanDataViewType => Scalar<bool>(BitConverter.GetBytes),
            _ => () => $"unsupported {column.Type}",
        };
    }

    private static string Hash(IEnumerable<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes.ToArray()));
}
