using System.Globalization;
using System.Text;
using EmotionML.Core;
using EmotionML.SpeakerAdaptation;
using EmotionML.Training;
using EmotionML.Training.Fusion;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace EmotionML.Experiments;

/// <summary>What <see cref="SpeakerAdaptationExperiment.Run"/> runs.</summary>
internal sealed class SpeakerAdaptationOptions
{
    /// <summary>Seeds; every row is run once per seed and per held-out speaker. Default 0, 1, 2.</summary>
    public int[] Seeds { get; set; } = [0, 1, 2];

    /// <summary>Speaker-independent folds (speakers dealt round-robin, <see cref="ClipManifest.SpeakerFolds"/>); 0 = one per speaker. Default 0.</summary>
    public int Folds { get; set; }

    /// <summary>k, the unlabelled calibration clips of the held-out speaker in the calibration protocol. Default 6.</summary>
    public int CalibrationClips { get; set; } = 6;

    /// <summary>L2 strengths of the linear probe, one chosen per fold by leave-one-speaker-out over the training speakers.</summary>
    public float[] L2Grid { get; set; } = [0.1f, 1f, 10f, 100f, 1000f];

    /// <summary>Statistics levels of the speaker normalisation; one is chosen per fold with the probe's L2, on the training speakers.</summary>
    public SpeakerStatisticsLevel[] Levels { get; set; } = [SpeakerStatisticsLevel.Frames, SpeakerStatisticsLevel.ClipMeans];

    /// <summary>
    /// Column subsets of the probe's input (clip-mean face features, then clip-mean audio features), one chosen per fold
    /// with the L2 on the training speakers, e.g. the audio CNN's part, the acoustic functionals' part, or both; null:
    /// every column. Default null.
    /// </summary>
    public IReadOnlyList<(string Name, int[] Columns)>? FeatureSubsets { get; set; }

    /// <summary>
    /// Add late-fusion rows: one probe on the face part and one on the audio part (each with its own L2 chosen on the
    /// training speakers, the statistics level of the joint probe), their class probabilities averaged. Default false.
    /// </summary>
    public bool LateFusion { get; set; }

    /// <summary>Include the fusion-head rows (a head trained per run). Default true.</summary>
    public bool IncludeHead { get; set; } = true;

    /// <summary>Head training settings (early stopping on held-out training speakers).</summary>
    public TrainerOptions Training { get; set; } = new() { MaxEpochs = 40, BatchSize = 16, LearningRate = 1e-3, EarlyStoppingPatience = 6, ValidationFraction = 0.2 };

    /// <summary>Head architecture: transformer × transformer attention, FBP (the README main job's head), fixed in advance.</summary>
    public FusionHeadOptions Head { get; set; } = new() { FbpOutputDim = 128, FbpFactor = 4, TransformerDim = 64 };
}

/// <summary>How the held-out speaker's statistics are obtained.</summary>
internal enum AdaptationProtocol
{
    /// <summary>No speaker normalisation: the plain speaker-independent number.</summary>
    None,
    /// <summary>The held-out speaker normalised by the statistics of all of its own unlabelled clips; scored on all of them.</summary>
    Transductive,
    /// <summary>The held-out speaker normalised by the statistics of k unlabelled calibration clips; scored on its other clips.</summary>
    Calibration,
}

/// <summary>One row: the model, the protocol and one accuracy per (seed, held-out speaker).</summary>
internal sealed record AdaptationRow(string Model, AdaptationProtocol Protocol, string Name, List<AdaptationRun> Runs)
{
    public double Mean => Runs.Average(r => r.Accuracy);

    public double Std => Runs.Count < 2 ? 0 : Math.Sqrt(Runs.Sum(r => (r.Accuracy - Mean) * (r.Accuracy - Mean)) / (Runs.Count - 1));

    /// <summary>The mean over speakers of each seed.</summary>
    public IEnumerable<double> SeedMeans => Runs.GroupBy(r => r.Seed).OrderBy(g => g.Key).Select(g => g.Average(r => r.Accuracy));
}

/// <summary>One held-out speaker in one seed: accuracy on the clips scored, and the setting chosen on the training speakers.</summary>
internal sealed record AdaptationRun(int Seed, string Speaker, double Accuracy, int Scored, string Chosen);

