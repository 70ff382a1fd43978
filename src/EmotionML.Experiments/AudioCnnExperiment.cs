using EmotionML.Core;
using EmotionML.Spectrogram;
using EmotionML.Training;
using EmotionML.Training.AudioCnn;
using EmotionML.VideoInput;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace EmotionML.Experiments;

/// <summary>Settings of <see cref="AudioCnnExperiment"/>.</summary>
internal sealed class AudioCnnExperimentOptions
{
    /// <summary>Speaker-independent folds. Default 4.</summary>
    public int Folds { get; set; } = 4;

    /// <summary>Run only this fold (1-based; 0 = all), e.g. to run the folds as parallel processes. Default 0.</summary>
    public int OnlyFold { get; set; }

    /// <summary>Spectrogram frames per clip (10 ms each). Default 300.</summary>
    public int Frames { get; set; } = 300;

    /// <summary>Cut every clip to its speech (Silero VAD, <see cref="SpeechSpectrogramOptions.TrimSilence"/>) before the spectrogram. Default false.</summary>
    public bool TrimSilence { get; set; }

    /// <summary>
    /// The CNN's input: false (default) the speech spectrogram (200 bins, as the chain's audio stage computes it); true the
    /// log-Mel spectrogram (64 bands, channel 0 of <see cref="LogMelSpectrogramOptions"/>), a measurement of the paper's
    /// alternative input (with <see cref="AudioCnnOptions.Deltas"/> for its Δ and ΔΔ).
    /// </summary>
    public bool LogMel { get; set; }

    /// <summary>The trainer's settings (network, optimisation). GroupColumnName is set to the speaker.</summary>
    public AudioCnnTrainerOptions Trainer { get; set; } = new();
}

/// <summary>
/// Speaker-independent k-fold evaluation of the audio CNN on labelled speech (e.g. RAVDESS): spectrograms are computed
/// once, then for each fold the CNN is trained on the other speakers (early stopping on held-out training speakers) and
/// its own classifier is evaluated with ML.NET's multiclass evaluator on the fold's speakers.
/// </summary>
internal static class AudioCnnExperiment
{
    /// <summary>The spectrograms of <paramref name="clips"/> (T × 200 each), from <see cref="FeatureArrayCache"/> when computed before.</summary>
    /// <exception cref="EmotionMLException">A clip cannot be decoded (the first such clip's error).</exception>
    public static float[][] Spectrograms(MLContext ml, IReadOnlyList<ClipRecord> clips, int frames, IProgress<int>? progress = null, bool trimSilence = false, bool logMel = false)
    {
        var (spectrograms, _, failures) = SpectrogramsWithValidFrames(ml, clips, frames, progress, trimSilence, logMel);
        if (failures.Count > 0) throw failures[0].Error;
        return spectrograms;
    }

    /// <summary>
    /// The spectrograms of <paramref name="clips"/> and each one's count of real (not padded) frames, cached like
    /// <see cref="Spectrograms"/>; a clip that cannot be decoded is listed in Failures (its row is all zero, nothing is cached).
    /// </summary>
    public static (float[][] Spectrograms, int[] ValidFrames, List<ClipFailure> Failures) SpectrogramsWithValidFrames(MLContext ml, IReadOnlyList<ClipRecord> clips, int frames, IProgress<int>? progress = null,
        bool trimSilence = false, bool logMel = false)
    {
        if (logMel && trimSilence) throw new ArgumentException("Silence trimming is an option of the speech spectrogram only.", nameof(trimSilence));
        var failures = new List<ClipFailure>();
        var key = (logMel ? $"v1|frames={frames}|logmel={LogMelBands}" : $"v1|frames={frames}|bins=200|log") + (trimSilence ? $"|vad={SileroVad.Threshold},{SileroVad.MarginSamples}" : "");
        var spectrograms = FeatureArrayCache.TryGet("spectrogram", clips, key);
        var valid = FeatureArrayCache.TryGet("spectrogram", clips, key + "|valid-frames");
        if (spectrograms == null || valid == null)
        {
            (spectrograms, var counts) = logMel ? ComputeLogMel(ml, clips, frames, progress, failures) : ComputeSpectrograms(ml, clips, frames, progress, failures, trimSilence);
            valid = counts.Select(c => new float[] { c }).ToArray();
            if (failures.Count == 0)
            {
                FeatureArrayCache.Put("spectrogram", clips, key, spectrograms);
                FeatureArrayCache.Put("spectrogram", clips, key + "|valid-frames", valid);
            }
        }
        return (spectrograms, valid.Select(v => (int)v[0]).ToArray(), failures.OrderBy(f => IndexOf(clips, f.Clip)).ToList());
    }

