using EmotionML.FaceAlignment;
using Google.Protobuf;
using Onnx;

namespace EmotionML.FaceFeatures;

/// <summary>The pretrained face CNNs the face-feature stage can run (all frozen; see <c>models/*/PROVENANCE.txt</c>).</summary>
public enum FaceBackboneKind
{
    /// <summary>DenseNet-121 facial expression classifier; feature = penultimate tensor <c>1160</c>, 1024-d. Input: the whole 224 crop, RGB/255.</summary>
    FerDenseNet121,
    /// <summary>MobileFaceNet face-recognition embedder; 512-d. Input: the ArcFace 112 crop (central 224/1.3 px of the crop), RGB (x−127)/128.</summary>
    MobileFaceNet,
    /// <summary>mini-Xception FER2013 classifier; feature = <c>features_add_4</c> [128,4,4] global-average-pooled, 128-d. Input: the whole crop, gray 64², (x/255−0.5)·2.</summary>
    MiniXception,
}

/// <summary>Channel layout and normalisation of a backbone's input tensor.</summary>
internal enum PixelFormat
{
    /// <summary>3 planes R, G, B; value = (x − Offset) · Scale.</summary>
    Rgb,
    /// <summary>1 plane, gray = 0.299 R + 0.587 G + 0.114 B; value = (gray − Offset) · Scale.</summary>
    Gray,
}

