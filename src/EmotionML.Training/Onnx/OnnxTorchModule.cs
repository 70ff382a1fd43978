using System.Runtime.InteropServices;
using EmotionML.Core;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace EmotionML.Training.Onnx;

/// <summary>
/// A TorchSharp module that builds itself from (a slice of) an ONNX graph: the nodes that compute
/// <see cref="OutputName"/> from <see cref="InputName"/>, run in graph order, with the float initializers they read as
/// parameters (batch-norm running mean/variance as buffers, updated in training mode) and the int64 ones as constants.
/// Ops: Conv, PRelu, Relu, Add, Sub, Mul, Concat, BatchNormalization, Pad (constant), MaxPool, AveragePool,
/// GlobalAveragePool, Flatten, Reshape, Gemm, MatMul, Identity, Sigmoid — the ones of the shared face backbones
/// (MobileFaceNet, DenseNet-121) and a few trivial others. Any other op is refused when the module is built.
/// <see cref="Initializers"/> maps every parameter and buffer back to its initializer name, which is how
/// <see cref="OnnxWriteBack"/> writes trained weights into the original graph.
/// </summary>
internal sealed class OnnxTorchModule : nn.Module<Tensor, Tensor>
{
    private static readonly HashSet<string> Supported =
    [
        "Conv", "PRelu", "Relu", "Add", "Sub", "Mul", "Concat", "BatchNormalization", "Pad", "MaxPool", "AveragePool",
        "GlobalAveragePool", "Flatten", "Reshape", "Gemm", "MatMul", "Identity", "Sigmoid",
    ];

    private readonly List<NodeProto> _nodes;
    private readonly Dictionary<string, Tensor> _floats = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long[]> _ints = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _moduleNameOf = new(StringComparer.Ordinal);