    private static int IndexOf(IReadOnlyList<ClipRecord> clips, ClipRecord clip)
    {
        for (var i = 0; i < clips.Count; i++)
            if (ReferenceEquals(clips[i], clip)) return i;
        return -1;
    }

    internal static (float[][], int[]) ComputeSpectrograms(MLContext ml, IReadOnlyList<ClipRecord> clips, int frames, IProgress<int>? progress, List<ClipFailure> failures, bool trimSilence = false)
        => AudioClipBatch.Compute(ml, clips, () => ml.Transforms.SpeechSpectrogram(new SpeechSpectrogramOptions { Frames = frames, TrimSilence = trimSilence }),
            "Spectrogram", "SpectrogramFrames", frames * 200, progress, failures);

    /// <summary>Mel bands of the log-Mel input.</summary>
    internal const int LogMelBands = 64;

    /// <summary>Channel 0 (the log-Mel spectrogram, T × 64) of the log-Mel stage's output for each clip.</summary>
    private static (float[][], int[]) ComputeLogMel(MLContext ml, IReadOnlyList<ClipRecord> clips, int frames, IProgress<int>? progress, List<ClipFailure> failures)
    {
        var (values, counts) = AudioClipBatch.Compute(ml, clips, () => ml.Transforms.LogMelSpectrogram(new LogMelSpectrogramOptions { Frames = frames, Bands = LogMelBands }),
            "LogMel", "LogMelFrames", 3 * frames * LogMelBands, progress, failures);
        return (values.Select(v => v.AsSpan(0, frames * LogMelBands).ToArray()).ToArray(), counts);
    }

    /// <summary>Runs the cross-validation; <paramref name="reports"/>, when given, receives each fold's training report.</summary>
    /// <remarks>A fold report's validation accuracy is the selection criterion: held-out training speakers, never the test fold.</remarks>
    public static CrossValidationResult Run(MLContext ml, IReadOnlyList<ClipRecord> clips, AudioCnnExperimentOptions options, IProgress<string>? log = null, float[][]? spectrograms = null,
        List<TrainingReport>? reports = null)
    {
        spectrograms ??= Spectrograms(ml, clips, options.Frames, trimSilence: options.TrimSilence, logMel: options.LogMel);
        var bins = spectrograms[0].Length / options.Frames;
        var classes = clips.Select(c => c.Label).Distinct().OrderBy(c => c, StringComparer.Ordinal).ToArray();
        var all = View(ml, clips, Enumerable.Range(0, clips.Count), spectrograms, options.Frames, bins);
        var toKey = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(all);
        var confusion = new long[classes.Length, classes.Length];
        var folds = new List<FoldResult>();
        var result = new List<(string, int, float[])>();
        var f = 0;
        foreach (var (testSpeakers, test, train) in ClipManifest.FoldRows(clips, options.Folds))
        {
            f++;
            if (options.OnlyFold > 0 && f != options.OnlyFold) continue;
            var fold = Fold(options.Trainer);
            AudioCnnTrainingResult? trained = null;
            fold.Trained = r => trained = r;
            var features = ml.Transforms.TrainAudioCnn(fold).Fit(toKey.Transform(View(ml, clips, train, spectrograms, options.Frames, bins)));
            using var network = trained!.Network;
            using var classifier = trained.Classifier;
            var scored = classifier.Transform(features.Transform(toKey.Transform(View(ml, clips, test, spectrograms, options.Frames, bins))));
            var (acc, f1) = Accumulate(ml, scored, confusion, result, test.Select(i => clips[i].Path).ToArray());
            folds.Add(new FoldResult(testSpeakers, acc, f1, test.Length));
            reports?.Add(trained.Report);
            var best = trained.Report.Epochs[trained.Report.BestEpoch - 1];
            log?.Report($"fold {f}/{options.Folds} (speakers {string.Join(" ", testSpeakers)}): accuracy {acc:P1}, macro-F1 {f1:P1}, best epoch {trained.Report.BestEpoch} (validation accuracy {best.ValidationAccuracy:P1}, loss {best.ValidationLoss:0.000}), {trained.Report.Epochs.Average(e => e.Seconds):0.0} s/epoch");
        }
        var cv = new CrossValidationResult("audio CNN", classes, folds, confusion);
        cv.Scores.AddRange(result);
        return cv;
    }

