using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EmotionML.Experiments;
using Microsoft.ML;
using Microsoft.ML.Data;
using Spectre.Console;

namespace EmotionML.Cli.Commands;

/// <summary><c>emotionml predict model.zip video...</c>: loads a saved chain and prints each clip's emotion.</summary>
internal static class PredictCommand
{
    /// <summary>One clip's prediction.</summary>
    internal sealed record ClipPrediction(string Path, string Emotion, IReadOnlyList<(string Label, float Probability)> Probabilities, float[]? FaceAttention, float[]? AudioAttention);

    /// <summary>One clip's outcome: its prediction, or the typed error that stopped it.</summary>
    internal sealed record ClipResult(string Path, ClipPrediction? Prediction, ClipError? Error);

    public static Command Create(Func<CliContext> context)
    {
        var model = new Argument<FileInfo>("model.zip") { Description = "A model zip saved with mlContext.Model.Save (the whole chain from VideoPath to Score)." };
        var videos = new Argument<FileInfo[]>("video") { Description = "One or more video clips.", Arity = ArgumentArity.OneOrMore };
        var json = new Option<bool>("--json") { Description = "Print machine-readable JSON (one object with a 'clips' array, one entry per clip in input order: a prediction or an 'error' object) instead of tables." };
        var parallel = ParallelOption.Create();
        var command = new Command("predict", "Predict the emotion of video clips with a saved EmotionML model: top emotion, class probabilities and, when the model has a FaceAttention column, the per-frame attention. A clip that cannot be used is reported with its typed error and the others carry on; the exit code is 1 when any clip failed. ONNX settings saved in the zip apply (--device/--threads do not change a saved model).")
        {
            model, videos, json, parallel,
        };
        command.SetAction(parse =>
        {
            var ctx = context();
            var zip = parse.GetRequiredValue(model);
            var clips = parse.GetRequiredValue(videos);
            var workers = ParallelOption.Read(parse, parallel);
            if (!zip.Exists) throw new ModelFormatException($"{zip.FullName}: model file not found.");
            var results = Predict(ctx, zip.FullName, [.. clips.Select(c => c.FullName)], workers);
            foreach (var r in results)
                if (r.Error is { } e) ctx.Error.WriteLine($"error: {e.Message}");
            if (parse.GetValue(json)) WriteJson(ctx, zip.FullName, results);
            else WriteTables(ctx, results);
            return ClipFailures.Finish(ctx, results.Count(r => r.Error != null), results.Count);
        });
        return command;
    }

    private sealed class Clip
    {
        public string VideoPath { get; set; } = "";
    }

    /// <summary>
    /// Predicts every clip, <paramref name="parallel"/> at a time, each worker with its own loaded copy of the chain;
    /// each clip runs on its own, so the results do not depend on the number of workers. Results in input order.
    /// </summary>
    internal static List<ClipResult> Predict(CliContext ctx, string zip, IReadOnlyList<string> paths, int parallel = 1)
    {
        var workers = Math.Max(1, Math.Min(parallel, paths.Count));
        var models = new LoadedModel[workers];
        models[0] = LoadedModel.Load(ctx, zip);
        try
        {
            // The other copies load in parallel (each holds its own ONNX sessions).
            System.Threading.Tasks.Parallel.For(1, workers, w => models[w] = LoadedModel.Load(ctx, zip));
            var results = new ClipResult[paths.Count];
            var next = -1;
            var gate = new object();
            var errors = new List<Exception>();
            ctx.WithProgress("predicting", paths.Count, step =>
            {
                var threads = Enumerable.Range(0, workers).Select(w => new Thread(() =>
                {
                    try
                    {
                        int i;
                        while ((i = Interlocked.Increment(ref next)) < paths.Count)
                        {
                            results[i] = models[w].Predict(paths[i]);
                            lock (gate) step(Path.GetFileName(paths[i]));
                        }
                    }
                    catch (Exception e)
                    {
                        // Not a clip's typed error but a fault of the program: stop every worker and report it.
                        lock (gate) errors.Add(e);
                        Interlocked.Exchange(ref next, paths.Count);
                    }
                }) { IsBackground = true, Name = $"predict-{w}" }).ToList();
                foreach (var t in threads) t.Start();
                foreach (var t in threads) t.Join();
            });
            if (errors.Count > 0) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(errors[0]);
            if (results.Any(r => r is null)) throw new InvalidOperationException("A predict worker stopped before its clips were done.");
            return [.. results];
        }
        finally
        {
            foreach (var m in models) m?.Dispose();
        }
    }