/// <summary>
/// Speaker adaptation without labels as its own protocol, beside the plain speaker-independent one: leave-one-speaker-out
/// (or <see cref="SpeakerAdaptationOptions.Folds"/> folds by speaker),
/// where every training speaker is normalised by the statistics of its own clips (<c>NormalizeBySpeaker</c>), and the
/// held-out speaker by the statistics of (a) all of its unlabelled clips or (b) k unlabelled calibration clips, scored
/// on its other clips. Models: a linear probe (ML.NET's L-BFGS maximum entropy on the clip means of the face and audio
/// features, standardised on the training folds, L2 chosen by leave-one-speaker-out over the training speakers) and the
/// fusion head (early stopping on held-out training speakers). No setting is chosen on a held-out speaker.
/// </summary>
internal static class SpeakerAdaptationExperiment
{
    /// <summary>Runs every row over <paramref name="set"/> (without failed clips).</summary>
    public static List<AdaptationRow> Run(MLContext ml, FusionFeatureSet set, string faceVariant, SpeakerAdaptationOptions o, IProgress<string>? log = null)
    {
        var clips = set.Clips;
        var speakers = clips.Select(c => c.Speaker).Distinct().OrderBy(s => s, StringComparer.Ordinal).ToArray();
        var classes = clips.Select(c => c.Label).Distinct().OrderBy(c => c, StringComparer.Ordinal).ToArray();
        var rows = new List<AdaptationRow>();
        AdaptationRow Row(string model, AdaptationProtocol p)
        {
            var name = p switch
            {
                AdaptationProtocol.None => "speaker-independent (no adaptation)",
                AdaptationProtocol.Transductive => "adapted: all of the speaker's unlabelled clips (transductive)",
                _ => $"adapted: {o.CalibrationClips} unlabelled calibration clips, scored on the other clips",
            };
            var row = new AdaptationRow(model, p, name, []);
            rows.Add(row);
            return row;
        }
        var protocols = new[] { AdaptationProtocol.None, AdaptationProtocol.Transductive, AdaptationProtocol.Calibration };
        var probeRows = protocols.ToDictionary(p => p, p => Row("linear probe", p));
        var headRows = o.IncludeHead ? protocols.ToDictionary(p => p, p => Row("fusion head", p)) : null;
        var faceDim = set.Face.TryGetValue(faceVariant, out var faceSet) ? faceSet.Dim : 0;
        var lateRows = o.LateFusion && faceDim > 0 && set.Audio != null ? protocols.ToDictionary(p => p, p => Row("late fusion: face probe + audio probe", p)) : null;
        var eitherRows = lateRows == null ? null : protocols.ToDictionary(p => p, p => Row("joint or late probe, chosen per fold on the training speakers", p));
        int[][] blocks = [Enumerable.Range(0, faceDim).ToArray(), Enumerable.Range(faceDim, set.AudioShape.Dim).ToArray()];

        var all = FusionExperiment.View(ml, set, faceVariant, Enumerable.Range(0, clips.Count));
        var toKey = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(all);
        SpeakerNormalizationEstimator Normalizer(SpeakerStatisticsLevel level) => ml.Transforms.NormalizeBySpeaker(new SpeakerNormalizationOptions
        {
            FaceFeaturesColumnName = set.Face.ContainsKey(faceVariant) ? "FaceFeatures" : null,
            AudioFeaturesColumnName = set.Audio != null ? "AudioFeatures" : null,
            Statistics = level,
        });
        var labelOf = clips.Select(c => Array.IndexOf(classes, c.Label)).ToArray();
        var folds = o.Folds == 0 ? speakers.Select(s => new[] { s }).ToList() : ClipManifest.SpeakerFolds(clips, o.Folds);
        foreach (var foldSpeakers in folds)
        {
            var test = string.Join(" ", foldSpeakers);
            var testRows = Enumerable.Range(0, clips.Count).Where(i => foldSpeakers.Contains(clips[i].Speaker)).ToArray();
            var trainRows = Enumerable.Range(0, clips.Count).Where(i => !foldSpeakers.Contains(clips[i].Speaker)).ToArray();
            var trainView = FusionExperiment.View(ml, set, faceVariant, trainRows);
            // Clip-pooled features: raw, and each clip normalised by its own speaker's statistics (transductive for all;
            // the inner choice reads the training speakers' rows only).
            (string Name, int[]? Columns, float[][] Pooled, float L2, double Accuracy) ChooseFeatures(float[][] pooled)
            {
                var best = ("", (int[]?)null, pooled, 0f, double.NegativeInfinity);
                foreach (var (name, columns) in o.FeatureSubsets ?? [("", null!)])
                {
                    var projected = Project(pooled, columns);
                    var (l2, acc) = ChooseL2(ml, projected, labelOf, clips, trainRows, classes.Length, o.L2Grid);
                    if (acc > best.Item5 + 1e-9) best = (name, columns, projected, l2, acc);
                }
                return best;
            }
            var rawAll = Pool(set, faceVariant, all);
            var (plainSubset, _, rawPooled, plainL2, plainInner) = ChooseFeatures(rawAll);
            SpeakerNormalizationTransformer stage = null!;
            float[][] adaptedPooled = [], adaptedAll = [];
            int[]? adaptedColumns = null;
            var (adaptedSubset, adaptedL2, adaptedInner, level) = ("", 0f, double.NegativeInfinity, SpeakerStatisticsLevel.Frames);
            var inner = new List<string>();
            foreach (var candidate in o.Levels)
            {
                var s = Normalizer(candidate).Fit(trainView);
                var unprojected = Pool(set, faceVariant, s.Transform(all));
                var (subset, columns, pooled, l2, acc) = ChooseFeatures(unprojected);
                inner.Add($"{candidate}{(subset.Length > 0 ? " " + subset : "")} {acc:P1}");
                if (acc > adaptedInner + 1e-9) (stage, adaptedPooled, adaptedAll, adaptedColumns, adaptedSubset, adaptedL2, adaptedInner, level) = (s, pooled, unprojected, columns, subset, l2, acc, candidate);
            }
            string Chosen(string subset, string rest) => subset.Length > 0 ? $"{subset}, {rest}" : rest;
            var plainProbe = Probe(ml, rawPooled, labelOf, trainRows, classes.Length, plainL2);
            var adaptedProbe = Probe(ml, adaptedPooled, labelOf, trainRows, classes.Length, adaptedL2);
            var plainAcc = Accuracy(plainProbe, rawPooled, labelOf, testRows);
            var transductiveAcc = Accuracy(adaptedProbe, adaptedPooled, labelOf, testRows);
            log?.Report($"speaker {test}: probe plain {plainAcc:P1} ({Chosen(plainSubset, $"L2 {plainL2}")}, inner {plainInner:P1}), transductive {transductiveAcc:P1} ({Chosen(adaptedSubset, $"{level}, L2 {adaptedL2}")}; inner {string.Join(", ", inner)})");

            // Late fusion: a probe per part on the unprojected clip means, probabilities averaged.
            (ITransformer Probe, float L2)[] LateProbes(float[][] pooled) => blocks.Select(cols =>
            {
                var part = Project(pooled, cols);
                var (l2, _) = ChooseL2(ml, part, labelOf, clips, trainRows, classes.Length, o.L2Grid);
                return (Probe(ml, part, labelOf, trainRows, classes.Length, l2), l2);
            }).ToArray();
            double LateAccuracy((ITransformer Probe, float L2)[] probes, float[][] pooled, int[] rows)
                => MeanScoreAccuracy(probes.Select((p, b) => Scores(p.Probe, Project(pooled, blocks[b]), labelOf, rows)).ToList(), labelOf, rows, classes.Length);
            var latePlain = lateRows == null ? [] : LateProbes(rawAll);
            var lateAdapted = lateRows == null ? [] : LateProbes(adaptedAll);
            string LateChosen((ITransformer Probe, float L2)[] p) => $"L2 face {p[0].L2}, audio {p[1].L2}";
            // The late fusion's leave-one-speaker-out accuracy over the training speakers, at its chosen L2s.
            double LateInner(float[][] pooled, (ITransformer Probe, float L2)[] chosen)
            {
                var correct = 0.0;
                foreach (var v in trainRows.Select(i => clips[i].Speaker).Distinct().Order(StringComparer.Ordinal))
                {
                    var fit = trainRows.Where(i => clips[i].Speaker != v).ToArray();
                    var val = trainRows.Where(i => clips[i].Speaker == v).ToArray();
                    var scores = blocks.Select((cols, b) =>
                    {
                        var part = Project(pooled, cols);
                        return Scores(Probe(ml, part, labelOf, fit, classes.Length, chosen[b].L2), part, labelOf, val);
                    }).ToList();
                    correct += MeanScoreAccuracy(scores, labelOf, val, classes.Length) * val.Length;
                }
                return correct / trainRows.Length;
            }
            var (latePlainInner, lateAdaptedInner) = lateRows == null ? (0.0, 0.0) : (LateInner(rawAll, latePlain), LateInner(adaptedAll, lateAdapted));
            var (plainLate, adaptedLate) = (latePlainInner > plainInner + 1e-9, lateAdaptedInner > adaptedInner + 1e-9);
            var (latePlainAcc, lateTransductiveAcc) = lateRows == null ? (0.0, 0.0) : (LateAccuracy(latePlain, rawAll, testRows), LateAccuracy(lateAdapted, adaptedAll, testRows));
            if (lateRows != null)
                log?.Report($"speaker {test}: late fusion plain {latePlainAcc:P1} ({LateChosen(latePlain)}, inner {latePlainInner:P1}), transductive {lateTransductiveAcc:P1} ({level}, {LateChosen(lateAdapted)}, inner {lateAdaptedInner:P1})");

            ITransformer? plainHead = null, adaptedHead = null;
            foreach (var seed in o.Seeds)
            {
                probeRows[AdaptationProtocol.None].Runs.Add(new(seed, test, plainAcc, testRows.Length, Chosen(plainSubset, $"L2 {plainL2}")));
                probeRows[AdaptationProtocol.Transductive].Runs.Add(new(seed, test, transductiveAcc, testRows.Length, Chosen(adaptedSubset, $"{level}, L2 {adaptedL2}")));
                // Each held-out speaker calibrated by its own k clips and scored on its other clips.
                var calibrations = foldSpeakers.Select(s =>
                {
                    var (calibration, scored) = CalibrationSplit(testRows.Where(i => clips[i].Speaker == s).ToArray(), o.CalibrationClips, seed, s);
                    var calibrated = stage.WithSpeakerStatistics(FusionExperiment.View(ml, set, faceVariant, calibration));
                    var view = FusionExperiment.View(ml, set, faceVariant, scored);
                    return (Stage: calibrated, Scored: scored, View: view, Pooled: PoolRows(set, faceVariant, calibrated.Transform(view), scored, clips.Count));
                }).ToList();
                var calScored = calibrations.Sum(c => c.Scored.Length);
                var calAcc = calibrations.Sum(c => Accuracy(adaptedProbe, Project(c.Pooled, adaptedColumns), labelOf, c.Scored) * c.Scored.Length) / calScored;
                probeRows[AdaptationProtocol.Calibration].Runs.Add(new(seed, test, calAcc, calScored, Chosen(adaptedSubset, $"{level}, L2 {adaptedL2}")));
                if (lateRows != null)
                {
                    lateRows[AdaptationProtocol.None].Runs.Add(new(seed, test, latePlainAcc, testRows.Length, LateChosen(latePlain)));
                    lateRows[AdaptationProtocol.Transductive].Runs.Add(new(seed, test, lateTransductiveAcc, testRows.Length, $"{level}, {LateChosen(lateAdapted)}"));
                    var lateCal = calibrations.Sum(c => LateAccuracy(lateAdapted, c.Pooled, c.Scored) * c.Scored.Length) / calScored;
                    lateRows[AdaptationProtocol.Calibration].Runs.Add(new(seed, test, lateCal, calScored, $"{level}, {LateChosen(lateAdapted)}"));
                    var none = lateRows[AdaptationProtocol.None].Runs[^1];
                    var transductive = lateRows[AdaptationProtocol.Transductive].Runs[^1];
                    eitherRows![AdaptationProtocol.None].Runs.Add(plainLate ? none with { Chosen = "late, " + none.Chosen } : probeRows[AdaptationProtocol.None].Runs[^1] with { Chosen = "joint, " + probeRows[AdaptationProtocol.None].Runs[^1].Chosen });
                    eitherRows[AdaptationProtocol.Transductive].Runs.Add(adaptedLate ? transductive with { Chosen = "late, " + transductive.Chosen } : probeRows[AdaptationProtocol.Transductive].Runs[^1] with { Chosen = "joint, " + probeRows[AdaptationProtocol.Transductive].Runs[^1].Chosen });
                    var cal = adaptedLate ? lateRows[AdaptationProtocol.Calibration].Runs[^1] : probeRows[AdaptationProtocol.Calibration].Runs[^1];
                    eitherRows[AdaptationProtocol.Calibration].Runs.Add(cal with { Chosen = (adaptedLate ? "late, " : "joint, ") + cal.Chosen });
                }
                if (headRows == null)
                {
                    log?.Report($"speaker {test}, seed {seed}: probe calibrated {calAcc:P1}");
                    continue;
                }
                var training = AudioCnnExperiment.CopyTraining(o.Training, "Speaker");
                training.Seed = seed;
                var head = new FusionHeadTrainerOptions { Head = o.Head with { }, Training = training };
                var testView = FusionExperiment.View(ml, set, faceVariant, testRows);
                (plainHead as IDisposable)?.Dispose();
                (adaptedHead as IDisposable)?.Dispose();
                plainHead = ml.Transforms.EmotionFusionHead(head).Fit(toKey.Transform(trainView));
                adaptedHead = ml.Transforms.EmotionFusionHead(head).Fit(toKey.Transform(stage.Transform(trainView)));
                var h0 = HeadAccuracy(ml, plainHead, toKey.Transform(testView));
                var h1 = HeadAccuracy(ml, adaptedHead, toKey.Transform(stage.Transform(testView)));
                var h2 = calibrations.Sum(c => HeadAccuracy(ml, adaptedHead, toKey.Transform(c.Stage.Transform(c.View))) * c.Scored.Length) / calScored;
                headRows[AdaptationProtocol.None].Runs.Add(new(seed, test, h0, testRows.Length, ""));
                headRows[AdaptationProtocol.Transductive].Runs.Add(new(seed, test, h1, testRows.Length, ""));
                headRows[AdaptationProtocol.Calibration].Runs.Add(new(seed, test, h2, calScored, ""));
                log?.Report($"speaker {test}, seed {seed}: probe calibrated {calAcc:P1}; head plain {h0:P1}, transductive {h1:P1}, calibrated {h2:P1}");
            }
            (plainHead as IDisposable)?.Dispose();
            (adaptedHead as IDisposable)?.Dispose();
        }
        return rows;
    }