    private static AudioCnnTrainerOptions Fold(AudioCnnTrainerOptions o) => new()
    {
        SpectrogramColumnName = "Spectrogram",
        Network = o.Network with { },
        Augmentation = o.Augmentation with { },
        Output = o.Output,
        Training = CopyTraining(o.Training, "Speaker"),
    };

    internal static TrainerOptions CopyTraining(TrainerOptions t, string group) => new()
    {
        LabelColumnName = "Label", GroupColumnName = group, MaxEpochs = t.MaxEpochs, BatchSize = t.BatchSize, LearningRate = t.LearningRate,
        WeightDecay = t.WeightDecay, Optimizer = t.Optimizer, Schedule = t.Schedule, ClassWeighting = t.ClassWeighting,
        ValidationFraction = t.ValidationFraction, EarlyStoppingPatience = t.EarlyStoppingPatience, EarlyStoppingMetric = t.EarlyStoppingMetric, Seed = t.Seed, Device = t.Device,
        Threads = t.Threads, Progress = t.Progress, Cancellation = t.Cancellation,
    };

    /// <summary>Evaluates scored data with ML.NET, adds its confusion counts and scores; returns (accuracy, macro-F1).</summary>
    internal static (double Accuracy, double MacroF1) Accumulate(MLContext ml, IDataView scored, long[,] confusion, List<(string, int, float[])> scores, string[] paths)
    {
        var metrics = ml.MulticlassClassification.Evaluate(scored);
        var counts = metrics.ConfusionMatrix.Counts;
        var k = confusion.GetLength(0);
        var fold = new long[k, k];
        for (var i = 0; i < counts.Count; i++)
            for (var j = 0; j < counts[i].Count; j++)
            {
                fold[i, j] = (long)counts[i][j];
                confusion[i, j] += (long)counts[i][j];
            }
        var labels = scored.GetColumn<uint>("Label").ToArray();
        var s = scored.GetColumn<float[]>("Score").ToArray();
        for (var i = 0; i < labels.Length; i++) scores.Add((paths[i], (int)labels[i] - 1, s[i]));
        var (_, f1) = CrossValidationResult.Metrics(fold);
        return (metrics.MicroAccuracy, f1);
    }

    /// <summary>All clips with their spectrograms and the label as a key (classes in alphabetical order), ready for the trainer.</summary>
    public static IDataView TrainingView(MLContext ml, IReadOnlyList<ClipRecord> clips, float[][] spectrograms, int frames)
    {
        var view = View(ml, clips, Enumerable.Range(0, clips.Count), spectrograms, frames, spectrograms[0].Length / frames);
        return ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(view).Transform(view);
    }

    private static IDataView View(MLContext ml, IReadOnlyList<ClipRecord> clips, IEnumerable<int> rows, float[][] spectrograms, int frames, int bins)
    {
        var data = ml.Data.LoadFromEnumerable(rows.Select(i => new ClipRow { VideoPath = clips[i].Path, Label = clips[i].Label, Speaker = clips[i].Speaker, Row = i }).ToList());
        return InMemoryColumns.Add(data, "Row", new InMemoryColumns.Column("Spectrogram", spectrograms, [frames, bins]));
    }
}
