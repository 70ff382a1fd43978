// A consumer app: load a saved EmotionML model zip and predict emotions for video clips.
//   dotnet run --project samples/EmotionML.ConsumerApp -- model.zip clip1.mp4 [clip2.mp4 ...]
// It also has a "dump" mode, used by the tests, that prints a digest of every output column per clip.
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: EmotionML.ConsumerApp [dump] <model.zip> <video>...");
    return 2;
}
var dump = args[0] == "dump";
var modelPath = dump ? args[1] : args[0];
var clips = args.Skip(dump ? 2 : 1).Select(p => new Clip { VideoPath = p }).ToList();

var mlContext = new MLContext();
ITransformer model = mlContext.Model.Load(modelPath, out _);          // the whole chain, every option intact
var predictions = model.Transform(mlContext.Data.LoadFromEnumerable(clips));

if (!dump)
{
    var labels = predictions.Schema["Score"].Annotations.Schema.GetColumnOrNull("SlotNames") is { } ? GetSlotNames(predictions) : null;
    foreach (var row in mlContext.Data.CreateEnumerable<Prediction>(predictions, reuseRowObject: false).Zip(clips))
    {
        var best = Array.IndexOf(row.First.Score, row.First.Score.Max());
        Console.WriteLine($"{row.Second.VideoPath}: {labels?[best] ?? best.ToString()} ({row.First.Score[best]:P1})");
    }
    return 0;
}

// dump: {"rows":[{"column": "sha256 of the values", ...}], "assemblies": [...]}
var rows = EmotionML.ConsumerApp.ColumnDigest.Rows(predictions);
var assemblies = AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name ?? "").OrderBy(n => n).ToList();
Console.WriteLine(JsonSerializer.Serialize(new { rows, assemblies }));
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