    /// <summary>k calibration clips of the held-out speaker, drawn without labels by the seed; the rest are scored.</summary>
    internal static (int[] Calibration, int[] Scored) CalibrationSplit(int[] speakerRows, int k, int seed, string speaker)
    {
        if (k < 1 || k >= speakerRows.Length)
            throw new InvalidInputException($"Speaker '{speaker}' has {speakerRows.Length} clips: too few for {k} calibration clips and at least one to score.");
        // A fixed mix, not HashCode.Combine (randomised per process): the same seed draws the same clips in every run.
        var rng = new Random(unchecked(seed * 1_000_003 + StableHash(speaker)));
        var shuffled = speakerRows.OrderBy(_ => rng.Next()).ToArray();
        return (shuffled.Take(k).Order().ToArray(), shuffled.Skip(k).Order().ToArray());
    }

    private static int StableHash(string s)
    {
        var h = 17;
        foreach (var c in s) h = unchecked(h * 31 + c);
        return h;
    }

    private static double HeadAccuracy(MLContext ml, ITransformer head, IDataView test)
        => ml.MulticlassClassification.Evaluate(head.Transform(test)).MicroAccuracy;

    /// <summary>
    /// The probe's input per clip: the mean of the face features over its real frames and the mean of the audio
    /// features over its real positions, concatenated (rows indexed like the clips of <paramref name="set"/>).
    /// </summary>
    private static float[][] Pool(FusionFeatureSet set, string faceVariant, IDataView view)
        => PoolRows(set, faceVariant, view, Enumerable.Range(0, set.Clips.Count).ToArray(), set.Clips.Count);

