namespace EmotionML.Training.Experiments;

/// <summary>One labelled clip of a manifest.</summary>
/// <param name="Path">Absolute path of the media file.</param>
/// <param name="Label">Emotion label.</param>
/// <param name="Speaker">Speaker (actor) id; cross-validation splits by it.</param>
public sealed record ClipRecord(string Path, string Label, string Speaker);

/// <summary>The labelled clips of the shared datasets, and speaker-independent folds over them. (Manifest CSV files are read and written by the emotionml tool.)</summary>
public static class ClipManifest
{
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
}
