using EmotionML.Core;
using EmotionML.Fusion;
using EmotionML.Training.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using static TorchSharp.torch;

namespace EmotionML.Training.Fusion;

/// <summary>Options of <see cref="FusionHeadTrainer"/>: the head's architecture, the optimisation, and the column names.</summary>
public sealed class FusionHeadTrainerOptions
{
    /// <summary>Architecture (attention kinds, FBP or concatenation, dimensions, dropout). FaceDim, AudioDim and Classes are taken from the data.</summary>
    public FusionHeadOptions Head { get; set; } = new();

    /// <summary>Optimisation and validation settings.</summary>
    public TrainerOptions Training { get; set; } = new();

    /// <summary>Input and output column names of the fitted head, and how it runs.</summary>
    public FusionHeadColumns Columns { get; set; } = new();

    internal FusionHeadTrainerOptions Clone() => new() { Head = Head with { }, Training = Training.Clone(), Columns = Columns.Clone() };
}

/// <summary>
/// Trains the fusion head (DESIGN.md §1: attention within each modality, FBP or concatenation across them, softmax
/// classifier) with TorchSharp on the face and audio feature sets, then exports it to ONNX and returns a
/// <see cref="FusionHeadTransformer"/> that runs on ONNX Runtime. The label must be a key column.
/// </summary>
public sealed class FusionHeadTrainer : IEstimator<FusionHeadTransformer>
{
    private readonly IHostEnvironment _env;
    private readonly FusionHeadTrainerOptions _options;

    internal FusionHeadTrainer(IHostEnvironment env, FusionHeadTrainerOptions options)
    {
        _env = env ?? throw new ArgumentNullException(nameof(env));
        ArgumentNullException.ThrowIfNull(options);
        options.Training.Validate();
        options.Columns.Validate();
        _options = options.Clone();
        var host = env.Register(nameof(FusionHeadTrainer));
        _options.Training.Warning = message => StageLog.Warning(host, message);
    }

    /// <summary>The report of the last <see cref="Fit"/>: per-epoch losses, the best epoch.</summary>
    public TrainingReport? LastReport { get; private set; }

    /// <summary>The TorchSharp module of the last <see cref="Fit"/> (for inspection and the ONNX agreement check).</summary>
    public FusionHead? LastModule { get; private set; }

    /// <summary>Trains the head on <paramref name="input"/> and returns it as an ONNX-run transformer.</summary>
    public FusionHeadTransformer Fit(IDataView input)
    {
        var o = _options;
        var c = o.Columns;
        ArgumentNullException.ThrowIfNull(input);
        GetOutputSchema(SchemaShape.Create(input.Schema));
        var head = o.Head with { };
        var schema = input.Schema;
        var columns = new List<string>();
        int faceFrames = 0, faceDim = 0, audioPositions = 0, audioDim = 0;
        if (head.UsesFace)
        {
            (faceFrames, faceDim) = SetShape(schema, c.FaceFeaturesColumnName, c.FaceMaskColumnName, "face features", "frame mask");
            columns.AddRange([c.FaceFeaturesColumnName, c.FaceMaskColumnName]);
        }
        if (head.UsesAudio)
        {
            (audioPositions, audioDim) = SetShape(schema, c.AudioFeaturesColumnName, c.AudioMaskColumnName, "audio features", "audio mask");
            columns.AddRange([c.AudioFeaturesColumnName, c.AudioMaskColumnName]);
        }
        var table = TrainingTable.Read(input, o.Training.LabelColumnName, o.Training.GroupColumnName, columns.ToArray());
        head.FaceDim = Math.Max(1, faceDim);
        head.AudioDim = Math.Max(1, audioDim);
        head.Classes = table.ClassNames.Length;
        head.Validate();

        manual_seed(o.Training.Seed);
        var module = new FusionHead(head);
        Tensor? Take(string name, int[] rows, long[] shape, Device d) => name.Length == 0 ? null : TrainingLoop.Stack(table.Vectors[name], rows, shape, d);
        LastReport = TrainingLoop.Run(module, (rows, d) => module.forward(
            head.UsesFace ? Take(c.FaceFeaturesColumnName, rows, [faceFrames, faceDim], d) : null,
            head.UsesFace ? Take(c.FaceMaskColumnName, rows, [faceFrames], d) : null,
            head.UsesAudio ? Take(c.AudioFeaturesColumnName, rows, [audioPositions, audioDim], d) : null,
            head.UsesAudio ? Take(c.AudioMaskColumnName, rows, [audioPositions], d) : null).Logits,
            table, o.Training, "fusion head");
        LastModule = module;
        var onnx = FusionHeadOnnx.Export(module, head.UsesFace ? faceFrames : null, head.UsesAudio ? audioPositions : null);
        var signature = new FusionHeadSignature
        {
            Classes = table.ClassNames,
            FaceFrames = head.UsesFace ? faceFrames : 0,
            FaceDim = head.UsesFace ? faceDim : 0,
            AudioPositions = head.UsesAudio ? audioPositions : 0,
            AudioDim = head.UsesAudio ? audioDim : 0,
            Description = Describe(head),
        };
        return new FusionHeadTransformer(_env, c, signature, onnx);
    }

