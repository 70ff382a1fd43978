using EmotionML.Experiments;
using EmotionML.FaceFeatures;
using Microsoft.ML;
using Xunit;

namespace EmotionML.Tests.Experiments;

/// <summary>A face variant's backbone file (e.g. a FER2013 fine-tuned one) reaches the face stage of the experiments.</summary>
public sealed class FaceVariantModelPathTests
{
    [Fact]
    public void TheVariantsModelPathIsTheFileTheStageRuns()
    {
        // A file that is neither the shipped backbone nor a fine-tuned one: the stage must refuse it. When the options were
        // copied by a JSON round trip, ModelPath (a deployment setting, not serialised) was dropped and the shipped model ran.
        var dir = TestData.TempDir("variant-model-path");
        var notAModel = Path.Combine(dir, "not-a-backbone.onnx");
        File.WriteAllText(notAModel, $"not an ONNX graph {Guid.NewGuid()}");  // unique bytes: no feature-cache key repeats
        var clips = new List<ClipRecord> { new(TestData.Javanese("01-01-01_01.mp4"), "neutral", "01") };
        var set = new FusionFeatureSet { Clips = clips, Frames = 2, FrameMask = new float[1][] };
        var variant = new FaceVariant("basic-minixception-file", new FaceFeatureOptions { Backbone = FaceBackboneKind.MiniXception, ModelPath = notAModel });
        var e = Assert.ThrowsAny<EmotionMLException>(() => FusionExperiment.AddFaceFeatures(new MLContext(0), set, [variant]));
        Assert.Contains(notAModel, e.Message);
    }
}
