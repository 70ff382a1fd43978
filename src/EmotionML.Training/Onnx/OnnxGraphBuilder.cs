using Google.Protobuf;
using Onnx;

namespace EmotionML.Training.Onnx;

/// <summary>
/// A small writer of ONNX graphs (opset 17, float tensors) on OnnxSharp's protobuf classes. Each node method adds one node
/// and returns the name of its (first) output, so graphs read like expressions:
/// <c>var y = g.Add(g.MatMul(x, g.Initializer("w", w, 4, 3)), g.Initializer("b", b, 3));</c>
/// </summary>
public sealed class OnnxGraphBuilder
{
    /// <summary>The opset version the graphs are written for.</summary>
    public const int Opset = 17;

    private readonly GraphProto _graph;
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private int _counter;

    /// <summary>Creates an empty graph with the given name.</summary>
    public OnnxGraphBuilder(string graphName)
    {
        _graph = new GraphProto { Name = graphName };
    }

    /// <summary>A fresh value name starting with <paramref name="prefix"/>.</summary>
    public string Fresh(string prefix) => Claim(Unused(prefix));

    private string Unused(string prefix)
    {
        string name;
        do { name = $"{prefix}_{_counter++}"; } while (_names.Contains(name));
        return name;
    }

    private string Claim(string name)
    {
        if (!_names.Add(name)) throw new ArgumentException($"The ONNX value name '{name}' is already used.", nameof(name));
        return name;
    }

    /// <summary>Declares a float graph input. A dimension is a number, or a string for a symbolic dimension.</summary>
    public string Input(string name, params object[] dims)
    {
        _graph.Input.Add(ValueInfo(Claim(name), dims));
        return name;
    }

    /// <summary>Declares <paramref name="value"/> a float graph output named <paramref name="name"/> (adds an Identity when the names differ).</summary>
    public string Output(string name, string value, params object[] dims)
    {
        if (name != value) Node("Identity", [value], [Claim(name)]);
        _graph.Output.Add(ValueInfo(name, dims));
        return name;
    }