    /// <summary>A short name of a head configuration, e.g. "face transformer × audio self, FBP".</summary>
    public static string Describe(FusionHeadOptions h) => h.Modalities switch
    {
        Modalities.FaceOnly => $"face {h.FaceAttention.ToString().ToLowerInvariant()}",
        Modalities.AudioOnly => $"audio {h.AudioAttention.ToString().ToLowerInvariant()}",
        _ => $"face {h.FaceAttention.ToString().ToLowerInvariant()} × audio {h.AudioAttention.ToString().ToLowerInvariant()}, {(h.Fusion == FusionKind.Fbp ? "FBP" : "concat")}",
    };

    private static (int Items, int Dim) SetShape(DataViewSchema schema, string features, string mask, string featuresRole, string maskRole)
    {
        const string featuresExpected = "a vector of Single [items·D] (known size)", maskExpected = "a vector of Single [items] (known size)";
        var f = schema.GetColumnOrNull(features) ?? throw SchemaError.Mismatch(features, featuresRole, featuresExpected, SchemaError.Missing);
        var m = schema.GetColumnOrNull(mask) ?? throw SchemaError.Mismatch(mask, maskRole, maskExpected, SchemaError.Missing);
        if (f.Type is not VectorDataViewType { ItemType: var it, IsKnownSize: true } fv || it != NumberDataViewType.Single)
            throw SchemaError.Mismatch(features, featuresRole, featuresExpected, SchemaError.Describe(f.Type));
        if (m.Type is not VectorDataViewType { IsKnownSize: true } mv)
            throw SchemaError.Mismatch(mask, maskRole, maskExpected, SchemaError.Describe(m.Type));
        var items = mv.Size;
        if (fv.Size % items != 0)
            throw SchemaError.Mismatch(features, featuresRole, $"a vector of Single whose size is a multiple of the {items} items of '{mask}'", SchemaError.Describe(f.Type));
        return (items, fv.Size / items);
    }

    /// <summary>The schema after the head: Score, PredictedLabel, attention columns.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var c = _options.Columns;
        var h = _options.Head;
        SchemaChecks.RequireKey(inputSchema, _options.Training.LabelColumnName, "label");
        if (h.UsesFace)
        {
            SchemaChecks.Require(inputSchema, c.FaceFeaturesColumnName, "face features", SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single);
            SchemaChecks.Require(inputSchema, c.FaceMaskColumnName, "frame mask", SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single);
        }
        if (h.UsesAudio)
        {
            SchemaChecks.Require(inputSchema, c.AudioFeaturesColumnName, "audio features", SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single);
            SchemaChecks.Require(inputSchema, c.AudioMaskColumnName, "audio mask", SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single);
        }
        var result = inputSchema.ToDictionary(x => x.Name);
        result[c.ScoreColumnName] = new SchemaShape.Column(c.ScoreColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
        result[c.PredictedLabelColumnName] = new SchemaShape.Column(c.PredictedLabelColumnName, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.UInt32, true);
        if (h.UsesFace) result[c.FaceAttentionColumnName] = new SchemaShape.Column(c.FaceAttentionColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
        if (h.UsesAudio) result[c.AudioAttentionColumnName] = new SchemaShape.Column(c.AudioAttentionColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
        return new SchemaShape(result.Values);
    }
}