    private static float[][] PoolRows(FusionFeatureSet set, string faceVariant, IDataView view, int[] rows, int total)
    {
        var result = new float[total][];
        var hasFace = set.Face.TryGetValue(faceVariant, out var face);
        var face_ = hasFace ? view.GetColumn<float[]>("FaceFeatures").ToArray() : null;
        var faceMask = hasFace ? view.GetColumn<float[]>("FrameMask").ToArray() : null;
        var audio = set.Audio != null ? view.GetColumn<float[]>("AudioFeatures").ToArray() : null;
        var audioMask = set.Audio != null ? view.GetColumn<float[]>("AudioMask").ToArray() : null;
        for (var r = 0; r < rows.Length; r++)
        {
            var parts = new List<float>();
            if (face_ != null) parts.AddRange(MaskedMean(face_[r], faceMask![r], face.Dim));
            if (audio != null) parts.AddRange(MaskedMean(audio[r], audioMask![r], set.AudioShape.Dim));
            result[rows[r]] = [.. parts];
        }
        return result;
    }

    /// <summary>The columns <paramref name="columns"/> of every (non-null) row; all of them when null.</summary>
    internal static float[][] Project(float[][] rows, int[]? columns)
        => columns == null ? rows : rows.Select(r => r == null ? null! : columns.Select(c => r[c]).ToArray()).ToArray();

