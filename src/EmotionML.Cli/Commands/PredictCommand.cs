using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Spectre.Console;

namespace EmotionML.Cli.Commands;

/// <summary><c>emotionml predict model.zip video...</c>: loads a saved chain and prints each clip's emotion.</summary>
internal static class PredictCommand
{
    /// <summary>One clip's prediction.</summary>
    internal sealed record ClipPrediction(string Path, string Emotion, IReadOnlyList<(string Label, float Probability)> Probabilities, float[]? FaceAttention, float[]? AudioAttention);

    public static Command Create(Func<CliContext> context)
    {
        var model = new Argument<FileInfo>("model.zip") { Description = "A model zip saved with mlContext.Model.Save (the whole chain from VideoPath to Score)." };
        var videos = new Argument<FileInfo[]>("video") { Description = "One or more video clips.", Arity = ArgumentArity.OneOrMore };
        var json = new Option<bool>("--json") { Description = "Print machine-readable JSON (one object with a 'clips' array) instead of tables." };
        var command = new Command("predict", "Predict the emotion of video clips with a saved EmotionML model: top emotion, class probabilities and, when the model has a FaceAttention column, the per-frame attention. ONNX settings saved in the zip apply (--device/--threads do not change a saved model).")
        {
            model, videos, json,
        };
        command.SetAction(parse =>
        {
            var ctx = context();
            var zip = parse.GetRequiredValue(model);
            var clips = parse.GetRequiredValue(videos);
            if (!zip.Exists) throw new ModelFormatException($"{zip.FullName}: model file not found.");
            foreach (var clip in clips)
                if (!clip.Exists) throw new MediaFileException(clip.FullName, MediaProblem.Missing, "");
            var predictions = Predict(ctx, zip.FullName, [.. clips.Select(c => c.FullName)]);
            if (parse.GetValue(json)) WriteJson(ctx, zip.FullName, predictions);
            else WriteTables(ctx, predictions);
            return ExitCodes.Ok;
        });
        return command;
    }

    private sealed class Clip
    {
        public string VideoPath { get; set; } = "";
    }

    internal static List<ClipPrediction> Predict(CliContext ctx, string zip, IReadOnlyList<string> paths)
    {
        var ml = ctx.CreateMLContext(0);
        ITransformer transformer;
        try
        {
            transformer = EmotionModel.Load(ml, zip, ctx.Deployment);
        }
        catch (Exception e) when (e is not EmotionMLException)
        {
            throw new ModelFormatException($"{zip}: cannot be loaded as an ML.NET model ({e.Message.Split('\n')[0].Trim()}).", e);
        }
        var output = transformer.Transform(ml.Data.LoadFromEnumerable(paths.Select(p => new Clip { VideoPath = p })));
        var schema = output.Schema;
        var score = schema.GetColumnOrNull("Score")
            ?? throw new ModelFormatException($"{zip}: the model has no Score column (columns: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => c.Name))}); predict needs a chain that ends in a classifier head.");
        if (score.Type is not VectorDataViewType { ItemType: var it } || it != NumberDataViewType.Single)
            throw new ModelFormatException($"{zip}: the Score column is {score.Type}, expected a float vector.");
        var labels = SlotNames(score);
        var predicted = schema.GetColumnOrNull("PredictedLabel");
        if (predicted is { Type: KeyDataViewType } p && labels == null) labels = KeyValues(p);
        var face = FloatVectorColumn(schema, "FaceAttention");
        var audio = FloatVectorColumn(schema, "AudioAttention");

        var results = new List<ClipPrediction>();
        var columns = new List<DataViewSchema.Column> { score };
        if (face is { } f) columns.Add(f);
        if (audio is { } a) columns.Add(a);
        ctx.WithProgress("predicting", paths.Count, step =>
        {
            using var cursor = output.GetRowCursor(columns);
            var scoreGetter = cursor.GetGetter<VBuffer<float>>(score);
            var faceGetter = face is { } fc ? cursor.GetGetter<VBuffer<float>>(fc) : null;
            var audioGetter = audio is { } ac ? cursor.GetGetter<VBuffer<float>>(ac) : null;
            VBuffer<float> buffer = default;
            var row = 0;
            while (cursor.MoveNext())
            {
                scoreGetter(ref buffer);
                var probabilities = ToProbabilities(buffer.DenseValues().ToArray());
                float[]? faceAttention = null, audioAttention = null;
                if (faceGetter != null) { faceGetter(ref buffer); faceAttention = buffer.DenseValues().ToArray(); }
                if (audioGetter != null) { audioGetter(ref buffer); audioAttention = buffer.DenseValues().ToArray(); }
                var named = probabilities.Select((v, i) => (labels != null && i < labels.Length ? labels[i] : i.ToString(CultureInfo.InvariantCulture), v)).ToList();
                var best = named.MaxBy(x => x.v);
                results.Add(new ClipPrediction(paths[row], best.Item1, named, faceAttention, audioAttention));
                step(Path.GetFileName(paths[row]));
                row++;
            }
        });
        return results;
    }

