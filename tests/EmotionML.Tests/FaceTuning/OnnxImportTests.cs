using EmotionML.FaceFeatures;
using EmotionML.Training.FaceTuning;
using EmotionML.Training.Onnx;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using Xunit;
using static TorchSharp.torch;

namespace EmotionML.Tests.FaceTuning;

/// <summary>
/// The ONNX → TorchSharp import against ONNX Runtime on a real FER2013 image: whole graphs (MobileFaceNet, DenseNet-121),
/// the truncated graphs the CPU recipe uses (ONNX Runtime prefix + TorchSharp suffix), and the write-back of changed weights.
/// </summary>
public sealed class OnnxImportTests : Fusion.TorchTestBase
{
    internal static float[] FerInput(FaceBackbone b, int copy = 0)
    {
        var (rgb, w, h) = FerImages.Decode(TestData.Fer("PublicTest/happy/PublicTest_10130075.jpg"));
        var chw = new float[b.InputLength];
        FerImages.Preprocess(b, rgb, w, h, FerCopy.Of(copy, 0, 1), chw);
        return chw;
    }

    /// <summary>ONNX Runtime's value of <paramref name="output"/> (a graph output or a hidden tensor) for one input.</summary>
    internal static float[] Ort(byte[] model, string inputName, float[] input, long[] shape, string output)
    {
        var m = ModelProto.Parser.ParseFrom(model);
        if (m.Graph.Output.All(o => o.Name != output)) m.Graph.Output.Add(new ValueInfoProto { Name = output });
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(m), options);
        using var x = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var runOptions = new RunOptions();
        using var r = session.Run(runOptions, [inputName], [x], [output]);
        return r[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private static float[] Torch(OnnxTorchModule module, float[] input, long[] shape)
    {
        using var _ = no_grad();
        module.eval();
        using var y = module.forward(tensor(input, shape));
        return y.contiguous().data<float>().ToArray();
    }

    internal static void Close(float[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = Math.Max(1, expected.Max(Math.Abs));
        var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst <= tolerance * scale, $"max |ONNX Runtime − TorchSharp| = {worst:G3} (scale {scale:G3}, tolerance {tolerance * scale:G3})");
    }

    [Fact]
    public void MobileFaceNetImportEqualsOnnxRuntime()
    {
        var b = FaceBackbone.Of(FaceBackboneKind.MobileFaceNet);
        var bytes = File.ReadAllBytes(b.Model.Resolve());
        var graph = ModelProto.Parser.ParseFrom(bytes).Graph;
        var x = FerInput(b);
        long[] shape = [1, 3, 112, 112];
        var whole = new OnnxTorchModule(graph, "input", "output");
        Assert.Equal(["Add", "Conv", "PRelu", "Reshape"], whole.OpTypes.Distinct().Order(StringComparer.Ordinal).ToArray());
        var expected = Ort(bytes, "input", x, shape, "output");
        Close(expected, Torch(whole, x, shape), 1e-4);

        // The truncated graph of the recipe: ONNX Runtime up to the cut, TorchSharp from the cut.
        var cut = FaceBackboneTrainer.DefaultCut(FaceBackboneKind.MobileFaceNet);
        var prefix = OnnxGraphSlicer.Prefix(bytes, cut);
        var activation = Ort(prefix, "input", x, shape, cut);
        Close(Ort(bytes, "input", x, shape, cut), activation, 1e-6);
        var suffix = new OnnxTorchModule(graph, cut, "output");
        Assert.True(suffix.OpTypes.Count < whole.OpTypes.Count / 3);
        Close(expected, Torch(suffix, activation, [1, 128, 7, 7]), 1e-4);
    }

    [Fact]
    public void DenseNetImportEqualsOnnxRuntime()
    {
        var b = FaceBackbone.Of(FaceBackboneKind.FerDenseNet121);
        var bytes = File.ReadAllBytes(b.Model.Resolve());
        var graph = ModelProto.Parser.ParseFrom(bytes).Graph;
        var x = FerInput(b);
        long[] shape = [1, 3, 224, 224];
        var whole = new OnnxTorchModule(graph, "input", "output");
        foreach (var op in new[] { "Conv", "BatchNormalization", "Relu", "Concat", "Pad", "AveragePool", "MaxPool", "GlobalAveragePool", "Flatten", "Gemm" })
            Assert.Contains(op, whole.OpTypes);
        Close(Ort(bytes, "input", x, shape, "output"), Torch(whole, x, shape), 1e-4);

        var cut = FaceBackboneTrainer.DefaultCut(FaceBackboneKind.FerDenseNet121);
        var activation = Ort(OnnxGraphSlicer.Prefix(bytes, cut), "input", x, shape, cut);
        var suffix = new OnnxTorchModule(graph, cut, "1160");
        Close(Ort(bytes, "input", x, shape, "1160"), Torch(suffix, activation, [1, 512, 7, 7]), 1e-4);
    }

    [Fact]
    public void WrittenBackWeightsRunOnOnnxRuntimeAsInTorchSharp()
    {
        var b = FaceBackbone.Of(FaceBackboneKind.MobileFaceNet);
        var bytes = File.ReadAllBytes(b.Model.Resolve());
        var graph = ModelProto.Parser.ParseFrom(bytes).Graph;
        var cut = FaceBackboneTrainer.DefaultCut(FaceBackboneKind.MobileFaceNet);
        var suffix = new OnnxTorchModule(graph, cut, "output");
        var head = new FaceEmotionHead(512, 7, 0.3);
        var net = new FaceBackboneNetwork(suffix, head);
        // Change every trainable weight and the head's batch-norm statistics (as training would).
        using (no_grad())
        {
            foreach (var p in net.parameters()) p.add_(randn_like(p) * 0.05);
            net.train();
            net.forward(randn(16, 128, 7, 7));
        }
        var x = FerInput(b, copy: 2);
        var activation = Ort(OnnxGraphSlicer.Prefix(bytes, cut), "input", x, [1, 3, 112, 112], cut);
        Assert.NotEqual(Ort(bytes, "input", x, [1, 3, 112, 112], "output"), Torch(suffix, activation, [1, 128, 7, 7]));
        var (w, bias) = head.Folded();
        var written = OnnxWriteBack.Write(bytes, [suffix], new AppendedClassifier("output", FaceBackboneTrainer.LogitsOutput, w, bias),
            new Dictionary<string, string> { [OnnxWriteBack.BaseShaKey] = b.Model.Sha256 });
        Close(Torch(suffix, activation, [1, 128, 7, 7]), Ort(written, "input", x, [1, 3, 112, 112], "output"), 1e-4);
        float[] logits;
        using (no_grad())
        {
            net.eval();
            logits = net.forward(tensor(activation, [1, 128, 7, 7])).data<float>().ToArray();
        }
        Close(logits, Ort(written, "input", x, [1, 3, 112, 112], FaceBackboneTrainer.LogitsOutput), 1e-4);

        // The face stage accepts the written file (its own sha256 goes into the feature-cache key) and names what it refuses.
        Assert.NotNull(FineTunedBackbone.Check(written, b, "fine-tuned.onnx"));
        Assert.Null(FineTunedBackbone.Check(bytes, b, "shipped.onnx"));
        var stripped = ModelProto.Parser.ParseFrom(written);
        stripped.MetadataProps.Clear();
        var e = Assert.Throws<ModelFileException>(() => FineTunedBackbone.Check(Google.Protobuf.MessageExtensions.ToByteArray(stripped), b, "other.onnx"));
        Assert.Contains("a fine-tuned file must carry metadata emotionml.base_sha256=" + b.Model.Sha256 + " (it has none)", e.Message);
    }

    [Fact]
    public void AnUnsupportedOpIsRefusedByName()
    {
        var g = new OnnxGraphBuilder("t");
        var x = g.Input("x", 1, 4);
        g.Output("y", g.Softmax(g.Tanh(x), 1), 1, 4);
        var graph = g.Build().Graph;
        var e = Assert.Throws<ModelFormatException>(() => new OnnxTorchModule(graph, "x", "y"));
        Assert.StartsWith("ONNX graph 't': op(s) Tanh, Softmax cannot be imported into TorchSharp", e.Message);
    }
}
