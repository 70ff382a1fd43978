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

    /// <summary>
    /// <c>evaluate --skip-faceless-frames</c>: the set's frame masks become the alignment stage's FaceMask (computed here
    /// by the stage itself): frames of a clip without a face drop out, a clip without any face keeps its frame mask.
    /// </summary>
    [Fact]
    public void SkippingFacelessFramesReplacesTheFrameMasksByTheAlignmentsFaceMask()
    {
        var dir = TestData.TempDir("skip-faceless");
        var part = MediaTools.Make(Path.Combine(dir, "part.mp4"), "-i", TestData.Javanese("01-01-01_01.mp4"),
            "-vf", "drawbox=x=0:y=0:w=iw:h=ih:color=gray:t=fill:enable='lt(t,1)'", "-c:a", "copy");
        var none = MediaTools.Make(Path.Combine(dir, "none.mp4"), "-i", TestData.Javanese("02-02-01_01.mp4"),
            "-vf", "geq=lum='X/2+Y/4':cb=128:cr=128", "-c:a", "copy");
        // A fourth clip is missing: it fails with a typed error in both passes and the others carry on.
        var clips = new[] { part, none, TestData.Javanese("03-01-01_01.mp4"), Path.Combine(dir, "missing.mp4") }.Select(p => new ClipRecord(p, "x", Path.GetFileName(p)[..2])).ToList();
        var set = new FusionFeatureSet { Clips = clips, Frames = 6, FrameMask = new float[4][] };
        FusionExperiment.AddFaceFeatures(new MLContext(0), set, [new FaceVariant("basic-minixception", new FaceFeatureOptions { Backbone = FaceBackboneKind.MiniXception })]);
        Assert.Equal(clips[3], Assert.Single(set.Failures).Clip);
        Assert.All(set.FrameMask.Take(3), m => Assert.Equal([1f, 1f, 1f, 1f, 1f, 1f], m));
        var failedMask = set.FrameMask[3];
        FusionExperiment.UseFaceMask(new MLContext(0), set);
        Assert.Same(failedMask, set.FrameMask[3]);

        var ml = new MLContext(0);
        var data = ml.Data.LoadFromEnumerable(clips.Take(3).Select(c => new Clip { VideoPath = c.Path }));
        var found = ml.Transforms.LoadVideo(new VideoInputOptions { FrameCount = 6, DecodeAudio = false }).Append(ml.Transforms.AlignFaces(6))
            .Fit(data).Transform(data).GetColumn<bool[]>("FaceFound").ToArray();
        Assert.Contains(false, found[0]);
        Assert.Contains(true, found[0]);
        Assert.Equal(found[0].Select(f => f ? 1f : 0f).ToArray(), set.FrameMask[0]);
        Assert.DoesNotContain(true, found[1]);
        Assert.Equal([1f, 1f, 1f, 1f, 1f, 1f], set.FrameMask[1]);
        Assert.Equal(found[2].Select(f => f ? 1f : 0f).ToArray(), set.FrameMask[2]);

        // The masks are cached: a second set of the same clips gets them without the alignment pass.
        var good = clips.Take(3).ToList();
        FusionExperiment.UseFaceMask(new MLContext(0), new FusionFeatureSet { Clips = good, Frames = 6, FrameMask = [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]] });
        var again = new FusionFeatureSet { Clips = good, Frames = 6, FrameMask = [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]] };
        FusionExperiment.UseFaceMask(new MLContext(0), again);
        Assert.Equal(set.FrameMask.Take(3).ToArray(), again.FrameMask);
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