    private static ValueInfoProto ValueInfo(string name, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            var dim = new TensorShapeProto.Types.Dimension();
            switch (d)
            {
                case string s: dim.DimParam = s; break;
                case int i: dim.DimValue = i; break;
                case long l: dim.DimValue = l; break;
                default: throw new ArgumentException($"A dimension must be a number or a name, not {d?.GetType().Name ?? "null"}.");
            }
            shape.Dim.Add(dim);
        }
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    /// <summary>Adds a float initializer of shape <paramref name="dims"/> (row-major data).</summary>
    public string Initializer(string name, ReadOnlySpan<float> data, params long[] dims)
    {
        long count = 1;
        foreach (var d in dims) count *= d;
        if (count != data.Length) throw new ArgumentException($"Initializer '{name}': {data.Length} values for shape [{string.Join(",", dims)}].");
        var t = new TensorProto { Name = Claim(name), DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        var bytes = new byte[data.Length * sizeof(float)];
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(data).CopyTo(bytes);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw data is little-endian.");
        t.RawData = ByteString.CopyFrom(bytes);
        _graph.Initializer.Add(t);
        return name;
    }

    /// <summary>Adds a float scalar initializer (shape []).</summary>
    public string Scalar(float value, string prefix = "c") => Initializer(Unused(prefix), [value]);

    /// <summary>Adds an int64 initializer of shape [values.Length] (shapes, axes).</summary>
    public string Int64s(params long[] values)
    {
        var t = new TensorProto { Name = Fresh("i64"), DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.Add(values.Length);
        t.Int64Data.AddRange(values);
        _graph.Initializer.Add(t);
        return t.Name;
    }

    /// <summary>Adds a node. Attribute values: int/long, float, string, long[]/int[], float[].</summary>
    public string[] Node(string opType, string[] inputs, string[] outputs, params (string Name, object Value)[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = Fresh(opType) };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        foreach (var (n, v) in attributes) node.Attribute.Add(Attribute(n, v));
        _graph.Node.Add(node);
        return outputs;
    }

    /// <summary>Adds a one-output node and returns its output's name.</summary>
    public string Op(string opType, string[] inputs, params (string Name, object Value)[] attributes)
        => Node(opType, inputs, [Fresh(opType.ToLowerInvariant())], attributes)[0];

    private static AttributeProto Attribute(string name, object value)
    {
        var a = new AttributeProto { Name = name };
        switch (value)
        {
            case int i: a.Type = AttributeProto.Types.AttributeType.Int; a.I = i; break;
            case long l: a.Type = AttributeProto.Types.AttributeType.Int; a.I = l; break;
            case float f: a.Type = AttributeProto.Types.AttributeType.Float; a.F = f; break;
            case double d: a.Type = AttributeProto.Types.AttributeType.Float; a.F = (float)d; break;
            case string s: a.Type = AttributeProto.Types.AttributeType.String; a.S = ByteString.CopyFromUtf8(s); break;
            case long[] ls: a.Type = AttributeProto.Types.AttributeType.Ints; a.Ints.AddRange(ls); break;
            case int[] ins: a.Type = AttributeProto.Types.AttributeType.Ints; a.Ints.AddRange(ins.Select(x => (long)x)); break;
            case float[] fs: a.Type = AttributeProto.Types.AttributeType.Floats; a.Floats.AddRange(fs); break;
            default: throw new ArgumentException($"Unsupported attribute type for '{name}': {value?.GetType().Name ?? "null"}.");
        }
        return a;
    }

    // ---- element-wise and matrix ops ----
    /// <summary>Matrix product (numpy broadcasting).</summary>
    public string MatMul(string a, string b) => Op("MatMul", [a, b]);
    /// <summary>General matrix multiply <c>alpha·A·op(B) + beta·C</c> on 2-D tensors.</summary>
    public string Gemm(string a, string b, string? c = null, bool transB = false)
        => Op("Gemm", c is null ? [a, b] : [a, b, c], ("transB", transB ? 1 : 0));
    /// <summary>Element-wise sum (broadcasting).</summary>
    public string Add(string a, string b) => Op("Add", [a, b]);
    /// <summary>Element-wise difference (broadcasting).</summary>
    public string Sub(string a, string b) => Op("Sub", [a, b]);
    /// <summary>Element-wise product (broadcasting).</summary>
    public string Mul(string a, string b) => Op("Mul", [a, b]);
    /// <summary>Element-wise quotient (broadcasting).</summary>
    public string Div(string a, string b) => Op("Div", [a, b]);
    /// <summary>Element-wise maximum (broadcasting).</summary>
    public string Max(string a, string b) => Op("Max", [a, b]);
    /// <summary>Logistic sigmoid.</summary>
    public string Sigmoid(string x) => Op("Sigmoid", [x]);
    /// <summary>Hyperbolic tangent.</summary>
    public string Tanh(string x) => Op("Tanh", [x]);
    /// <summary>Exponential.</summary>
    public string Exp(string x) => Op("Exp", [x]);
    /// <summary>Rectified linear unit.</summary>
    public string Relu(string x) => Op("Relu", [x]);
    /// <summary>Square root.</summary>
    public string Sqrt(string x) => Op("Sqrt", [x]);
    /// <summary>Absolute value.</summary>
    public string Abs(string x) => Op("Abs", [x]);
    /// <summary>Sign (−1, 0, 1).</summary>
    public string Sign(string x) => Op("Sign", [x]);
    /// <summary><c>a &gt; b</c> as a bool tensor.</summary>
    public string Greater(string a, string b) => Op("Greater", [a, b]);
    /// <summary>Element-wise <c>cond ? x : y</c>.</summary>
    public string Where(string cond, string x, string y) => Op("Where", [cond, x, y]);
    /// <summary>Softmax along one axis.</summary>
    public string Softmax(string x, int axis) => Op("Softmax", [x], ("axis", axis));
    /// <summary>Lp-normalisation along one axis (no epsilon: a zero vector gives NaN; prefer <see cref="L2Normalize"/>).</summary>
    public string LpNormalization(string x, int axis, int p = 2) => Op("LpNormalization", [x], ("axis", axis), ("p", p));

    // ---- reductions and shapes ----
    /// <summary>Sum over <paramref name="axes"/> (axes as an input, opset ≥ 13).</summary>
    public string ReduceSum(string x, long[] axes, bool keepDims) => Op("ReduceSum", [x, Int64s(axes)], ("keepdims", keepDims ? 1 : 0));
    /// <summary>Sum of squares over <paramref name="axes"/> (axes as an attribute in opset 17).</summary>
    public string ReduceSumSquare(string x, long[] axes, bool keepDims) => Op("ReduceSumSquare", [x], ("axes", axes), ("keepdims", keepDims ? 1 : 0));
    /// <summary>Maximum over <paramref name="axes"/> (axes as an attribute in opset 17).</summary>
    public string ReduceMax(string x, long[] axes, bool keepDims) => Op("ReduceMax", [x], ("axes", axes), ("keepdims", keepDims ? 1 : 0));
    /// <summary>Concatenation along one axis.</summary>
    public string Concat(int axis, params string[] xs) => Op("Concat", xs, ("axis", axis));
    /// <summary>Reshape; 0 copies the input's dimension, −1 infers one dimension.</summary>
    public string Reshape(string x, params long[] shape) => Op("Reshape", [x, Int64s(shape)]);
    /// <summary>Permutes dimensions.</summary>
    public string Transpose(string x, params long[] perm) => Op("Transpose", [x], ("perm", perm));
    /// <summary>Inserts size-1 dimensions (axes as an input, opset ≥ 13).</summary>
    public string Unsqueeze(string x, params long[] axes) => Op("Unsqueeze", [x, Int64s(axes)]);

    // ---- convolution ----
    /// <summary>2-D convolution (NCHW; weight [Cout, Cin, kH, kW]).</summary>
    public string Conv(string x, string w, string? b, long[] kernel, long[] strides, long[] pads)
        => Op("Conv", b is null ? [x, w] : [x, w, b], ("kernel_shape", kernel), ("strides", strides), ("pads", pads));
    /// <summary>2-D max pooling (NCHW; floor mode).</summary>
    public string MaxPool(string x, long[] kernel, long[] strides, long[] pads)
        => Op("MaxPool", [x], ("kernel_shape", kernel), ("strides", strides), ("pads", pads));
    /// <summary>Global average pooling over the spatial dimensions.</summary>
    public string GlobalAveragePool(string x) => Op("GlobalAveragePool", [x]);

    // ---- composites ----
    /// <summary><c>x / max(‖x‖₂, eps)</c> along <paramref name="axis"/> (as torch.nn.functional.normalize).</summary>
    public string L2Normalize(string x, int axis, float eps = 1e-12f)
        => Div(x, Max(Sqrt(ReduceSumSquare(x, [axis], keepDims: true)), Scalar(eps, "eps")));

    /// <summary>The finished model (IR version 8, default-domain opset <see cref="Opset"/>).</summary>
    public ModelProto Build(string producer = "EmotionML")
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = producer, Graph = _graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model;
    }

    /// <summary>The finished model as ONNX protobuf bytes.</summary>
    public byte[] ToBytes(string producer = "EmotionML") => Build(producer).ToByteArray();
}
