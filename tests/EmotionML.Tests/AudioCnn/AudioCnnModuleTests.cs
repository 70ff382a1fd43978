using Xunit;
using EmotionML.Tests.Fusion;
using EmotionML.Training.AudioCnn;
using Xunit.Abstractions;
using static TorchSharp.torch;
using Cnn = EmotionML.Training.AudioCnn.AudioCnnNetwork;

namespace EmotionML.Tests.AudioCnn;

public sealed class AudioCnnModuleTests(ITestOutputHelper output) : TorchTestBase
{
    [Fact]
    public void FeatureMapAndSetShapes()
    {
        using var scope = NewDisposeScope();
        var cnn = new Cnn();
        output.WriteLine($"audio CNN parameters: {cnn.ParameterCount}");
        Assert.InRange(cnn.ParameterCount, 1_000_000, 3_000_000);
        Assert.Equal((8, 5), Cnn.FeatureMapSize(300, 200));
        cnn.eval();
        var x = randn(2, 1, 300, 200);
        var map = cnn.Features(x);
        Assert.Equal([2L, 128L, 8L, 5L], map.shape);
        var set = Cnn.ToSet(map);
        Assert.Equal([2L, 40L, 128L], set.shape);
        // position n = h·W + w holds the channel vector at (h, w)
        Assert.Equal(F(map[1, .., 3, 2]), F(set[1, 3 * 5 + 2]));
        Assert.Equal([2L, 8L], cnn.forward(x).shape);
    }

    [Fact]
    public void SmallerChannelsAndNoBatchNorm()
    {
        using var scope = NewDisposeScope();
        var cnn = new Cnn(new AudioCnnOptions { Channels = [8, 8, 8, 8, 16], BatchNorm = false, Classes = 3 });
        Assert.Empty(cnn.BatchNorms);
        Assert.Equal([1L, 16L, 3L, 2L], cnn.Features(randn(1, 1, 150, 120)).shape);
        Assert.Equal((3, 2), Cnn.FeatureMapSize(150, 120));
        Assert.Throws<ArgumentException>(() => Cnn.FeatureMapSize(20, 200));
        Assert.Throws<ArgumentException>(() => new Cnn(new AudioCnnOptions { Channels = [1, 2] }));
    }
}
