using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace EmotionML.Training.Onnx;

/// <summary>A classifier appended to a graph by <see cref="OnnxWriteBack"/>: <c>logits = x·Wᵀ + b</c> on a 2-D feature tensor.</summary>
/// <param name="Input">The feature tensor it reads ([N, D]).</param>
/// <param name="Output">The new graph output ([N, K]).</param>
/// <param name="Weight">[K, D] row-major.</param>
/// <param name="Bias">[K].</param>
internal sealed record AppendedClassifier(string Input, string Output, float[] Weight, float[] Bias);

/// <summary>
/// Writes trained weights back into the ONNX graph they were imported from: every initializer an
/// <see cref="OnnxTorchModule"/> holds gets the module's current values (same name, shape and type), nothing else of
/// the graph changes (nodes, input and output names, other initializers), so the runtime stage runs the file exactly as
/// it ran the original. Optionally a new classifier (Gemm) is appended as an extra output, and metadata records what the
/// file was derived from.
/// </summary>
internal static class OnnxWriteBack
{
    /// <summary>Metadata key: the sha256 of the graph the weights were written into.</summary>
    public const string BaseShaKey = EmotionML.FaceFeatures.FineTunedBackbone.BaseShaKey;

    /// <summary>Metadata key: what the weights were trained on.</summary>
    public const string TrainedOnKey = "emotionml.trained_on";

    public static byte[] Write(byte[] original, IEnumerable<OnnxTorchModule> modules, AppendedClassifier? classifier = null, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var model = ModelProto.Parser.ParseFrom(original);
        var graph = model.Graph;
        var byName = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var module in modules)
            foreach (var (name, value) in module.Initializers)
            {
                if (!byName.TryGetValue(name, out var t)) throw new ArgumentException($"The graph has no initializer '{name}' (is it the graph the module was imported from?).");
                var dims = t.Dims.ToArray();
                if (!dims.SequenceEqual(value.shape)) throw new ArgumentException($"Initializer '{name}': graph shape [{string.Join(",", dims)}], module shape [{string.Join(",", value.shape)}].");
                using var scope = NewDisposeScope(); // holds the chain's temporaries until the values are read
                using var cpu = value.detach().to(CPU).contiguous();
                var data = cpu.data<float>().ToArray();
                t.FloatData.Clear();
                t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan()));
            }
        // A Reshape whose batch is baked in as 1 gets 0 there (copy the input's batch), so the written graph also runs on batches (the same for one image).
        foreach (var node in graph.Node.Where(n => n.OpType == "Reshape" && n.Input.Count > 1))
            if (byName.TryGetValue(node.Input[1], out var shapeTensor) && shapeTensor.DataType == (int)TensorProto.Types.DataType.Int64)
            {
                var dims = shapeTensor.Int64Data.Count > 0 ? shapeTensor.Int64Data.ToArray() : MemoryMarshal.Cast<byte, long>(shapeTensor.RawData.Span).ToArray();
                if (dims.Length < 2 || dims[0] != 1) continue;
                dims[0] = 0;
                shapeTensor.Int64Data.Clear();
                shapeTensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(dims.AsSpan()));
            }
        if (classifier is { } c)
        {
            var k = c.Bias.Length;
            var d = c.Weight.Length / k;
            var w = new TensorProto { Name = c.Output + "_weight", DataType = (int)TensorProto.Types.DataType.Float, Dims = { k, d }, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(c.Weight.AsSpan())) };
            var b = new TensorProto { Name = c.Output + "_bias", DataType = (int)TensorProto.Types.DataType.Float, Dims = { k }, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(c.Bias.AsSpan())) };
            if (byName.ContainsKey(w.Name) || graph.Node.Any(n => n.Output.Contains(c.Output)))
                throw new ArgumentException($"The graph already has a value named '{c.Output}'.");
            graph.Initializer.Add(w);
            graph.Initializer.Add(b);
            graph.Node.Add(new NodeProto
            {
                Name = c.Output + "_gemm", OpType = "Gemm", Input = { c.Input, w.Name, b.Name }, Output = { c.Output },
                Attribute = { new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 } },
            });
            var shape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dimension { DimParam = "N" }, new TensorShapeProto.Types.Dimension { DimValue = k } } };
            graph.Output.Add(new ValueInfoProto { Name = c.Output, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } } });
        }
        if (metadata != null)
            foreach (var (key, value) in metadata)
            {
                var existing = model.MetadataProps.FirstOrDefault(p => p.Key == key);
                if (existing != null) existing.Value = value;
                else model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
            }
        return model.ToByteArray();
    }
}
