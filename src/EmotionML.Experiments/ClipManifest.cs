using System.Globalization;
using System.Text;

namespace EmotionML.Experiments;

/// <summary>One labelled clip of a manifest.</summary>
/// <param name="Path">Absolute path of the media file.</param>
/// <param name="Label">Emotion label as written in the dataset's labels.csv.</param>
/// <param name="Speaker">Speaker (actor) id; cross-validation splits by it.</param>
public sealed record ClipRecord(string Path, string Label, string Speaker);

/// <summary>
/// Manifests of labelled clips, and speaker-independent folds over them. A manifest is a CSV with the header
/// <c>path,label,speaker</c>, one clip per row, quoted per RFC 4180; <c>path</c> is absolute or relative to the CSV's folder.
/// <para>
/// Audio-only rows: a manifest lists every labelled file of a dataset, audio-only files included (CREMA-D's sample
/// has six). Nothing is dropped when reading. The audio-visual experiments decode such a clip with
/// <see cref="VideoInput.MissingStreamPolicy.Empty"/> for video: its frame mask is all zero, so a fusion head rests
/// on its audio; a face-only configuration has nothing to go on for it and says so in its accuracy.
/// </para>
/// </summary>
public static class ClipManifest
{
    /// <summary>The header line of a manifest.</summary>
    public const string Header = "path,label,speaker";

    /// <summary>A shared dataset that can be turned into a manifest.</summary>
    /// <param name="Name">Folder under data/ of <see cref="SharedPaths.Root"/>.</param>
    /// <param name="LabelColumn">Column of labels.csv that holds the emotion.</param>
    /// <param name="SpeakerColumn">Column of labels.csv that holds the speaker.</param>
    public sealed record Dataset(string Name, string LabelColumn, string SpeakerColumn);

    /// <summary>The shared datasets with clips (javanese-av, cremad-av-sample, ravdess-speech-16k).</summary>
    public static IReadOnlyList<Dataset> Datasets { get; } =
    [
        new("javanese-av", "emotion", "actor"),
        new("cremad-av-sample", "emotion_intended", "actor"),
        new("ravdess-speech-16k", "emotion", "actor"),
    ];

    /// <summary>Every labelled clip of a shared dataset (see <see cref="Datasets"/>), with absolute paths, in labels.csv order.</summary>
    /// <exception cref="InvalidInputException">The dataset is unknown, or its labels.csv is missing or malformed.</exception>
    public static List<ClipRecord> FromShared(string dataset)
        => FromDataset(Datasets.FirstOrDefault(d => d.Name == dataset)
            ?? throw new InvalidInputException($"dataset '{dataset}': unknown (known: {string.Join(", ", Datasets.Select(d => d.Name))})."));