    private static float[] MaskedMean(float[] values, float[] mask, int d)
    {
        var mean = new float[d];
        var n = 0;
        for (var t = 0; t < mask.Length; t++)
        {
            if (mask[t] == 0) continue;
            n++;
            for (var j = 0; j < d; j++) mean[j] += values[t * d + j];
        }
        if (n > 0) for (var j = 0; j < d; j++) mean[j] /= n;
        return mean;
    }

    private sealed class ProbeRow
    {
        public float[] Features { get; set; } = [];
        public string Label { get; set; } = "";
    }

    private static string ClassName(int label) => label.ToString("D2", CultureInfo.InvariantCulture);

    private static IDataView ProbeView(MLContext ml, float[][] features, int[] labels, IEnumerable<int> rows, int classes)
    {
        var definition = SchemaDefinition.Create(typeof(ProbeRow));
        definition[nameof(ProbeRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, features.First(f => f != null).Length);
        return ml.Data.LoadFromEnumerable(rows.Select(i => new ProbeRow { Features = features[i], Label = ClassName(labels[i]) }).ToList(), definition);
    }

    /// <summary>Standardisation fitted on the training rows, then L-BFGS maximum entropy with L2 <paramref name="l2"/>.</summary>
    private static ITransformer Probe(MLContext ml, float[][] features, int[] labels, int[] trainRows, int classes, float l2)
    {
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Append(ml.Transforms.NormalizeMeanVariance("Features"))
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new Microsoft.ML.Trainers.LbfgsMaximumEntropyMulticlassTrainer.Options
            {
                L2Regularization = l2, L1Regularization = 0, NumberOfThreads = 1,
            }))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedClass", "PredictedLabel"));
        return pipeline.Fit(ProbeView(ml, features, labels, trainRows, classes));
    }

    private static double Accuracy(ITransformer probe, float[][] features, int[] labels, int[] rows)
    {
        var ml = new MLContext(0);
        var classes = labels.Max() + 1;
        var predicted = probe.Transform(ProbeView(ml, features, labels, rows, classes)).GetColumn<string>("PredictedClass").ToArray();
        return rows.Where((r, i) => predicted[i] == ClassName(labels[r])).Count() / (double)rows.Length;
    }

    /// <summary>The probe's class probabilities of <paramref name="rows"/>, one slot per class in class order.</summary>
    private static float[][] Scores(ITransformer probe, float[][] features, int[] labels, int[] rows)
        => probe.Transform(ProbeView(new MLContext(0), features, labels, rows, 0)).GetColumn<float[]>("Score").ToArray();

    /// <summary>Accuracy of the class with the highest mean probability over <paramref name="scores"/> (one list per probe).</summary>
    internal static double MeanScoreAccuracy(IReadOnlyList<float[][]> scores, int[] labels, int[] rows, int classes)
    {
        var correct = 0;
        for (var r = 0; r < rows.Length; r++)
        {
            var mean = new double[classes];
            foreach (var s in scores)
            {
                if (s[r].Length != classes) throw new InvalidOperationException($"A probe scores {s[r].Length} classes, not {classes}: every class must be in the training rows.");
                for (var k = 0; k < classes; k++) mean[k] += s[r][k] / scores.Count;
            }
            var best = 0;
            for (var k = 1; k < classes; k++) if (mean[k] > mean[best]) best = k;
            if (best == labels[rows[r]]) correct++;
        }
        return correct / (double)rows.Length;
    }

    /// <summary>The L2 strength with the best leave-one-speaker-out accuracy over the training speakers only (ties: the stronger).</summary>
    private static (float L2, double Accuracy) ChooseL2(MLContext ml, float[][] features, int[] labels, IReadOnlyList<ClipRecord> clips, int[] trainRows, int classes, float[] grid)
    {
        var inner = trainRows.Select(i => clips[i].Speaker).Distinct().OrderBy(s => s, StringComparer.Ordinal).ToArray();
        var best = (L2: grid[^1], Accuracy: double.NegativeInfinity);
        foreach (var l2 in grid.OrderDescending())
        {
            var correct = 0.0;
            foreach (var v in inner)
            {
                var fit = trainRows.Where(i => clips[i].Speaker != v).ToArray();
                var val = trainRows.Where(i => clips[i].Speaker == v).ToArray();
                correct += Accuracy(Probe(ml, features, labels, fit, classes, l2), features, labels, val) * val.Length;
            }
            var acc = correct / trainRows.Length;
            if (acc > best.Accuracy + 1e-9) best = (l2, acc);
        }
        return best;
    }

    /// <summary>The table as markdown, with the command that produced it.</summary>
    public static string Markdown(IReadOnlyList<AdaptationRow> rows, string command, FusionFeatureSet set, SpeakerAdaptationOptions o)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        var speakers = set.Clips.Select(c => c.Speaker).Distinct().Count();
        var folds = o.Folds == 0 ? speakers : o.Folds;
        var (protocol, unit) = o.Folds == 0 ? ("leave-one-speaker-out", "speaker") : ($"{o.Folds} folds by speaker", "fold");
        sb.AppendLine($"Command: `{command}`  ");
        sb.AppendLine($"Data: {set.Clips.Count} clips, {speakers} speakers, {protocol} × seeds {string.Join(", ", o.Seeds)}; " +
            $"accuracy: mean ± sample std over the {folds * o.Seeds.Length} (seed, held-out {unit}) runs, in %; per seed: the mean over {unit}s.");
        sb.AppendLine();
        sb.AppendLine($"| model | protocol | accuracy | per seed | per held-out {unit} (mean over seeds) |");
        sb.AppendLine("|---|---|---|---|---|");
        foreach (var r in rows.Where(r => r.Runs.Count > 0))
        {
            var perSpeaker = string.Join(" ", r.Runs.GroupBy(x => x.Speaker).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => (100 * g.Average(x => x.Accuracy)).ToString("0", inv)));
            sb.AppendLine($"| {r.Model} | {r.Name} | {(100 * r.Mean).ToString("0.0", inv)} ± {(100 * r.Std).ToString("0.0", inv)} | " +
                $"{string.Join(" / ", r.SeedMeans.Select(m => (100 * m).ToString("0.0", inv)))} | {perSpeaker} |");
        }
        var chosen = rows.Where(r => r.Model is "linear probe" || r.Model.StartsWith("joint or late", StringComparison.Ordinal)).Where(r => r.Protocol != AdaptationProtocol.Calibration && r.Runs.Count > 0)
            .Select(r => $"{r.Model}, {r.Name}: {string.Join(", ", r.Runs.Where(x => x.Seed == o.Seeds[0]).Select(x => $"{x.Speaker} {x.Chosen}"))}");
        sb.AppendLine();
        sb.AppendLine("Chosen per held-out speaker on the training speakers (statistics level, probe L2): " + string.Join("; ", chosen) + ".");
        return sb.ToString();
    }
}
