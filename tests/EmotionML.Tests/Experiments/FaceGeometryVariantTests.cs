using EmotionML.Experiments;
using EmotionML.FaceFeatures;
using EmotionML.FaceGeometry;
using EmotionML.VideoInput;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace EmotionML.Tests.Experiments;

/// <summary>The landmark geometry as a face variant of the experiments (<c>evaluate --geometry</c>).</summary>
public sealed class FaceGeometryVariantTests
{
    private sealed class Clip { public string VideoPath { get; set; } = ""; }

    [Fact]
    public void GeometryIsComputedLikeTheStageAndJoinedToTheMainFeatureFrameByFrame()
    {
        var files = new[] { "01-01-01_01.mp4", "02-02-01_01.mp4" };
        var clips = files.Select(f => new ClipRecord(TestData.Javanese(f), "x", f[..2])).ToList();
        var set = new FusionFeatureSet { Clips = clips, Frames = 2, FrameMask = new float[2][] };
        var backbone = new FaceVariant("basic-minixception", new FaceFeatureOptions { Backbone = FaceBackboneKind.MiniXception });
        FusionExperiment.AddFaceFeatures(new MLContext(0), set, [backbone, FaceVariant.Geometry]);
        var (geometry, dim) = set.Face["geometry"];
        Assert.Equal(FaceGeometryMeasures.Count, dim);

        // Reference: the stage itself on the same clips.
        var ml = new MLContext(0);
        var data = ml.Data.LoadFromEnumerable(clips.Select(c => new Clip { VideoPath = c.Path }));
        var direct = ml.Transforms.LoadVideo(new VideoInputOptions { FrameCount = 2, DecodeAudio = false }).Append(ml.Transforms.AlignFaces(2)).Append(ml.Transforms.ExtractFaceGeometry())
            .Fit(data).Transform(data).GetColumn<float[]>("FaceGeometry").ToArray();
        Assert.Equal(direct, geometry);
        Assert.Contains(geometry, g => g.Any(v => v != 0));

        set.ConcatenateFace("basic-minixception+geometry", ["basic-minixception", "geometry"]);
        var (joined, joinedDim) = set.Face["basic-minixception+geometry"];
        Assert.Equal(128 + FaceGeometryMeasures.Count, joinedDim);
        Assert.Equal(geometry[1].AsSpan(FaceGeometryMeasures.Count, FaceGeometryMeasures.Count).ToArray(),
            joined[1].AsSpan(joinedDim + 128, FaceGeometryMeasures.Count).ToArray());
    }

    [Fact]
    public void TheMainVariantNamesTheGeometryAndItIsComputedAfterTheBackbones()
    {
        var o = new ExperimentSuiteOptions { FaceGeometry = FaceGeometryUse.Joined };
        Assert.Equal("basic-densenet+geometry", ExperimentSuite.MainVariant(o));
        var (computed, _) = ExperimentSuite.Variants(o);
        Assert.Equal(["basic-densenet", "geometry"], computed.Select(v => v.Name).ToArray());
        Assert.Equal("geometry", ExperimentSuite.MainVariant(new ExperimentSuiteOptions { FaceGeometry = FaceGeometryUse.Alone }));
        Assert.Equal("basic-densenet", ExperimentSuite.MainVariant(new ExperimentSuiteOptions()));
    }
}
