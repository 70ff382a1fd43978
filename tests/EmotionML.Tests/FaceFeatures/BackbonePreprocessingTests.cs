using EmotionML.FaceFeatures;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace EmotionML.Tests.FaceFeatures;

/// <summary>The fast preprocessing of <see cref="BackboneRunner"/> against the plain reference (<see cref="FaceBackbone.Normalise"/>) and a bare session.</summary>
public sealed class BackbonePreprocessingTests
{
    private const int CropBytes = 224 * 224 * 3;

    private sealed class Row
    {
        public byte[] FaceCrops { get; set; } = [];
        public float[] FrameMask { get; set; } = [];
    }

    [Fact]
    public void TableNormalisationGivesTheReferenceBitForBit()
    {
        foreach (var kind in Enum.GetValues<FaceBackboneKind>())
        {
            var b = FaceBackbone.Of(kind);
            var rgb = new byte[b.InputSize * b.InputSize * 3];
            new Random(3).NextBytes(rgb);
            for (var i = 0; i < 768 && i < rgb.Length; i++) rgb[i] = (byte)(i % 256); // every byte value in every channel
            var expected = new float[b.InputLength];
            b.Normalise(rgb, expected);
            var actual = new float[b.InputLength];
            BackboneRunner.Normalise(b, BackboneRunner.NormaliseTable(b), rgb, actual);
            Assert.Equal(expected, actual);
            Assert.Throws<ArgumentException>(() => BackboneRunner.Normalise(b, BackboneRunner.NormaliseTable(b), rgb.AsSpan(1), actual));
        }
    }

    [Theory]
    [InlineData(FaceBackboneKind.FerDenseNet121)]
    [InlineData(FaceBackboneKind.MiniXception)]
    [InlineData(FaceBackboneKind.MobileFaceNet)]
    public void TransformFeaturesEqualABareSessionOnReferencePreprocessing(FaceBackboneKind kind)
    {
        const int frames = 3;
        var crops = new byte[(frames + 1) * CropBytes];
        new Random(11).NextBytes(crops);
        float[] mask = [1, 0, 1, 1]; // frame 1 is padding: its row stays zero
        var ml = new MLContext(1);
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.FaceCrops)].ColumnType = new VectorDataViewType(NumberDataViewType.Byte, frames + 1, 224, 224, 3);
        schema[nameof(Row.FrameMask)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, frames + 1);
        var data = ml.Data.LoadFromEnumerable([new Row { FaceCrops = crops, FrameMask = mask }], schema);
        var execution = new OnnxExecutionOptions { IntraOpThreads = 1 };
        using var transformer = ml.Transforms.ExtractFaceFeatures(new FaceFeatureOptions { Backbone = kind, Execution = execution }).Fit(data);
        var features = transformer.Transform(data).GetColumn<float[]>("FaceFeatures").Single();

        // Reference: the crop geometry by ImageWarp, the plain per-pixel normalisation, one bare session run of the 3 frames.
        var b = FaceBackbone.Of(kind);
        var bytes = File.ReadAllBytes(b.Model.Resolve());
        var input = new float[frames * b.InputLength];
        var rgb = new byte[b.InputSize * b.InputSize * 3];
        int[] real = [0, 2, 3];
        for (var i = 0; i < frames; i++)
        {
            var crop = crops.AsSpan(real[i] * CropBytes, CropBytes);
            if (b.InputSize == 224) crop.CopyTo(rgb);
            else EmotionML.FaceAlignment.ImageWarp.Warp(crop, 224, 224, rgb, b.InputSize, b.InputSize, b.CropToInput());
            b.Normalise(rgb, input.AsSpan(i * b.InputLength, b.InputLength));
        }
        using var session = new InferenceSession(b.PrepareGraph(bytes, symbolicBatch: true), new SessionOptions { IntraOpNumThreads = 1 });
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(b.InputName, new DenseTensor<float>(input, [frames, b.Channels, b.InputSize, b.InputSize]))]);
        var bare = results.First(r => r.Name == FaceBackbone.PreparedFeatureOutput).AsEnumerable<float>().ToArray();

        var d = b.FeatureDim;
        Assert.Equal((frames + 1) * d, features.Length);
        Assert.All(features.AsSpan(d, d).ToArray(), v => Assert.Equal(0f, v));
        double worst = 0, scale = 1e-6;
        for (var i = 0; i < frames; i++)
            for (var j = 0; j < d; j++)
            {
                var expected = bare[i * d + j];
                worst = Math.Max(worst, Math.Abs(expected - features[real[i] * d + j]));
                scale = Math.Max(scale, Math.Abs(expected));
            }
        Assert.True(worst <= 1e-5 * scale, $"{kind}: max |transform − bare| {worst:G3} (max |value| {scale:G3})");
        Assert.Contains(bare, v => v != 0);
    }
}