/// <summary>
/// Everything the stage needs to know about one backbone, declared once in <see cref="Table"/>: the model file, the graph's
/// input, the tensor read as the feature, its dimension, the pixel normalisation and the crop geometry.
/// </summary>
/// <param name="Kind">Which backbone.</param>
/// <param name="Model">Model file and sha256.</param>
/// <param name="InputName">Graph input name.</param>
/// <param name="InputSize">Input side (square).</param>
/// <param name="Format">Channel layout of the input.</param>
/// <param name="Offset">Subtracted from each 0..255 value.</param>
/// <param name="Scale">Multiplies the offset value.</param>
/// <param name="FeatureTensor">The tensor read as the feature (exposed as a graph output if it is a hidden tensor).</param>
/// <param name="FeatureDim">Feature dimension.</param>
/// <param name="GlobalAveragePool">True when <paramref name="FeatureTensor"/> is an [N,C,H,W] map averaged over H, W (done in-graph).</param>
/// <param name="CropFraction">Side of the square taken from the centre of the 224 aligned crop, as a fraction of 224 (1 = whole crop; 1/1.3 = ArcFace 112 template area).</param>
/// <param name="LogitsTensor">The classifier's output (7 FER2013 classes), when the backbone has one.</param>
internal sealed record FaceBackbone(
    FaceBackboneKind Kind, KnownModel Model, string InputName, int InputSize, PixelFormat Format, float Offset, float Scale,
    string FeatureTensor, int FeatureDim, bool GlobalAveragePool, double CropFraction, string? LogitsTensor)
{
    /// <summary>Name of the graph output that holds the feature in the prepared graph.</summary>
    public const string PreparedFeatureOutput = "eml_features";

    /// <summary>The single table of backbones.</summary>
    public static readonly IReadOnlyDictionary<FaceBackboneKind, FaceBackbone> Table = new Dictionary<FaceBackboneKind, FaceBackbone>
    {
        [FaceBackboneKind.FerDenseNet121] = new(FaceBackboneKind.FerDenseNet121, ModelFiles.FerDenseNet121, "input", 224, PixelFormat.Rgb, 0f, 1f / 255f,
            "1160", 1024, GlobalAveragePool: false, CropFraction: 1.0, LogitsTensor: "output"),
        [FaceBackboneKind.MobileFaceNet] = new(FaceBackboneKind.MobileFaceNet, ModelFiles.MobileFaceNet, "input", 112, PixelFormat.Rgb, 127f, 1f / 128f,
            "output", 512, GlobalAveragePool: false, CropFraction: 1.0 / 1.3, LogitsTensor: null),
        [FaceBackboneKind.MiniXception] = new(FaceBackboneKind.MiniXception, ModelFiles.MiniXception, "input", 64, PixelFormat.Gray, 127.5f, 2f / 255f,
            "features_add_4", 128, GlobalAveragePool: true, CropFraction: 1.0, LogitsTensor: "emotion_probs"),
    };

    /// <summary>The descriptor of <paramref name="kind"/>.</summary>
    public static FaceBackbone Of(FaceBackboneKind kind)
        => Table.TryGetValue(kind, out var b) ? b : throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown face backbone");

    public int Channels => Format == PixelFormat.Rgb ? 3 : 1;

    public int InputLength => Channels * InputSize * InputSize;

    /// <summary>The map from 224-crop pixel coordinates to input pixel coordinates (central <see cref="CropFraction"/> of the crop scaled to the input side).</summary>
    public Affine2D CropToInput(int cropSize = FaceAlignmentOptions.CropSize)
    {
        var side = cropSize * CropFraction;
        var s = InputSize / side;
        var c = cropSize / 2.0;
        return new Affine2D(s, 0, InputSize / 2.0 - s * c, 0, s, InputSize / 2.0 - s * c);
    }

    /// <summary>
    /// The graph ONNX Runtime runs: the feature exposed as output <see cref="PreparedFeatureOutput"/> (a hidden tensor is appended
    /// to <c>graph.output</c>; a [N,C,H,W] map gets GlobalAveragePool + Flatten nodes), optionally the logits too, and, when
    /// <paramref name="symbolicBatch"/>, the batch dimension of inputs and outputs made symbolic ("N") so one Run takes many images
    /// (intermediate <c>value_info</c> shapes are dropped so they do not pin the batch to 1).
    /// </summary>
    public byte[] PrepareGraph(byte[] original, bool symbolicBatch, bool keepLogits = false)
    {
        var model = ModelProto.Parser.ParseFrom(original);
        var graph = model.Graph;
        var outputs = graph.Output.ToDictionary(o => o.Name);
        var keep = new List<ValueInfoProto>();
        if (keepLogits && LogitsTensor != null && outputs.TryGetValue(LogitsTensor, out var logits)) keep.Add(logits);
        var pooled = FeatureTensor;
        if (GlobalAveragePool)
        {
            graph.Node.Add(new NodeProto { Name = "eml_gap", OpType = "GlobalAveragePool", Input = { FeatureTensor }, Output = { "eml_gap" } });
            pooled = "eml_gap";
        }
        graph.Node.Add(new NodeProto
        {
            Name = "eml_flatten", OpType = "Flatten", Input = { pooled }, Output = { PreparedFeatureOutput },
            Attribute = { new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 } },
        });
        graph.Output.Clear();
        graph.Output.AddRange(keep);
        graph.Output.Add(new ValueInfoProto { Name = PreparedFeatureOutput });
        if (symbolicBatch)
        {
            graph.ValueInfo.Clear();
            foreach (var v in graph.Input.Concat(graph.Output))
            {
                var dims = v.Type?.TensorType?.Shape?.Dim;
                if (dims is { Count: > 0 }) dims[0] = new TensorShapeProto.Types.Dimension { DimParam = "N" };
            }
        }
        return model.ToByteArray();
    }

    /// <summary>The input's batch dimension as stored in the original graph (a number, or a symbol name).</summary>
    public static string DescribeBatchDim(byte[] original)
    {
        var model = ModelProto.Parser.ParseFrom(original);
        var d = model.Graph.Input[0].Type.TensorType.Shape.Dim[0];
        return d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue.ToString() : $"'{d.DimParam}'";
    }

    /// <summary>
    /// Writes one input image (CHW, <see cref="InputLength"/> floats) from an input-size RGB24 buffer, with this backbone's
    /// channel layout and normalisation.
    /// </summary>
    public void Normalise(ReadOnlySpan<byte> rgb, Span<float> chw)
    {
        var plane = InputSize * InputSize;
        if (Format == PixelFormat.Rgb)
        {
            for (var i = 0; i < plane; i++)
            {
                chw[i] = (rgb[3 * i] - Offset) * Scale;
                chw[plane + i] = (rgb[3 * i + 1] - Offset) * Scale;
                chw[2 * plane + i] = (rgb[3 * i + 2] - Offset) * Scale;
            }
        }
        else
        {
            for (var i = 0; i < plane; i++)
            {
                var gray = 0.299f * rgb[3 * i] + 0.587f * rgb[3 * i + 1] + 0.114f * rgb[3 * i + 2];
                chw[i] = (gray - Offset) * Scale;
            }
        }
    }
}
