using System.Globalization;

namespace EmotionML.Training.Experiments;

/// <summary>One labelled clip of a manifest.</summary>
/// <param name="Path">Absolute path of the media file.</param>
/// <param name="Label">Emotion label.</param>
/// <param name="Speaker">Speaker (actor) id; cross-validation splits by it.</param>
public sealed record ClipRecord(string Path, string Label, string Speaker);

/// <summary>Manifest CSV files (<c>path,label,speaker</c>; paths absolute or relative to the CSV) and the shared datasets.</summary>
public static class ClipManifest
{
    /// <summary>Reads a manifest CSV; throws <see cref="InvalidInputException"/> naming the line for a malformed row.</summary>
    public static List<ClipRecord> Read(string csvPath)
    {
        if (!File.Exists(csvPath)) throw new InvalidInputException($"{csvPath}: manifest not found.");
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(csvPath))!;
        var lines = File.ReadAllLines(csvPath);
        if (lines.Length == 0) throw new InvalidInputException($"{csvPath}: manifest is empty.");
        var header = lines[0].Split(',').Select(h => h.Trim().ToLowerInvariant()).ToArray();
        int ip = Array.IndexOf(header, "path"), il = Array.IndexOf(header, "label"), isp = Array.IndexOf(header, "speaker");
        if (ip < 0 || il < 0 || isp < 0) throw new InvalidInputException($"{csvPath}: header must have columns path,label,speaker; it is '{lines[0]}'.");
        var list = new List<ClipRecord>();
        for (var i = 1; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i])) continue;
            var f = lines[i].Split(',');
            if (f.Length < header.Length) throw new InvalidInputException($"{csvPath}:{i + 1}: expected {header.Length} fields, found {f.Length}.");
            var path = f[ip].Trim();
            list.Add(new ClipRecord(System.IO.Path.IsPathRooted(path) ? path : System.IO.Path.GetFullPath(System.IO.Path.Combine(dir, path)), f[il].Trim(), f[isp].Trim()));
        }
        return list;
    }

    /// <summary>Writes a manifest CSV with absolute paths.</summary>
    public static void Write(string csvPath, IEnumerable<ClipRecord> clips)
        => File.WriteAllLines(csvPath, new[] { "path,label,speaker" }.Concat(clips.Select(c => $"{c.Path},{c.Label},{c.Speaker}")));

    /// <summary>The clips of a dataset under <c>data/</c> of <see cref="SharedPaths.Root"/>: javanese-av, cremad-av-sample (video clips) or ravdess-speech-16k.</summary>
    public static List<ClipRecord> FromShared(string dataset)
    {
        var root = SharedPaths.Combine("data", dataset);
        var labels = System.IO.Path.Combine(root, "labels.csv");
        if (!File.Exists(labels)) throw new InvalidInputException($"{labels}: dataset '{dataset}' not found under {SharedPaths.Root} (known: javanese-av, cremad-av-sample, ravdess-speech-16k).");
        var lines = File.ReadAllLines(labels);
        var header = lines[0].Split(',');
        int Col(params string[] names) => names.Select(n => Array.IndexOf(header, n)).FirstOrDefault(i => i >= 0, -1);
        int file = Col("file"), emotion = Col("emotion", "emotion_intended"), actor = Col("actor"), modality = Col("modality");
        return lines.Skip(1).Where(l => l.Length > 0).Select(l => l.Split(','))
            .Where(f => modality < 0 || f[modality] == "audio+video")
            .Select(f => new ClipRecord(System.IO.Path.Combine(root, f[file]), f[emotion], f[actor]))
            .ToList();
    }

    /// <summary>Speaker-independent folds: speakers sorted, dealt round-robin into <paramref name="k"/> folds.</summary>
    public static List<string[]> SpeakerFolds(IEnumerable<ClipRecord> clips, int k)
    {
        var speakers = clips.Select(c => c.Speaker).Distinct().OrderBy(s => s, StringComparer.Ordinal).ToArray();
        if (k < 2 || k > speakers.Length) throw new ArgumentOutOfRangeException(nameof(k), k, $"Folds must be between 2 and the number of speakers ({speakers.Length}).");
        return Enumerable.Range(0, k).Select(f => speakers.Where((_, i) => i % k == f).ToArray()).ToList();
    }

    internal static string Invariant(double v) => v.ToString("0.0", CultureInfo.InvariantCulture);
}