    /// <summary>One loaded copy of a saved chain and what predict reads from its output.</summary>
    private sealed class LoadedModel : IDisposable
    {
        private readonly MLContext _ml;
        private readonly ITransformer _transformer;
        private readonly string[]? _labels;
        private readonly bool _face, _audio;

        private LoadedModel(MLContext ml, ITransformer transformer, string[]? labels, bool face, bool audio)
            => (_ml, _transformer, _labels, _face, _audio) = (ml, transformer, labels, face, audio);

        public static LoadedModel Load(CliContext ctx, string zip)
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
            var schema = transformer.GetOutputSchema(ml.Data.LoadFromEnumerable(Array.Empty<Clip>()).Schema);
            var score = schema.GetColumnOrNull("Score")
                ?? throw new ModelFormatException($"{zip}: the model has no Score column (columns: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => c.Name))}); predict needs a chain that ends in a classifier head.");
            if (score.Type is not VectorDataViewType { ItemType: var it } || it != NumberDataViewType.Single)
                throw new ModelFormatException($"{zip}: the Score column is {score.Type}, expected a float vector.");
            var labels = SlotNames(score);
            var predicted = schema.GetColumnOrNull("PredictedLabel");
            if (predicted is { Type: KeyDataViewType } p && labels == null) labels = KeyValues(p);
            return new LoadedModel(ml, transformer, labels, FloatVectorColumn(schema, "FaceAttention") != null, FloatVectorColumn(schema, "AudioAttention") != null);
        }

        /// <summary>One clip through the chain; a typed error (missing, corrupt, no stream, bad input) is its result.</summary>
        public ClipResult Predict(string path)
        {
            try
            {
                if (!File.Exists(path)) throw new MediaFileException(path, MediaProblem.Missing, "");
                var output = _transformer.Transform(_ml.Data.LoadFromEnumerable(new[] { new Clip { VideoPath = path } }));
                var schema = output.Schema;
                var score = schema["Score"];
                var columns = new List<DataViewSchema.Column> { score };
                if (_face) columns.Add(schema["FaceAttention"]);
                if (_audio) columns.Add(schema["AudioAttention"]);
                using var cursor = output.GetRowCursor(columns);
                var scoreGetter = cursor.GetGetter<VBuffer<float>>(score);
                var faceGetter = _face ? cursor.GetGetter<VBuffer<float>>(schema["FaceAttention"]) : null;
                var audioGetter = _audio ? cursor.GetGetter<VBuffer<float>>(schema["AudioAttention"]) : null;
                VBuffer<float> buffer = default;
                if (!cursor.MoveNext()) throw new InvalidOperationException("The chain returned no row for a clip.");
                scoreGetter(ref buffer);
                var probabilities = ToProbabilities(buffer.DenseValues().ToArray());
                float[]? faceAttention = null, audioAttention = null;
                if (faceGetter != null) { faceGetter(ref buffer); faceAttention = buffer.DenseValues().ToArray(); }
                if (audioGetter != null) { audioGetter(ref buffer); audioAttention = buffer.DenseValues().ToArray(); }
                var named = probabilities.Select((v, i) => (_labels != null && i < _labels.Length ? _labels[i] : i.ToString(CultureInfo.InvariantCulture), v)).ToList();
                var best = named.MaxBy(x => x.v);
                return new ClipResult(path, new ClipPrediction(path, best.Item1, named, faceAttention, audioAttention), null);
            }
            catch (Exception e) when (ClipFailure.Typed(e) is { } typed)
            {
                return new ClipResult(path, null, ClipError.From(typed));
            }
        }

        public void Dispose() => (_transformer as IDisposable)?.Dispose();
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

    private static void WriteJson(CliContext ctx, string zip, List<ClipResult> results)
    {
        ctx.Output.WriteLine(JsonSerializer.Serialize(new
        {
            model = zip,
            clips = results.Select(r => r.Prediction is { } p
                ? (object)new
                {
                    path = r.Path,
                    emotion = p.Emotion,
                    probabilities = p.Probabilities.ToDictionary(x => x.Label, x => x.Probability),
                    faceAttention = p.FaceAttention,
                    audioAttention = p.AudioAttention,
                }
                : new { path = r.Path, error = new { type = r.Error!.Type, problem = r.Error.Problem, message = r.Error.Message } }),
        }, new JsonSerializerOptions { WriteIndented = true }));
    }

    private static void WriteTables(CliContext ctx, List<ClipResult> results)
    {
        foreach (var r in results)
        {
            if (r.Prediction is not { } p)
            {
                // Plain text, never wrapped: one line a script can grep.
                ctx.Output.WriteLine($"{r.Path}: error {r.Error!.Kind}: {r.Error.Message}");
                ctx.Output.WriteLine();
                continue;
            }
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
