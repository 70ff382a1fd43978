using System.Globalization;
using System.Text;

namespace EmotionML.Cli;

/// <summary>One clip of a training/evaluation manifest.</summary>
/// <param name="Path">Media file: absolute, or relative to the manifest's folder.</param>
/// <param name="Label">Emotion label as written in the dataset's labels.csv.</param>
/// <param name="Speaker">Speaker (actor) id, for speaker-independent splits.</param>
internal sealed record ClipEntry(string Path, string Label, string Speaker);

/// <summary>
/// The manifest format <c>train</c> and <c>evaluate</c> read: a CSV with header <c>path,label,speaker</c>, one clip per
/// row; <c>path</c> is absolute or relative to the CSV's folder. RFC 4180 quoting.
/// </summary>
internal static class ClipManifest
{
    public const string Header = "path,label,speaker";

    /// <summary>A shared dataset that can be turned into a manifest.</summary>
    /// <param name="Name">Folder under data/ (the --dataset value).</param>
    /// <param name="LabelColumn">Column of labels.csv that holds the emotion.</param>
    /// <param name="SpeakerColumn">Column of labels.csv that holds the speaker.</param>
    public sealed record Dataset(string Name, string LabelColumn, string SpeakerColumn);

    /// <summary>The datasets <c>manifest --dataset</c> knows.</summary>
    public static IReadOnlyList<Dataset> Datasets { get; } =
    [
        new("javanese-av", "emotion", "actor"),
        new("cremad-av-sample", "emotion_intended", "actor"),
        new("ravdess-speech-16k", "emotion", "actor"),
    ];

    /// <summary>Reads a dataset's labels.csv under the shared root into entries with absolute paths.</summary>
    public static List<ClipEntry> FromDataset(Dataset dataset)
    {
        var folder = SharedPaths.Combine("data", dataset.Name);
        var labels = Path.Combine(folder, "labels.csv");
        if (!File.Exists(labels))
            throw new EmotionMLException($"{labels}: labels.csv not found. Point --shared (or EMOTIONML_SHARED) at the folder that holds data/{dataset.Name}.");
        var rows = ReadCsv(labels);
        if (rows.Count == 0) throw new EmotionMLException($"{labels}: empty file.");
        var header = rows[0];
        int Column(string name) => Array.IndexOf(header, name) is var i and >= 0 ? i
            : throw new EmotionMLException($"{labels}: no '{name}' column (columns: {string.Join(", ", header)}).");
        int file = Column("file"), label = Column(dataset.LabelColumn), speaker = Column(dataset.SpeakerColumn);
        var entries = new List<ClipEntry>();
        for (var r = 1; r < rows.Count; r++)
        {
            var row = rows[r];
            if (row.Length == 1 && row[0].Length == 0) continue;
            if (row.Length < header.Length) throw new EmotionMLException($"{labels}: line {r + 1} has {row.Length} fields, expected {header.Length}.");
            entries.Add(new ClipEntry(Path.GetFullPath(Path.Combine(folder, row[file])), row[label], row[speaker]));
        }
        return entries;
    }

    /// <summary>Writes entries; paths relative to the CSV's folder when <paramref name="relative"/>, else absolute.</summary>
    public static void Write(string csvPath, IEnumerable<ClipEntry> entries, bool relative)
    {
        var full = Path.GetFullPath(csvPath);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var sb = new StringBuilder();
        sb.Append(Header).Append('\n');
        foreach (var e in entries)
        {
            var path = relative ? Path.GetRelativePath(dir, e.Path).Replace('\\', '/') : e.Path;
            sb.Append(Quote(path)).Append(',').Append(Quote(e.Label)).Append(',').Append(Quote(e.Speaker)).Append('\n');
        }
        File.WriteAllText(full, sb.ToString(), new UTF8Encoding(false));
    }

    /// <summary>Reads a manifest; relative paths are resolved against the CSV's folder.</summary>
    public static List<ClipEntry> Read(string csvPath)
    {
        var full = Path.GetFullPath(csvPath);
        if (!File.Exists(full)) throw new EmotionMLException($"{full}: manifest not found.");
        var rows = ReadCsv(full);
        if (rows.Count == 0 || !string.Join(",", rows[0]).Trim().Equals(Header, StringComparison.OrdinalIgnoreCase))
            throw new EmotionMLException($"{full}: not a manifest (the first line must be '{Header}').");
        var dir = Path.GetDirectoryName(full)!;
        var entries = new List<ClipEntry>();
        for (var r = 1; r < rows.Count; r++)
        {
            var row = rows[r];
            if (row.Length == 1 && row[0].Length == 0) continue;
            if (row.Length != 3) throw new EmotionMLException($"{full}: line {r + 1} has {row.Length} fields, expected 3 (path,label,speaker).");
            entries.Add(new ClipEntry(Path.GetFullPath(Path.Combine(dir, row[0])), row[1], row[2]));
        }
        return entries;
    }

    private static string Quote(string s)
        => s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

    /// <summary>Minimal RFC 4180 reader: quoted fields, doubled quotes, CRLF or LF.</summary>
    internal static List<string[]> ReadCsv(string path)
    {
        var text = File.ReadAllText(path);
        var rows = new List<string[]>();
        var row = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
                continue;
            }
            switch (c)
            {
                case '"': quoted = true; break;
                case ',': row.Add(field.ToString()); field.Clear(); break;
                case '\r': break;
                case '\n':
                    row.Add(field.ToString()); field.Clear();
                    rows.Add([.. row]); row.Clear();
                    break;
                default: field.Append(c); break;
            }
        }
        if (field.Length > 0 || row.Count > 0)
        {
            row.Add(field.ToString());
            rows.Add([.. row]);
        }
        return rows;
    }

    /// <summary>Invariant formatting helper for counts in messages.</summary>
    internal static string Count(int n, string what) => n.ToString(CultureInfo.InvariantCulture) + " " + what + (n == 1 ? "" : "s");
}
