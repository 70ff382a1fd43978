using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EmotionML.Training;
using EmotionML.Training.Fusion;

namespace EmotionML.Experiments;

/// <summary>
/// On-disk cache of finished cross-validation runs of the experiment table (one file per configuration and seed), so a
/// long table that stops (a native fault, a killed process) resumes at the first run it has not finished. The key is
/// everything the run depends on: the head and trainer settings (seed included), the folds, the face variant's values,
/// the audio features and masks, the clips' labels and speakers, and the build of the EmotionML assemblies (module
/// version ids), so a changed setting, feature or code computes anew. Files live under <c>runs/</c> in
/// <see cref="FeatureArrayCache.Directory"/>; a damaged file is recomputed.
/// </summary>
internal static class RunResultCache
{
    private const string Version = "cv-run-v1";

    private sealed record Stored(string[] Classes, StoredFold[] Folds, long[] Confusion, StoredScore[] Scores);

    private sealed record StoredFold(string[] TestSpeakers, double Accuracy, double MacroF1, int Rows, double? ValidationAccuracy);

    private sealed record StoredScore(string Path, int Label, float[] Scores);

    /// <summary>The folder of the stored runs.</summary>
    public static string Folder => Path.Combine(FeatureArrayCache.Directory, "runs");

    /// <summary>The stored result of this run, or <paramref name="run"/>'s (then stored), named <paramref name="name"/>; <paramref name="folder"/> null = <see cref="Folder"/>.</summary>
    public static CrossValidationResult GetOrRun(FusionFeatureSet set, string faceVariant, FusionHeadOptions head, TrainerOptions training, int folds, string name,
        Func<CrossValidationResult> run, string? folder = null)
    {
        var path = Path.Combine(folder ?? Folder, Key(set, faceVariant, head, training, folds) + ".json");
        if (TryRead(path, name) is { } cached) return cached;
        var result = run();
        Write(path, result);
        return result;
    }

    internal static string Key(FusionFeatureSet set, string faceVariant, FusionHeadOptions head, TrainerOptions training, int folds)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Text(string s) => hash.AppendData(Encoding.UTF8.GetBytes(s + "\n"));
        void Floats(float[][]? rows)
        {
            Text(rows == null ? "null" : rows.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
            foreach (var r in rows ?? []) hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(r.AsSpan()));
        }
        Text(Version);
        foreach (var a in new[] { typeof(RunResultCache).Assembly, typeof(FusionHeadTrainer).Assembly, typeof(EmotionMLException).Assembly })
            Text(a.ManifestModule.ModuleVersionId.ToString());
        Text(JsonSerializer.Serialize(head));
        Text(JsonSerializer.Serialize(training));
        Text($"folds={folds}|variant={faceVariant}|frames={set.Frames}|audio={set.AudioShape}");
        foreach (var c in set.Clips) Text($"{c.Path}|{c.Label}|{c.Speaker}");
        if (set.Face.TryGetValue(faceVariant, out var face)) { Text($"dim={face.Dim}"); Floats(face.Values); }
        Floats(set.FrameMask);
        Floats(set.Audio);
        Floats(set.AudioMask);
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..32];
    }

    private static CrossValidationResult? TryRead(string path, string name)
    {
        if (!File.Exists(path)) return null;
        try
        {
            var s = JsonSerializer.Deserialize<Stored>(File.ReadAllText(path)) ?? throw new InvalidDataException("empty");
            if (s.Classes is null || s.Folds is null || s.Confusion is null || s.Scores is null || s.Folds.Any(f => f?.TestSpeakers is null) || s.Scores.Any(x => x?.Path is null || x.Scores is null))
                throw new InvalidDataException("incomplete");
            var k = s.Classes.Length;
            if (s.Confusion.Length != k * k) throw new InvalidDataException("confusion size");
            var confusion = new long[k, k];
            for (var i = 0; i < k * k; i++) confusion[i / k, i % k] = s.Confusion[i];
            var result = new CrossValidationResult(name, s.Classes,
                s.Folds.Select(f => new FoldResult(f.TestSpeakers, f.Accuracy, f.MacroF1, f.Rows) { ValidationAccuracy = f.ValidationAccuracy ?? double.NaN }).ToList(), confusion);
            result.Scores.AddRange(s.Scores.Select(x => (x.Path, x.Label, x.Scores)));
            return result;
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or IOException)
        {
            File.Delete(path);
            return null;
        }
    }

    private static void Write(string path, CrossValidationResult r)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var k = r.Classes.Length;
        var stored = new Stored(r.Classes,
            r.Folds.Select(f => new StoredFold(f.TestSpeakers, f.Accuracy, f.MacroF1, f.Rows, double.IsNaN(f.ValidationAccuracy) ? null : f.ValidationAccuracy)).ToArray(),
            Enumerable.Range(0, k * k).Select(i => r.Confusion[i / k, i % k]).ToArray(),
            r.Scores.Select(x => new StoredScore(x.Path, x.Label, x.Scores)).ToArray());
        var temp = path + $".{Environment.ProcessId}.tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(stored));
        File.Move(temp, path, overwrite: true);
    }
}
