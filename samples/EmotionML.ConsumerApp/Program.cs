// A consumer app: load a saved EmotionML model zip and predict emotions for video clips.
//   dotnet run --project samples/EmotionML.ConsumerApp -- model.zip clip1.mp4 [clip2.mp4 ...]
// Other modes, used by the tests and scripts/consumer-check.sh:
//   json model.zip clip...   each clip's class probabilities by class name, as JSON
//   models                   where each pretrained model resolves (with the EmotionML.Models package: models/ next to the app)
//   dump model.zip clip...   a digest of every output column per clip
using System.Text.Json;
using EmotionML;
using Microsoft.ML;
using Microsoft.ML.Data;

if (args is ["models"])
{
    // Resolve checks each file's sha256; a missing file throws one ModelFileException listing every place tried.
    Console.WriteLine(JsonSerializer.Serialize(new
    {
        models = ModelFiles.All.ToDictionary(m => m.Name, m => m.Resolve()),
        sharedRoot = SharedPaths.Root,
        sharedExists = Directory.Exists(SharedPaths.Root),
    }));
    return 0;
}
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: EmotionML.ConsumerApp [json|dump] <model.zip> <video>... | EmotionML.ConsumerApp models");
    return 2;
}
var mode = args[0] is "dump" or "json" ? args[0] : "print";
var modelPath = mode == "print" ? args[0] : args[1];
var clips = args.Skip(mode == "print" ? 1 : 2).Select(p => new Clip { VideoPath = p }).ToList();

var mlContext = new MLContext();
// The whole chain with this machine's deployment settings (defaults: CPU, no feature cache); mlContext.Model.Load works too.
ITransformer model = EmotionModel.Load(mlContext, modelPath);
var predictions = model.Transform(mlContext.Data.LoadFromEnumerable(clips));

if (mode == "dump")
{
    // {"rows":[{"column": "sha256 of the values", ...}], "assemblies": [...]}
    var rows = EmotionML.ConsumerApp.ColumnDigest.Rows(predictions);
    var assemblies = AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name ?? "").OrderBy(n => n).ToList();
    Console.WriteLine(JsonSerializer.Serialize(new { rows, assemblies }));
    return 0;
}

var labels = predictions.Schema["Score"].Annotations.Schema.GetColumnOrNull("SlotNames") is { } ? GetSlotNames(predictions) : null;
var scored = mlContext.Data.CreateEnumerable<Prediction>(predictions, reuseRowObject: false).Zip(clips).ToList();
if (mode == "json")
{
    Console.WriteLine(JsonSerializer.Serialize(new
    {
        clips = scored.Select(row => new
        {
            path = row.Second.VideoPath,
            probabilities = row.First.Score.Select((p, i) => (Label: labels?[i] ?? i.ToString(), p)).ToDictionary(x => x.Label, x => x.p),
        }),
    }));
    return 0;
}
foreach (var row in scored)
{
    var best = Array.IndexOf(row.First.Score, row.First.Score.Max());
    Console.WriteLine($"{row.Second.VideoPath}: {labels?[best] ?? best.ToString()} ({row.First.Score[best]:P1})");
}
return 0;

static string[] GetSlotNames(IDataView view)
{
    VBuffer<ReadOnlyMemory<char>> names = default;
    view.Schema["Score"].GetSlotNames(ref names);
    return names.DenseValues().Select(n => n.ToString()).ToArray();
}

internal sealed class Clip
{
    public string VideoPath { get; set; } = "";
}

internal sealed class Prediction
{
    public float[] Score { get; set; } = [];
}
