using Google.Protobuf;
using Onnx;

namespace EmotionML.Training.Onnx;

/// <summary>
/// Cuts an ONNX graph at a tensor: the prefix (graph input → the tensor) runs the frozen early blocks on ONNX Runtime, the
/// suffix (the tensor → an output) is what <see cref="OnnxTorchModule"/> trains.
/// </summary>
internal static class OnnxGraphSlicer
{
    /// <summary>
    /// The nodes needed to compute <paramref name="outputs"/> from <paramref name="inputs"/> (graph order kept). Throws when
    /// a needed value is neither an input, an initializer nor produced by a node.
    /// </summary>
    public static List<NodeProto> Needed(GraphProto graph, IReadOnlyCollection<string> inputs, IReadOnlyCollection<string> outputs)
    {
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < graph.Node.Count; i++)
            foreach (var o in graph.Node[i].Output) producer[o] = i;
        var initializers = graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var stop = inputs.ToHashSet(StringComparer.Ordinal);
        var keep = new HashSet<int>();
        var stack = new Stack<string>(outputs);
        foreach (var o in outputs)
            if (!producer.ContainsKey(o) && !stop.Contains(o))
                throw new ArgumentException($"Tensor '{o}' is not produced by any node of graph '{graph.Name}'.", nameof(outputs));
        while (stack.Count > 0)
        {
            var name = stack.Pop();
            if (name.Length == 0 || stop.Contains(name) || initializers.Contains(name)) continue;
            if (!producer.TryGetValue(name, out var i))
                throw new ArgumentException($"Tensor '{name}' is needed but is not computed from [{string.Join(", ", inputs)}] in graph '{graph.Name}'.", nameof(inputs));
            if (!keep.Add(i)) continue;
            foreach (var x in graph.Node[i].Input) stack.Push(x);
        }
        return keep.Order().Select(i => graph.Node[i]).ToList();
    }

    /// <summary>
    /// The prefix graph from the original graph input to <paramref name="cut"/>, which becomes its only output, with a
    /// symbolic batch dimension "N" (intermediate shapes dropped). Unused initializers are removed.
    /// </summary>
    public static byte[] Prefix(byte[] original, string cut)
    {
        var model = ModelProto.Parser.ParseFrom(original);
        var graph = model.Graph;
        var input = graph.Input.First(i => !graph.Initializer.Any(t => t.Name == i.Name)).Name;
        var nodes = Needed(graph, [input], [cut]);
        var used = nodes.SelectMany(n => n.Input).ToHashSet(StringComparer.Ordinal);
        var inits = graph.Initializer.Where(t => used.Contains(t.Name)).ToList();
        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        graph.Initializer.Clear();
        graph.Initializer.AddRange(inits);
        var inputs = graph.Input.Where(i => i.Name == input).ToList();
        graph.Input.Clear();
        graph.Input.AddRange(inputs);
        graph.Output.Clear();
        graph.Output.Add(new ValueInfoProto { Name = cut });
        graph.ValueInfo.Clear();
        var dims = graph.Input[0].Type?.TensorType?.Shape?.Dim;
        if (dims is { Count: > 0 }) dims[0] = new TensorShapeProto.Types.Dimension { DimParam = "N" };
        return model.ToByteArray();
    }
}