    /// <summary>Imports the nodes of <paramref name="graph"/> between <paramref name="input"/> and <paramref name="output"/>.</summary>
    /// <exception cref="ModelFormatException">An op outside the supported set, or an initializer that is neither float nor int64.</exception>
    public OnnxTorchModule(GraphProto graph, string input, string output, string name = "onnx") : base(name)
    {
        InputName = input;
        OutputName = output;
        _nodes = OnnxGraphSlicer.Needed(graph, [input], [output]);
        var unsupported = _nodes.Select(n => n.OpType).Where(op => !Supported.Contains(op)).Distinct().ToList();
        if (unsupported.Count > 0)
            throw new ModelFormatException($"ONNX graph '{graph.Name}': op(s) {string.Join(", ", unsupported)} cannot be imported into TorchSharp (supported: {string.Join(", ", Supported)}).");
        var used = _nodes.SelectMany(n => n.Input).ToHashSet(StringComparer.Ordinal);
        var buffers = _nodes.Where(n => n.OpType == "BatchNormalization").SelectMany(n => n.Input.Skip(3).Take(2)).ToHashSet(StringComparer.Ordinal);
        var taken = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in graph.Initializer.Where(t => used.Contains(t.Name)))
        {
            switch ((TensorProto.Types.DataType)t.DataType)
            {
                case TensorProto.Types.DataType.Float:
                {
                    var moduleName = ModuleName(t.Name, taken);
                    var value = tensor(FloatData(t), t.Dims.ToArray());
                    if (buffers.Contains(t.Name))
                    {
                        register_buffer(moduleName, value);
                        _floats[t.Name] = value;
                    }
                    else
                    {
                        var p = new TorchSharp.Modules.Parameter(value);
                        GC.KeepAlive(value); // not finalised while the native call above reads it
                        register_parameter(moduleName, p);
                        _floats[t.Name] = p;
                    }
                    _moduleNameOf[t.Name] = moduleName;
                    break;
                }
                case TensorProto.Types.DataType.Int64:
                    _ints[t.Name] = Int64Data(t);
                    break;
                default:
                    throw new ModelFormatException($"ONNX initializer '{t.Name}' has data type {(TensorProto.Types.DataType)t.DataType}; only float and int64 can be imported.");
            }
        }
    }

    /// <summary>The tensor the module reads.</summary>
    public string InputName { get; }

    /// <summary>The tensor the module returns.</summary>
    public string OutputName { get; }

    /// <summary>Imported ops in graph order.</summary>
    public IReadOnlyList<string> OpTypes => _nodes.Select(n => n.OpType).ToList();

    /// <summary>ONNX initializer name → the current parameter/buffer tensor.</summary>
    public IReadOnlyDictionary<string, Tensor> Initializers => _floats;

    /// <summary>ONNX initializer name → its name in <c>state_dict()</c>.</summary>
    public IReadOnlyDictionary<string, string> StateNames => _moduleNameOf;

    private static string ModuleName(string onnxName, HashSet<string> taken)
    {
        var baseName = "w_" + string.Concat(onnxName.Select(c => char.IsLetterOrDigit(c) ? c : '_'));
        var name = baseName;
        for (var i = 2; !taken.Add(name); i++) name = $"{baseName}_{i}";
        return name;
    }

    internal static float[] FloatData(TensorProto t)
    {
        var count = (int)t.Dims.Aggregate(1L, (a, b) => a * b);
        if (t.FloatData.Count > 0) return t.FloatData.ToArray();
        var bytes = t.RawData.Span;
        if (bytes.Length != count * 4) throw new ModelFormatException($"ONNX initializer '{t.Name}': {bytes.Length} raw bytes for {count} floats (external data is not supported).");
        return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }

    private static long[] Int64Data(TensorProto t)
        => t.Int64Data.Count > 0 ? t.Int64Data.ToArray() : MemoryMarshal.Cast<byte, long>(t.RawData.Span).ToArray();

    /// <summary>Runs the imported nodes on <paramref name="x"/> (the value of <see cref="InputName"/>).</summary>
    public override Tensor forward(Tensor x)
    {
        var values = new Dictionary<string, Tensor>(StringComparer.Ordinal) { [InputName] = x };
        Tensor V(string name) => values.TryGetValue(name, out var v) ? v : _floats.TryGetValue(name, out var f) ? f
            : throw new ModelFormatException($"ONNX value '{name}' is not available (an int64 tensor used as data?).");
        // Explicit Scalars held for the whole pass: `a + b` is add(b, alpha) with an implicit temporary alpha Scalar that the
        // GC may finalise while libtorch still reads it (see TrainingOptimizer).
        using var one = 1f.ToScalar();
        using var zero = 0f.ToScalar();
        foreach (var node in _nodes)
        {
            var ins = node.Input;
            Tensor y = node.OpType switch
            {
                "Conv" => Conv(node, V(ins[0]), V(ins[1]), ins.Count > 2 && ins[2].Length > 0 ? V(ins[2]) : null),
                "PRelu" => PRelu(V(ins[0]), V(ins[1]), zero),
                "Relu" => nn.functional.relu(V(ins[0])),
                "Sigmoid" => V(ins[0]).sigmoid(),
                "Add" => V(ins[0]).add(V(ins[1]), one),
                "Sub" => V(ins[0]) - V(ins[1]),
                "Mul" => V(ins[0]) * V(ins[1]),
                "MatMul" => V(ins[0]).matmul(V(ins[1])),
                "Identity" => V(ins[0]).alias(),
                "Concat" => cat(ins.Select(V).ToArray(), Int(node, "axis", 0)),
                "BatchNormalization" => nn.functional.batch_norm(V(ins[0]), V(ins[3]), V(ins[4]), V(ins[1]), V(ins[2]), training,
                    1 - Float(node, "momentum", 0.9f), Float(node, "epsilon", 1e-5f)),
                "Pad" => Pad(node, V(ins[0])),
                "MaxPool" => MaxPool(node, V(ins[0])),
                "AveragePool" => AveragePool(node, V(ins[0])),
                "GlobalAveragePool" => V(ins[0]).mean([2, 3], keepdim: true),
                "Flatten" => Flatten(node, V(ins[0])),
                "Reshape" => Reshape(V(ins[0]), _ints.TryGetValue(ins[1], out var shape) ? shape
                    : throw new ModelFormatException($"Reshape '{node.Name}': the shape '{ins[1]}' must be an int64 initializer.")),
                "Gemm" => Gemm(node, V(ins[0]), V(ins[1]), ins.Count > 2 && ins[2].Length > 0 ? V(ins[2]) : null),
                _ => throw new ModelFormatException($"op {node.OpType} not supported"),
            };
            values[node.Output[0]] = y;
        }
        return values[OutputName];
    }

    private static AttributeProto? Attr(NodeProto n, string name) => n.Attribute.FirstOrDefault(a => a.Name == name);

    private static long Int(NodeProto n, string name, long fallback) => Attr(n, name) is { } a ? a.I : fallback;

    private static float Float(NodeProto n, string name, float fallback) => Attr(n, name) is { } a ? a.F : fallback;

    private static long[] Ints(NodeProto n, string name, long[] fallback) => Attr(n, name) is { } a ? a.Ints.ToArray() : fallback;

    private static void NoAutoPad(NodeProto n)
    {
        if (Attr(n, "auto_pad") is { } a && a.S.ToStringUtf8() is var s && s != "NOTSET" && s.Length > 0)
            throw new ModelFormatException($"{n.OpType} '{n.Name}': auto_pad {s} is not supported (explicit pads only).");
    }

    /// <summary>ONNX pads [b1, b2, e1, e2] → symmetric [p1, p2], or null when begin ≠ end.</summary>
    private static long[]? Symmetric(long[] pads) => pads.Length == 4 && pads[0] == pads[2] && pads[1] == pads[3] ? [pads[0], pads[1]] : null;

    private static Tensor Conv(NodeProto n, Tensor x, Tensor w, Tensor? b)
    {
        NoAutoPad(n);
        var pads = Ints(n, "pads", [0, 0, 0, 0]);
        var strides = Ints(n, "strides", [1, 1]);
        var dilations = Ints(n, "dilations", [1, 1]);
        var group = Int(n, "group", 1);
        if (w.dim() != 4) throw new ModelFormatException($"Conv '{n.Name}': only 2-D convolutions are supported.");
        if (Symmetric(pads) is { } p) return nn.functional.conv2d(x, w, b, strides, p, dilations, group);
        x = nn.functional.pad(x, [pads[1], pads[3], pads[0], pads[2]]);
        return nn.functional.conv2d(x, w, b, strides, [0, 0], dilations, group);
    }

    /// <summary>PRelu with ONNX's broadcasting of the slope (e.g. [C,1,1] against [N,C,H,W]).</summary>
    private static Tensor PRelu(Tensor x, Tensor slope, Scalar zero) => where(x.ge(zero), x, x * slope);

    private static Tensor Pad(NodeProto n, Tensor x)
    {
        var mode = Attr(n, "mode")?.S.ToStringUtf8() ?? "constant";
        if (mode != "constant") throw new ModelFormatException($"Pad '{n.Name}': mode {mode} is not supported (constant only).");
        if (n.Input.Count > 1) throw new ModelFormatException($"Pad '{n.Name}': pads as an input (opset ≥ 11) are not supported.");
        var pads = Ints(n, "pads", []);
        var value = Float(n, "value", 0f);
        var rank = pads.Length / 2;
        if (pads.All(p => p == 0)) return x.alias();
        // torch.pad lists (begin, end) from the last dimension backwards.
        var torchPads = new List<long>();
        for (var d = rank - 1; d >= 0; d--) { torchPads.Add(pads[d]); torchPads.Add(pads[rank + d]); }
        return nn.functional.pad(x, torchPads.ToArray(), PaddingModes.Constant, value);
    }

    private static Tensor MaxPool(NodeProto n, Tensor x)
    {
        NoAutoPad(n);
        var k = Ints(n, "kernel_shape", []);
        var s = Ints(n, "strides", [1, 1]);
        var pads = Ints(n, "pads", [0, 0, 0, 0]);
        var ceil = Int(n, "ceil_mode", 0) != 0;
        if (Symmetric(pads) is { } p) return nn.functional.max_pool2d(x, k, s, p, [1, 1], ceil);
        x = nn.functional.pad(x, [pads[1], pads[3], pads[0], pads[2]], PaddingModes.Constant, double.NegativeInfinity);
        return nn.functional.max_pool2d(x, k, s, [0, 0], [1, 1], ceil);
    }

    private static Tensor AveragePool(NodeProto n, Tensor x)
    {
        NoAutoPad(n);
        var k = Ints(n, "kernel_shape", []);
        var s = Ints(n, "strides", [1, 1]);
        var pads = Ints(n, "pads", [0, 0, 0, 0]);
        var ceil = Int(n, "ceil_mode", 0) != 0;
        var includePad = Int(n, "count_include_pad", 0) != 0;
        var p = Symmetric(pads) ?? throw new ModelFormatException($"AveragePool '{n.Name}': asymmetric pads are not supported.");
        return nn.functional.avg_pool2d(x, k, s, p, ceil, includePad);
    }

    private static Tensor Flatten(NodeProto n, Tensor x)
    {
        var axis = Int(n, "axis", 1);
        if (axis < 0) axis += x.dim();
        var outer = x.shape.Take((int)axis).Aggregate(1L, (a, b) => a * b);
        return x.reshape(outer, -1);
    }

    /// <summary>
    /// ONNX Reshape (0 copies the input's dimension). A shape whose batch is baked in as 1 (MobileFaceNet's final
    /// <c>[1, -1]</c>) keeps the input's batch instead, so the module trains on mini-batches; for one image it is the same.
    /// </summary>
    private static Tensor Reshape(Tensor x, long[] shape)
    {
        var s = shape.Select((d, i) => d == 0 ? x.shape[i] : d).ToArray();
        if (s.Length > 1 && s[0] == 1 && x.dim() > 0 && x.shape[0] != 1) s[0] = x.shape[0];
        return x.reshape(s);
    }

    private static Tensor Gemm(NodeProto n, Tensor a, Tensor b, Tensor? c)
    {
        if (Int(n, "transA", 0) != 0) a = a.t();
        if (Int(n, "transB", 0) != 0) b = b.t();
        var y = a.matmul(b);
        using var alpha = Float(n, "alpha", 1f).ToScalar();
        using var beta = Float(n, "beta", 1f).ToScalar();
        if (Float(n, "alpha", 1f) != 1f) y = y.mul(alpha);
        return c is null ? y : y.add(c, beta);
    }
}
