using System.Collections.Concurrent;
using EmotionML.Experiments;
using Microsoft.ML;
using Xunit;

namespace EmotionML.Tests.Experiments;

/// <summary>Long extractions report progress clip by clip (the CLI's progress bar counts these reports).</summary>
public sealed class SpectrogramProgressTests
{
    private sealed class Recorder(ConcurrentBag<int> values) : IProgress<int>
    {
        public void Report(int value) => values.Add(value);
    }

    [Fact]
    public void SpectrogramsReportTheCountDoneOncePerClip()
    {
        // 16 clips are split into 8 parts of 2 for the two decoders: a report per part would give 2, 4, …, 16.
        var clips = ClipManifest.FromShared("ravdess-speech-16k").Take(16).ToList();
        var reports = new ConcurrentBag<int>();
        // The computation itself, not the cached path (another test may have cached these clips' spectrograms).
        var failures = new List<ClipFailure>();
        var (spectrograms, valid) = AudioCnnExperiment.ComputeSpectrograms(new MLContext(0), clips, 100, new Recorder(reports), failures);
        Assert.Empty(failures);
        Assert.Equal(16, spectrograms.Length);
        Assert.All(valid, v => Assert.Equal(100, v));
        Assert.Equal(Enumerable.Range(1, 16), reports.OrderBy(x => x));
    }
}
