// A consumer app: load a saved EmotionML model zip and predict emotions for video clips.
//   dotnet run --project samples/EmotionML.ConsumerApp -- model.zip clip1.mp4 [clip2.mp4 ...]
// It also has a "dump" mode, used by the tests, that prints a digest of every output column per clip.
using System.Security.Cryptography;
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
var rows = new List<Dictionary<string, string>>();
using (var cursor = predictions.GetRowCursor(predictions.Schema))
{
    var readers = predictions.Schema.Where(c => !c.IsHidden).Select(c => (c.Name, Read: Digest(cursor, c))).ToList();
    while (cursor.MoveNext())
        rows.Add(readers.ToDictionary(r => r.Name, r => r.Read()));
}
var assemblies = AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name ?? "").OrderBy(n => n).ToList();
Console.WriteLine(JsonSerializer.Serialize(new { rows, assemblies }));
return 0;

static string[] GetSlotNames(IDataView view)
{
    VBuffer<ReadOnlyMemory<char>> names = default;
    view.Schema["Score"].GetSlotNames(ref names);
    return names.DenseValues().Select(n => n.ToString()).ToArray();
}

static Func<string> Digest(DataViewRowCursor cursor, DataViewSchema.Column column)
{
    Func<string> Vec<T>(Func<T, byte[]> bytes)
    {
        var getter = cursor.GetGetter<VBuffer<T>>(column);
        VBuffer<T> buffer = default;
        return () => { getter(ref buffer); return Hash(buffer.DenseValues().SelectMany(bytes)); };
    }
    Func<string> Scalar<T>(Func<T, byte[]> bytes)
    {
        var getter = cursor.GetGetter<T>(column);
        T value = default!;
        return () => { getter(ref value); return Hash(bytes(value)); };
    }
    return column.Type switch
    {
        VectorDataViewType { ItemType: var t } when t == NumberDataViewType.Single => Vec<float>(BitConverter.GetBytes),
        VectorDataViewType { ItemType: var t } when t == NumberDataViewType.Byte => Vec<byte>(b => [b]),
        VectorDataViewType { ItemType: BooleanDataViewType } => Vec<bool>(BitConverter.GetBytes),
        VectorDataViewType { ItemType: TextDataViewType } => Vec<ReadOnlyMemory<char>>(s => System.Text.Encoding.UTF8.GetBytes(s.ToString())),
        var t when t == NumberDataViewType.Single => Scalar<float>(BitConverter.GetBytes),
        var t when t == NumberDataViewType.Int32 => Scalar<int>(BitConverter.GetBytes),
        KeyDataViewType => Scalar<uint>(BitConverter.GetBytes),
        TextDataViewType => Scalar<ReadOnlyMemory<char>>(s => System.Text.Encoding.UTF8.GetBytes(s.ToString())),
        BooleanDataViewType => Scalar<bool>(BitConverter.GetBytes),
        _ => () => $"unsupported {column.Type}",
    };
}

static string Hash(IEnumerable<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes.ToArray()));

internal sealed class Clip
{
    public string VideoPath { get; set; } = "";
}

internal sealed class Prediction
{
    public float[] Score { get; set; } = [];
}
