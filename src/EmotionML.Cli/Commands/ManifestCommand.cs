using System.CommandLine;
using EmotionML.Experiments;

namespace EmotionML.Cli.Commands;

/// <summary><c>emotionml manifest --dataset NAME --out m.csv</c>: writes the path,label,speaker CSV that train/evaluate read.</summary>
internal static class ManifestCommand
{
    public static Command Create(Func<CliContext> context)
    {
        var dataset = new Option<string>("--dataset")
        {
            Description = "Shared dataset to list: " + string.Join(", ", ClipManifest.Datasets.Select(d => d.Name)) + " (read from <shared>/data/<name>/labels.csv).",
            Required = true,
        };
        dataset.AcceptOnlyFromAmong([.. ClipManifest.Datasets.Select(d => d.Name)]);
        var output = new Option<FileInfo>("--out", "-o")
        {
            Description = "CSV file to write (columns path,label,speaker; one row per clip).",
            Required = true,
            HelpName = "file.csv",
        };
        var relative = new Option<bool>("--relative")
        {
            Description = "Write paths relative to the CSV's folder instead of absolute paths.",
        };
        var command = new Command("manifest", "Write a training/evaluation manifest (CSV: path,label,speaker) for a shared dataset. Labels are the dataset's own; speaker is its actor id, for speaker-independent splits.")
        {
            dataset, output, relative,
        };
        command.SetAction(parse =>
        {
            var ctx = context();
            var name = parse.GetRequiredValue(dataset);
            var spec = ClipManifest.Datasets.Single(d => d.Name == name);
            var entries = ClipManifest.FromDataset(spec);
            var missing = entries.Where(e => !File.Exists(e.Path)).ToList();
            if (missing.Count > 0)
                ctx.Error.WriteLine($"warning: {ClipManifest.Count(missing.Count, "file")} listed in labels.csv not found, e.g. {missing[0].Path}");
            var file = parse.GetRequiredValue(output);
            ClipManifest.Write(file.FullName, entries, parse.GetValue(relative));
            var speakers = entries.Select(e => e.Speaker).Distinct().Count();
            var labels = entries.GroupBy(e => e.Label).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}");
            ctx.Output.WriteLine($"{file.FullName}: {ClipManifest.Count(entries.Count, "clip")}, {ClipManifest.Count(speakers, "speaker")}; {string.Join(", ", labels)}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