    /// <summary>Every labelled clip of <paramref name="dataset"/>'s labels.csv under the shared root, with absolute paths.</summary>
    /// <exception cref="InvalidInputException">labels.csv is missing or malformed.</exception>
    public static List<ClipRecord> FromDataset(Dataset dataset)
    {
        var folder = SharedPaths.Combine("data", dataset.Name);
        var labels = System.IO.Path.Combine(folder, "labels.csv");
        if (!File.Exists(labels))
            throw new InvalidInputException($"{labels}: labels.csv not found. Point --shared (or EMOTIONML_SHARED) at the folder that holds data/{dataset.Name}.");
        var rows = ReadCsv(labels);
        if (rows.Count == 0) throw new InvalidInputException($"{labels}: empty file.");
        var header = rows[0];
        int Column(string name) => Array.IndexOf(header, name) is var i and >= 0 ? i
            : throw new InvalidInputException($"{labels}: no '{name}' column (columns: {string.Join(", ", header)}).");
        int file = Column("file"), label = Column(dataset.LabelColumn), speaker = Column(dataset.SpeakerColumn);
        var entries = new List<ClipRecord>();
        for (var r = 1; r < rows.Count; r++)
        {
            var row = rows[r];
            if (row.Length == 1 && row[0].Length == 0) continue;
            if (row.Length < header.Length) throw new InvalidInputException($"{labels}: line {r + 1} has {row.Length} fields, expected {header.Length}.");
            entries.Add(new ClipRecord(System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, row[file])), row[label], row[speaker]));
        }
        return entries;
    }

    /// <summary>Writes a manifest; paths relative to the CSV's folder when <paramref name="relative"/>, else absolute.</summary>
    public static void Write(string csvPath, IEnumerable<ClipRecord> entries, bool relative)
    {
        var full = System.IO.Path.GetFullPath(csvPath);
        var dir = System.IO.Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var sb = new StringBuilder();
        sb.Append(Header).Append('\n');
        foreach (var e in entries)
        {
            var path = relative ? System.IO.Path.GetRelativePath(dir, e.Path).Replace('\\', '/') : e.Path;
            sb.Append(Quote(path)).Append(',').Append(Quote(e.Label)).Append(',').Append(Quote(e.Speaker)).Append('\n');
        }
        File.WriteAllText(full, sb.ToString(), new UTF8Encoding(false));
    }

    /// <summary>Reads a manifest; relative paths are resolved against the CSV's folder.</summary>
    /// <exception cref="InvalidInputException">The file is missing, has another header, or a row has other than 3 fields.</exception>
    public static List<ClipRecord> Read(string csvPath)
    {
        var full = System.IO.Path.GetFullPath(csvPath);
        if (!File.Exists(full)) throw new InvalidInputException($"{full}: manifest not found.");
        var rows = ReadCsv(full);
        if (rows.Count == 0 || !string.Join(",", rows[0]).Trim().Equals(Header, StringComparison.OrdinalIgnoreCase))
            throw new InvalidInputException($"{full}: not a manifest (the first line must be '{Header}').");
        var dir = System.IO.Path.GetDirectoryName(full)!;
        var entries = new List<ClipRecord>();
        for (var r = 1; r < rows.Count; r++)
        {
            var row = rows[r];
            if (row.Length == 1 && row[0].Length == 0) continue;
            if (row.Length != 3) throw new InvalidInputException($"{full}: line {r + 1} has {row.Length} fields, expected 3 (path,label,speaker).");
            entries.Add(new ClipRecord(System.IO.Path.GetFullPath(System.IO.Path.Combine(dir, row[0])), row[1], row[2]));
        }
        return entries;
    }

    /// <summary>
    /// The folds of <see cref="SpeakerFolds"/> as row indices into <paramref name="clips"/>: the fold's test speakers, the
    /// rows of those speakers (test) and the rows of all others (train), each in row order.
    /// </summary>
    public static IEnumerable<(string[] Speakers, int[] Test, int[] Train)> FoldRows(IReadOnlyList<ClipRecord> clips, int k)
    {
        foreach (var speakers in SpeakerFolds(clips, k))
        {
            var test = Enumerable.Range(0, clips.Count).Where(i => speakers.Contains(clips[i].Speaker)).ToArray();
            var train = Enumerable.Range(0, clips.Count).Where(i => !speakers.Contains(clips[i].Speaker)).ToArray();
            yield return (speakers, test, train);
        }
    }

    /// <summary>Speaker-independent folds: speakers sorted, dealt round-robin into <paramref name="k"/> folds.</summary>
    public static List<string[]> SpeakerFolds(IEnumerable<ClipRecord> clips, int k)
    {
        var speakers = clips.Select(c => c.Speaker).Distinct().OrderBy(s => s, StringComparer.Ordinal).ToArray();
        if (k < 2 || k > speakers.Length) throw new ArgumentOutOfRangeException(nameof(k), k, $"Folds must be between 2 and the number of speakers ({speakers.Length}).");
        return Enumerable.Range(0, k).Select(f => speakers.Where((_, i) => i % k == f).ToArray()).ToList();
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

    /// <summary>"3 clips": an invariant count for messages.</summary>
    internal static string Count(int n, string what) => n.ToString(CultureInfo.InvariantCulture) + " " + what + (n == 1 ? "" : "s");
}
