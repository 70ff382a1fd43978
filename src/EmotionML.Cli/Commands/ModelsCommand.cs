using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using EmotionML.Experiments;

namespace EmotionML.Cli.Commands;

/// <summary><c>emotionml models</c>: the known pretrained models and their state in the configured shared folder.</summary>
internal static class ModelsCommand
{
    public static Command Create(Func<CliContext> context)
    {
        var check = new Option<bool>("--check")
        {
            Description = "Exit with code 1 when a pretrained model is missing or has another sha256.",
        };
        var json = new Option<bool>("--json")
        {
            Description = "Print machine-readable JSON instead of a table.",
        };
        var command = new Command("models", "List the pretrained models (models/manifest.json) with their state in <shared>/models: present, missing or sha-mismatch, and where each comes from; then the models the project trains itself.")
        {
            check, json,
        };
        command.SetAction(parse =>
        {
            var ctx = context();
            var manifest = ModelManifest.Embedded();
            var root = SharedPaths.Root;
            var results = manifest.Pretrained.Select(m => (Model: m, Result: ModelCheck.Check(m, root))).ToList();
            if (parse.GetValue(json))
            {
                ctx.Output.WriteLine(JsonSerializer.Serialize(new
                {
                    shared = root,
                    pretrained = results.Select(r => new
                    {
                        name = r.Model.Name,
                        path = r.Result.Path,
                        state = StateName(r.Result.State),
                        expectedSha256 = r.Model.Sha256,
                        actualSha256 = r.Result.ActualSha256,
                        source = r.Model.Source,
                        licence = r.Model.Licence,
                    }),
                    trained = manifest.Trained.Select(t => new { name = t.Name, produce = t.Produce }),
                }, new JsonSerializerOptions { WriteIndented = true }));
            }
            else
            {
                ctx.Console.WriteLine($"Pretrained models under {root}");
                var table = new Table().AddColumns("name", "state", "file", "used by", "licence");
                foreach (var (m, r) in results)
                {
                    var state = r.State switch
                    {
                        ModelFileState.Present => "[green]present[/]",
                        ModelFileState.Missing => "[red]missing[/]",
                        _ => "[red]sha-mismatch[/]",
                    };
                    table.AddRow(Markup.Escape(m.Name), state, Markup.Escape(m.File), Markup.Escape(m.UsedBy ?? "(not used yet)"), Markup.Escape(m.Licence));
                }
                ctx.Console.Write(table);
                foreach (var (m, r) in results.Where(x => x.Result.State != ModelFileState.Present))
                {
                    ctx.Console.WriteLine(r.State == ModelFileState.Missing
                        ? $"{m.Name}: missing {r.Path}. Source: {m.Source}"
                        : $"{m.Name}: {r.Path} has sha256 {r.ActualSha256}, expected {m.Sha256}. Source: {m.Source}");
                }
                ctx.Console.WriteLine();
                ctx.Console.WriteLine("Models the project trains itself (not committed):");
                var trained = new Table().AddColumns("name", "how it is produced");
                foreach (var t in manifest.Trained) trained.AddRow(Markup.Escape(t.Name), Markup.Escape(t.Produce));
                ctx.Console.Write(trained);
            }
            var bad = results.Count(r => r.Result.State != ModelFileState.Present);
            if (bad > 0) ctx.Error.WriteLine($"{ClipManifest.Count(bad, "pretrained model")} not usable under {root}.");
            return bad > 0 && parse.GetValue(check) ? ExitCodes.RuntimeError : ExitCodes.Ok;
        });
        return command;
    }

    internal static string StateName(ModelFileState s) => s switch
    {
        ModelFileState.Present => "present",
        ModelFileState.Missing => "missing",
        _ => "sha-mismatch",
    };
}