    /// <summary>Scores as probabilities: unchanged when they already form a distribution, otherwise softmax.</summary>
    internal static float[] ToProbabilities(float[] scores)
    {
        if (scores.Length == 0) return scores;
        var sum = scores.Sum();
        if (scores.All(s => s >= 0 && s <= 1) && Math.Abs(sum - 1) < 1e-3) return scores;
        var max = scores.Max();
        var exp = scores.Select(s => Math.Exp(s - max)).ToArray();
        var total = exp.Sum();
        return exp.Select(e => (float)(e / total)).ToArray();
    }

    private static DataViewSchema.Column? FloatVectorColumn(DataViewSchema schema, string name)
        => schema.GetColumnOrNull(name) is { Type: VectorDataViewType { ItemType: var t } } c && t == NumberDataViewType.Single ? c : null;

    private static string[]? SlotNames(DataViewSchema.Column column)
    {
        if (column.Annotations.Schema.GetColumnOrNull("SlotNames") == null) return null;
        VBuffer<ReadOnlyMemory<char>> names = default;
        column.GetSlotNames(ref names);
        return names.DenseValues().Select(n => n.ToString()).ToArray();
    }

    private static string[]? KeyValues(DataViewSchema.Column column)
    {
        if (column.Annotations.Schema.GetColumnOrNull("KeyValues") == null) return null;
        VBuffer<ReadOnlyMemory<char>> names = default;
        column.GetKeyValues(ref names);
        return names.DenseValues().Select(n => n.ToString()).ToArray();
    }

    private static void WriteJson(CliContext ctx, string zip, List<ClipPrediction> predictions)
    {
        ctx.Output.WriteLine(JsonSerializer.Serialize(new
        {
            model = zip,
            clips = predictions.Select(p => new
            {
                path = p.Path,
                emotion = p.Emotion,
                probabilities = p.Probabilities.ToDictionary(x => x.Label, x => x.Probability),
                faceAttention = p.FaceAttention,
                audioAttention = p.AudioAttention,
            }),
        }, new JsonSerializerOptions { WriteIndented = true }));
    }

    private static void WriteTables(CliContext ctx, List<ClipPrediction> predictions)
    {
        foreach (var p in predictions)
        {
            var top = p.Probabilities.MaxBy(x => x.Probability);
            ctx.Console.MarkupLine($"[bold]{Markup.Escape(p.Path)}[/]: {Markup.Escape(p.Emotion)} ({top.Probability.ToString("P1", CultureInfo.InvariantCulture)})");
            var chart = new BarChart().Width(60);
            foreach (var (label, probability) in p.Probabilities.OrderByDescending(x => x.Probability))
                chart.AddItem(Markup.Escape(label), Math.Round(probability * 100, 1), label == p.Emotion ? Color.Green : Color.Grey);
            ctx.Console.Write(chart);
            if (p.FaceAttention is { Length: > 0 } att)
            {
                var table = new Table().AddColumn("frame").AddColumn("face attention");
                for (var i = 0; i < att.Length; i++)
                    table.AddRow(i.ToString(CultureInfo.InvariantCulture), att[i].ToString("0.000", CultureInfo.InvariantCulture));
                ctx.Console.Write(table);
            }
            ctx.Console.WriteLine();
        }
    }
}
