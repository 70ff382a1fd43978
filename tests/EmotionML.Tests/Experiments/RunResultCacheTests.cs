using EmotionML.Experiments;
using EmotionML.Training;
using EmotionML.Training.Fusion;
using Xunit;

namespace EmotionML.Tests.Experiments;

/// <summary>The experiment table's store of finished runs (resuming a long <c>evaluate --experiments</c>).</summary>
public sealed class RunResultCacheTests
{
    private static FusionFeatureSet Set(float bump = 0)
    {
        var clips = Enumerable.Range(0, 4).Select(i => new ClipRecord($"/clips/{i}.mp4", i % 2 == 0 ? "happy" : "sad", $"0{i / 2}")).ToList();
        var set = new FusionFeatureSet { Clips = clips, Frames = 2, FrameMask = clips.Select(_ => new float[] { 1, 1 }).ToArray() };
        set.Face["basic-x"] = (clips.Select((_, i) => new float[] { i, i + bump, 2 * i, 1 }).ToArray(), 2);
        return set;
    }

    private static CrossValidationResult Result(string name)
    {
        var r = new CrossValidationResult(name, ["happy", "sad"],
            [new FoldResult(["00"], 0.5, 0.4, 2) { ValidationAccuracy = 0.75 }, new FoldResult(["01"], 1, 1, 2)], new long[,] { { 1, 1 }, { 0, 2 } });
        r.Scores.Add(("/clips/0.mp4", 0, [0.6f, 0.4f]));
        r.Scores.Add(("/clips/1.mp4", 1, [0.1f, 0.9f]));
        return r;
    }

    [Fact]
    public void AFinishedRunIsReusedExactlyAndAnyChangeOfSettingsOrFeaturesRunsAnew()
    {
        var folder = TestData.TempDir("run-cache");
        var runs = 0;
        CrossValidationResult Run() { runs++; return Result("first"); }
        var head = new FusionHeadOptions();
        var training = new TrainerOptions { MaxEpochs = 3, Seed = 1 };

        var first = RunResultCache.GetOrRun(Set(), "basic-x", head, training, 2, "first", Run, folder);
        var again = RunResultCache.GetOrRun(Set(), "basic-x", head, training, 2, "renamed", Run, folder);
        Assert.Equal(1, runs);
        Assert.Equal("renamed", again.Name);
        Assert.Equal(first.Classes, again.Classes);
        Assert.Equal(first.Folds.Select(f => (string.Join(" ", f.TestSpeakers), f.Accuracy, f.MacroF1, f.Rows)), again.Folds.Select(f => (string.Join(" ", f.TestSpeakers), f.Accuracy, f.MacroF1, f.Rows)));
        Assert.Equal(0.75, again.Folds[0].ValidationAccuracy);
        Assert.True(double.IsNaN(again.Folds[1].ValidationAccuracy));
        Assert.Equal(first.Confusion, again.Confusion);
        Assert.Equal(first.Scores.Select(s => (s.Path, s.Label, string.Join(",", s.Scores))), again.Scores.Select(s => (s.Path, s.Label, string.Join(",", s.Scores))));

        // Another seed, another head setting, other feature values, other folds: each runs.
        RunResultCache.GetOrRun(Set(), "basic-x", head, new TrainerOptions { MaxEpochs = 3, Seed = 2 }, 2, "s2", Run, folder);
        RunResultCache.GetOrRun(Set(), "basic-x", head with { FbpFactor = 2 }, training, 2, "k2", Run, folder);
        RunResultCache.GetOrRun(Set(bump: 1e-6f), "basic-x", head, training, 2, "bumped", Run, folder);
        RunResultCache.GetOrRun(Set(), "basic-x", head, training, 3, "3 folds", Run, folder);
        Assert.Equal(5, runs);

        // A damaged file is recomputed, not read.
        var file = Assert.Single(Directory.GetFiles(folder, RunResultCache.Key(Set(), "basic-x", head, training, 2) + ".json"));
        File.WriteAllText(file, "{ not json");
        RunResultCache.GetOrRun(Set(), "basic-x", head, training, 2, "after damage", Run, folder);
        Assert.Equal(6, runs);
        // Valid JSON with a part missing (a file cut short by hand, another version's layout): recomputed too.
        File.WriteAllText(file, """{"Classes":["happy","sad"],"Folds":null,"Confusion":[1,1,0,2],"Scores":[]}""");
        RunResultCache.GetOrRun(Set(), "basic-x", head, training, 2, "after a partial file", Run, folder);
        Assert.Equal(7, runs);
    }
}
