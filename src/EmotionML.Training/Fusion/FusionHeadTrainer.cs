using EmotionML.Core;
using EmotionML.Fusion;
using EmotionML.Training.Onnx;
using TorchSharp;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using System.Text.Json.Serialization;
using static TorchSharp.torch;

namespace EmotionML.Training.Fusion;

/// <summary>Options of <see cref="FusionHeadTrainer"/>: the head's architecture, the optimisation, and the column names.</summary>
public sealed class FusionHeadTrainerOptions : ITorchTrainerOptions<FusionHeadTrainerOptions>
{
    /// <summary>Architecture (attention kinds, FBP or concatenation, dimensions, dropout). FaceDim, AudioDim and Classes are not settable: a fit takes them from the data.</summary>
    public FusionHeadOptions Head { get; set; } = new();

    /// <summary>Optimisation and validation settings.</summary>
    public TrainerOptions Training { get; set; } = new();

    /// <summary>Input and output column names of the fitted head, and how it runs.</summary>
    public FusionHeadColumns Columns { get; set; } = new();

    /// <summary>
    /// Called at the end of every fit with the training report and the TorchSharp module; the receiver owns (and
    /// disposes) the module. Without it the fit disposes the module. Default null.
    /// </summary>
    [JsonIgnore]
    public Action<FusionHeadTrainingResult>? Trained { get; set; }

    internal FusionHeadTrainerOptions Clone() => new() { Head = Head with { }, Training = Training.Clone(), Columns = Columns.Clone(), Trained = Trained };

    internal void Validate()
    {
        Training.Validate();
        Columns.Validate();
    }

    void IStageOptions<FusionHeadTrainerOptions>.Validate() => Validate();

    FusionHeadTrainerOptions IStageOptions<FusionHeadTrainerOptions>.Clone() => Clone();
}

/// <summary>What a fit of <see cref="FusionHeadTrainer"/> produced besides the head (see <see cref="FusionHeadTrainerOptions.Trained"/>).</summary>
/// <param name="Report">Per-epoch losses, the best epoch, the row counts.</param>
/// <param name="Module">The trained TorchSharp module (for inspection and the ONNX agreement check).</param>
public sealed record FusionHeadTrainingResult(TrainingReport Report, FusionHead Module);

/// <summary>
/// Trains the fusion head (DESIGN.md §1: attention within each modality, FBP or concatenation across them, softmax
/// classifier) with TorchSharp on the face and audio feature sets, then exports it to ONNX and returns a
/// <see cref="FusionHeadTransformer"/> that runs on ONNX Runtime. The label must be a key column. A fit keeps nothing on
/// the trainer; the report and the module go to <see cref="FusionHeadTrainerOptions.Trained"/>.
/// </summary>
public sealed class FusionHeadTrainer : EmotionTorchTrainer<FusionHeadTransformer, FusionHeadTrainerOptions>
{
    internal FusionHeadTrainer(IHostEnvironment env, FusionHeadTrainerOptions options) : base(env, nameof(FusionHeadTrainer), options)
    {
    }

    /// <summary>Trains the head on <paramref name="input"/> and returns it as an ONNX-run transformer.</summary>
    private protected override FusionHeadTransformer FitChecked(IDataView input)
    {
        var o = Options;
        var c = o.Columns;
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
        head = head with { FaceDim = Math.Max(1, faceDim), AudioDim = Math.Max(1, audioDim), Classes = table.ClassNames.Length };
        head.Validate();

        manual_seed(o.Training.Seed);
        var module = new FusionHead(head);
        if (head.Standardize)
        {
            // Statistics of the rows the head trains on (the validation speakers' rows are held out of them too).
            var (fitRows, _) = table.Split(o.Training.ValidationFraction, o.Training.Seed);
            if (head.UsesFace && head.StandardizeFace) module.FaceStandardizer!.Fit(table.Vectors[c.FaceFeaturesColumnName], table.Vectors[c.FaceMaskColumnName], fitRows);
            if (head.UsesAudio) module.AudioStandardizer!.Fit(table.Vectors[c.AudioFeaturesColumnName], table.Vectors[c.AudioMaskColumnName], fitRows);
        }
        Tensor? Take(string name, int[] rows, long[] shape, Device d) => name.Length == 0 ? null : TrainingLoop.Stack(table.Vectors[name], rows, shape, d);
        Tensor? FaceMask(int[] rows, Device d)
        {
            var mask = Take(c.FaceMaskColumnName, rows, [faceFrames], d)!;
            return module.training && head.TrainingFrames > 0 && head.TrainingFrames < faceFrames ? FrameSubset(mask, head.TrainingFrames) : mask;
        }
        var report = TrainingLoop.Run(module, (rows, d) => module.forward(
            head.UsesFace ? Take(c.FaceFeaturesColumnName, rows, [faceFrames, faceDim], d) : null,
            head.UsesFace ? FaceMask(rows, d) : null,
            head.UsesAudio ? Take(c.AudioFeaturesColumnName, rows, [audioPositions, audioDim], d) : null,
            head.UsesAudio ? Take(c.AudioMaskColumnName, rows, [audioPositions], d) : null).Logits,
            table, o.Training, "fusion head");
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
        var transformer = new FusionHeadTransformer(Env, c, signature, onnx);
        if (o.Trained is { } trained) trained(new FusionHeadTrainingResult(report, module));
        else module.Dispose();
        return transformer;
    }

    /// <summary>
    /// The mask [B,N] restricted to a random subset of <paramref name="keep"/> real frames per row (all real frames of a row
    /// that has fewer). Draws from TorchSharp's generator, so checkpoints (which save it) resume it exactly.
    /// </summary>
    internal static Tensor FrameSubset(Tensor mask, int keep)
    {
        using var scope = NewDisposeScope();
        // Explicit Scalars kept alive around the calls (see AttentionPooling.Normalise).
        using var two = 2.0.ToScalar();
        using var half = 0.5.ToScalar();
        using var k = ((long)keep).ToScalar();
        // Real frames draw a key in [0,1), padding gets 2: the keep smallest keys of a row are real frames.
        var key = where(mask.gt(half), rand(mask.shape, device: mask.device), full(mask.shape, two, device: mask.device));
        var rank = key.argsort(1).argsort(1);
        return (mask * rank.lt(k).to_type(mask.dtype)).MoveToOuterDisposeScope();
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
    private protected override SchemaShape OutputSchema(SchemaShape inputSchema)
    {
        var c = Options.Columns;
        var h = Options.Head;
        SchemaChecks.RequireKey(inputSchema, Options.Training.LabelColumnName, "label");
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
