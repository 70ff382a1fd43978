using EmotionML.Experiments;

namespace EmotionML.Cli;

/// <summary>Loading clips for train/evaluate.</summary>
internal static class Clips
{
    public static List<ClipRecord> Load(FileInfo? manifest, string dataset)
    {
        if (manifest != null)
            return ClipManifest.Read(manifest.FullName);
        if (ClipManifest.Datasets.All(d => d.Name != dataset))
            throw new UsageException($"--dataset {dataset}: unknown (known: {string.Join(", ", ClipManifest.Datasets.Select(d => d.Name))}).");
        // Every labelled row, audio-only ones included (see ClipManifest for how the audio-visual commands treat them).
        return ClipManifest.FromShared(dataset);
    }

    public static int[] ParseChannels(string text)
    {
        var parts = text.Split('-', ',');
        if (parts.Length != 5 || parts.Any(p => !int.TryParse(p, out var c) || c <= 0))
            throw new UsageException($"--channels {text}: give 5 positive numbers, e.g. 64-128-256-192-128.");
        return parts.Select(int.Parse).ToArray();
    }
}
