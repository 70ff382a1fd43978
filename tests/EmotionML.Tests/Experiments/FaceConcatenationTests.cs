using EmotionML.Cli.Commands;
using EmotionML.Experiments;
using EmotionML.FaceFeatures;
using Xunit;

namespace EmotionML.Tests.Experiments;

/// <summary>Several backbones' frame features joined into one face feature (the speaker-adaptation probe's input).</summary>
public sealed class FaceConcatenationTests
{
    [Fact]
    public void FramesAreJoinedFrameByFrameInTheOrderNamed()
    {
        var clips = new[] { new ClipRecord("a.mp4", "happy", "01"), new ClipRecord("b.mp4", "sad", "02") };
        var set = new FusionFeatureSet { Clips = clips, Frames = 2, FrameMask = [[1, 1], [1, 0]] };
        // Variant A: D = 2; variant B: D = 1. Values name clip, frame and index so that a wrong copy shows.
        set.Face["A"] = ([[100, 101, 110, 111], [200, 201, 210, 211]], 2);
        set.Face["B"] = ([[-10, -11], [-20, -21]], 1);
        set.ConcatenateFace("A+B", ["A", "B"]);
        var (values, dim) = set.Face["A+B"];
        Assert.Equal(3, dim);
        Assert.Equal([100f, 101, -10, 110, 111, -11], values[0]);
        Assert.Equal([200f, 201, -20, 210, 211, -21], values[1]);
        set.ConcatenateFace("B+A", ["B", "A"]);
        Assert.Equal([-10f, 100, 101, -11, 110, 111], set.Face["B+A"].Values[0]);
    }

    [Fact]
    public void AMissingVariantIsNamed()
    {
        var set = new FusionFeatureSet { Clips = [new ClipRecord("a.mp4", "happy", "01")], Frames = 1, FrameMask = [[1]] };
        set.Face["A"] = ([[1f]], 1);
        var e = Assert.Throws<ArgumentException>(() => set.ConcatenateFace("x", ["A", "C"]));
        Assert.Contains("'C'", e.Message);
        Assert.Throws<ArgumentException>(() => set.ConcatenateFace("x", ["A"]));
    }

    [Fact]
    public void ExtraBackbonesParseTheirCliNames()
    {
        Assert.Equal([FaceBackboneKind.FerDenseNet121, FaceBackboneKind.MobileFaceNet, FaceBackboneKind.MiniXception],
            EvaluateCommand.ParseBackbones("densenet121, mobilefacenet,MiniXception"));
        Assert.Empty(EvaluateCommand.ParseBackbones(null));
        var e = Assert.Throws<InvalidInputException>(() => EvaluateCommand.ParseBackbones("mobilefacenet,resnet"));
        Assert.Contains("resnet", e.Message);
        Assert.Throws<InvalidInputException>(() => EvaluateCommand.ParseBackbones("7"));
    }
}
