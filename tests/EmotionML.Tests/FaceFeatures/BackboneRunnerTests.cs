using EmotionML.FaceFeatures;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using Xunit;

namespace EmotionML.Tests.FaceFeatures;

/// <summary>When <see cref="BackboneRunner"/> may leave batched runs: only for a graph whose batch size is baked in, and it says so.</summary>
public sealed class BackboneRunnerTests
{
    /// <summary>A 1×1×2×2 "backbone" whose feature is its input reshaped to <paramref name="shape"/> (a constant, so the batch is baked in).</summary>
    private static byte[] ReshapeGraph(long[] shape)
    {
        static ValueInfoProto Info(string name, params long[] dims)
        {
            var tensor = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = new TensorShapeProto() };
            foreach (var d in dims) tensor.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
            return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
        }
        var graph = new GraphProto { Name = "reshape" };
        graph.Input.Add(Info("input", 1, 1, 2, 2));
        graph.Output.Add(Info("feat", shape));
        var constant = new TensorProto { Name = "shape", DataType = (int)TensorProto.Types.DataType.Int64 };
        constant.Dims.Add(shape.Length);
        constant.Int64Data.AddRange(shape);
        graph.Initializer.Add(constant);
        graph.Node.Add(new NodeProto { Name = "r", OpType = "Reshape", Input = { "input", "shape" }, Output = { "feat" } });
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model.ToByteArray();
    }

    private static FaceBackbone Descriptor(int featureDim) => new(FaceBackboneKind.MiniXception, new KnownModel("test graph", "none.onnx", ""), "input", 2,
        PixelFormat.Gray, 0f, 1f, "feat", featureDim, GlobalAveragePool: false, CropFraction: 1.0, LogitsTensor: null);

    [Fact]
    public void AGraphWithABakedInBatchFallsBackToOneImageAtATimeAndSaysSo()
    {
        var warnings = new List<string>();
        using var runner = new BackboneRunner(Descriptor(4), ReshapeGraph([1, 4]), null) { Warning = warnings.Add };
        var input = Enumerable.Range(0, 12).Select(i => (float)i).ToArray(); // three images of 4 values
        var (features, _) = runner.Run(input, 3);
        Assert.Equal(input, features); // each image's feature is its own 4 values
        Assert.False(runner.Batched);
        var warning = Assert.Single(warnings);
        Assert.Contains("a batch of 3 images failed", warning);
        Assert.Contains("one at a time", warning);
        // Stays per-image, without warning again.
        Assert.Equal(input[..8], runner.Run(input[..8], 2).Features);
        Assert.Single(warnings);
    }

    [Fact]
    public void AnErrorAtEveryBatchSizePropagatesAndTheRunnerStaysBatched()
    {
        var warnings = new List<string>();
        using var runner = new BackboneRunner(Descriptor(5), ReshapeGraph([1, 5]), null) { Warning = warnings.Add }; // 4 values never reshape to 5
        var input = new float[12];
        Assert.Throws<OnnxRuntimeException>(() => runner.Run(input, 3));
        Assert.True(runner.Batched, "a real error must not switch the runner to per-image runs");
        Assert.Empty(warnings);
        Assert.Throws<OnnxRuntimeException>(() => runner.Run(input, 3));
        Assert.True(runner.Batched);
    }

    [Fact]
    public void ARealBackboneRunsAllImagesInOneBatch()
    {
        var b = FaceBackbone.Of(FaceBackboneKind.MiniXception);
        var warnings = new List<string>();
        using var runner = new BackboneRunner(b, File.ReadAllBytes(b.Model.Resolve()), null) { Warning = warnings.Add };
        var rng = new Random(3);
        var input = Enumerable.Range(0, 3 * b.InputLength).Select(_ => (float)rng.NextDouble()).ToArray();
        var batched = runner.Run(input, 3).Features;
        Assert.True(runner.Batched);
        Assert.Empty(warnings);
        // The same as one image at a time.
        for (var i = 0; i < 3; i++)
        {
            var one = runner.Run(input[(i * b.InputLength)..((i + 1) * b.InputLength)], 1).Features;
            for (var k = 0; k < b.FeatureDim; k++) Assert.Equal(one[k], batched[i * b.FeatureDim + k], 1e-4f);
        }
    }

    [Fact]
    public void CopiesOfSeveralFramesInOneRunGiveEachFramesOwnFMean()
    {
        // mini-Xception: two frames' 18 copies per run (36 images of 64² fit in one 224² image's input); five real frames
        // of seven → runs of 2, 2 and 1 frames.
        const int frames = 7, crop = 224 * 224 * 3;
        var options = new FaceFeatureOptions { Backbone = FaceBackboneKind.MiniXception, Enhancement = FeatureEnhancement.FMeanStd };
        var b = FaceBackbone.Of(options.Backbone);
        var model = File.ReadAllBytes(b.Model.Resolve());
        using var extractor = new FaceFeatureExtractor(options, model, null);
        Assert.Equal(2, FaceFeatureExtractor.FramesPerRun(extractor.Primary, 18));
        var rng = new Random(9);
        var crops = new byte[frames * crop];
        rng.NextBytes(crops);
        float[] mask = [1, 1, 0, 1, 1, 1, 0];
        var clip = extractor.ComputeClip(crops, mask);
        var d = 2 * b.FeatureDim;
        var copies = options.Copies();
        for (var f = 0; f < frames; f++)
        {
            var row = clip.AsSpan(f * d, d).ToArray();
            if (mask[f] == 0) { Assert.All(row, v => Assert.Equal(0, v)); continue; }
            var one = FaceFeatureExtractor.CopyFeatures(extractor.Primary, crops.AsSpan(f * crop, crop), copies);
            var mean = new float[b.FeatureDim]; var std = new float[b.FeatureDim];
            Enhancement.MeanStd(one, copies.Length, b.FeatureDim, mean, std);
            for (var k = 0; k < b.FeatureDim; k++)
            {
                Assert.Equal(mean[k], row[k], 1e-4f);
                Assert.Equal(std[k], row[b.FeatureDim + k], 1e-4f);
            }
        }
    }
}
