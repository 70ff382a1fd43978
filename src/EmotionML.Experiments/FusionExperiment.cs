using EmotionML.AudioCnn;
using EmotionML.Core;
using EmotionML.FaceAlignment;
using EmotionML.FaceFeatures;
using EmotionML.FaceGeometry;
using EmotionML.Spectrogram;
using EmotionML.Training;
using EmotionML.Training.Fusion;
using EmotionML.VideoInput;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace EmotionML.Experiments;

/// <summary>A face feature variant: backbone and enhancement (and the second backbone for F-AR-Mean), or the landmark geometry.</summary>
/// <param name="Name">Short name used in reports and as the column name.</param>
/// <param name="Options">The face feature stage's options (unused by <see cref="Geometry"/>).</param>
/// <param name="IsGeometry">True for the face-geometry stage's measures (<see cref="FaceGeometryMeasures"/>) instead of a backbone.</param>
public sealed record FaceVariant(string Name, FaceFeatureOptions Options, bool IsGeometry = false)
{
    /// <summary>The 68-landmark geometry measures of every frame (<c>ExtractFaceGeometry</c>), named "geometry".</summary>
    public static FaceVariant Geometry { get; } = new("geometry", new FaceFeatureOptions(), IsGeometry: true);

    /// <summary>Values per frame.</summary>
    public int Dimension => IsGeometry ? FaceGeometryMeasures.Count : Options.FeatureDimension;

    /// <summary>What the cached values depend on besides the clips and frames.</summary>
    internal string SettingsKey => IsGeometry
        ? $"landmarks68|box={LandmarkDetector.FaceBox}|measures={string.Join(",", FaceGeometryMeasures.Names)}"
        : System.Text.Json.JsonSerializer.Serialize(Options);
}

/// <summary>Per-clip inputs of the fusion head, computed once and reused by every head configuration.</summary>
public sealed class FusionFeatureSet
{
    /// <summary>The clips, in row order.</summary>
    public required IReadOnlyList<ClipRecord> Clips { get; init; }

    /// <summary>Frames per clip.</summary>
    public required int Frames { get; init; }

    /// <summary>Frame masks [Frames] per clip.</summary>
    public required float[][] FrameMask { get; init; }

    /// <summary>Face features [Frames·D] per clip, by variant name, with D.</summary>
    public Dictionary<string, (float[][] Values, int Dim)> Face { get; } = [];

    /// <summary>Audio feature sets [n·C] per clip.</summary>
    public float[][]? Audio { get; set; }

    /// <summary>Audio mask [n] per clip.</summary>
    public float[][]? AudioMask { get; set; }

    /// <summary>n, C of the audio features.</summary>
    public (int Positions, int Dim) AudioShape { get; set; }

    /// <summary>Share of real frames in which a face was found.</summary>
    public double FaceFoundRate { get; set; }

    /// <summary>Frames per clip in which a face was found (set with the face features).</summary>
    public int[] FramesWithFace { get; set; } = [];

    /// <summary>
    /// Clips whose features could not be computed (a typed error per clip: missing, corrupt, no audio…). Their rows
    /// hold zeros until <see cref="WithoutFailures"/> leaves them out; nothing of a set with failures is cached.
    /// </summary>
    public List<ClipFailure> Failures { get; } = [];

    /// <summary>
    /// Adds face variant <paramref name="name"/>: the features of <paramref name="variants"/> (all present) joined frame
    /// by frame, so that frame f of a clip holds variant 1's D1 values of frame f, then variant 2's, and so on.
    /// </summary>
    /// <exception cref="ArgumentException">A variant is missing, or fewer than two are named.</exception>
    public void ConcatenateFace(string name, IReadOnlyList<string> variants)
    {
        if (variants.Count < 2) throw new ArgumentException("At least two face variants are needed to join.", nameof(variants));
        var parts = variants.Select(v => Face.TryGetValue(v, out var f) ? f : throw new ArgumentException($"Face variant '{v}' is not in the set (have: {string.Join(", ", Face.Keys)}).", nameof(variants))).ToList();
        var dim = parts.Sum(p => p.Dim);
        var values = new float[Clips.Count][];
        for (var c = 0; c < Clips.Count; c++)
        {
            var row = new float[Frames * dim];
            for (var f = 0; f < Frames; f++)
            {
                var at = f * dim;
                foreach (var (v, d) in parts)
                {
                    Array.Copy(v[c], f * d, row, at, d);
                    at += d;
                }
            }
            values[c] = row;
        }
        Face[name] = (values, dim);
    }

    /// <summary>The set without the clips of <see cref="Failures"/> (which it still lists), rows in the same order.</summary>
    public FusionFeatureSet WithoutFailures()
    {
        var bad = Failures.Select(f => f.Clip.Path).ToHashSet(StringComparer.Ordinal);
        var keep = Enumerable.Range(0, Clips.Count).Where(i => !bad.Contains(Clips[i].Path)).ToArray();
        T[] Pick<T>(T[] a) => keep.Select(i => a[i]).ToArray();
        var set = new FusionFeatureSet { Clips = Pick(Clips.ToArray()), Frames = Frames, FrameMask = Pick(FrameMask) };
        foreach (var (name, (values, dim)) in Face) set.Face[name] = (Pick(values), dim);
        set.Audio = Audio is null ? null : Pick(Audio);
        set.AudioMask = AudioMask is null ? null : Pick(AudioMask);
        set.AudioShape = AudioShape;
        set.FaceFoundRate = FaceFoundRate;
        set.FramesWithFace = FramesWithFace.Length == Clips.Count ? Pick(FramesWithFace) : FramesWithFace;
        set.Failures.AddRange(Failures);
        return set;
    }
}

/// <summary>A clip left out of an experiment, with the typed error that says why.</summary>
/// <param name="Clip">The clip.</param>
/// <param name="Error">What went wrong (a <see cref="MediaFileException"/> names the file and the <see cref="MediaProblem"/>).</param>
public sealed record ClipFailure(ClipRecord Clip, EmotionMLException Error)
{
    /// <summary>The EmotionML error of <paramref name="e"/> or of one of its inner exceptions (ML.NET wraps errors thrown in cursors), or null.</summary>
    public static EmotionMLException? Typed(Exception e)
    {
        for (Exception? x = e; x != null; x = x.InnerException)
            if (x is EmotionMLException typed) return typed;
        return null;
    }
}

/// <summary>
/// Speaker-independent cross-validation of fusion heads on audio-visual clips (e.g. the Javanese set): features are
/// extracted once per clip (face variants in one pass over the aligned crops, audio through a trained audio CNN) and
/// cached; each head configuration is then trained per fold on the other speakers and evaluated with ML.NET.
/// </summary>
public static class FusionExperiment
{
    /// <summary>
    /// Extracts (or loads from the cache) face features of every variant and the frame masks. Each variant is cached on
    /// its own, so adding a variant later computes only that one (frames are decoded and aligned once per call).
    /// With <paramref name="parallel"/> above 1 the clips are split into that many consecutive parts, each computed by
    /// its own copy of the pipeline; every clip is computed on its own, so the values do not depend on it. A clip that
    /// fails with a typed error is added to <see cref="FusionFeatureSet.Failures"/> and the others carry on.
    /// </summary>
    public static void AddFaceFeatures(MLContext ml, FusionFeatureSet set, IReadOnlyList<FaceVariant> variants, IProgress<int>? progress = null, int parallel = 1, int chunk = 0)
    {
        string Key(FaceVariant v) => $"v2|frames={set.Frames}|{v.Name}:{v.SettingsKey}{(v.IsGeometry ? "" : ModelFileKey(v.Options))}";
        var maskKey = $"v2|frames={set.Frames}|mask+found";
        var cached = variants.ToDictionary(v => v.Name, v => FeatureArrayCache.TryGet("face", set.Clips, Key(v)));
        var masks = FeatureArrayCache.TryGet("face", set.Clips, maskKey);
        var missing = variants.Where(v => cached[v.Name] == null).ToList();
        if (missing.Count > 0 && chunk > 0 && set.Clips.Count > chunk)
        {
            // Resumable: each part of `chunk` clips is computed and cached on its own, then the whole set is assembled.
            var parts = new List<FusionFeatureSet>();
            for (var start = 0; start < set.Clips.Count; start += chunk)
            {
                var clips = set.Clips.Skip(start).Take(chunk).ToList();
                var part = new FusionFeatureSet { Clips = clips, Frames = set.Frames, FrameMask = new float[clips.Count][] };
                var offset = start;
                AddFaceFeatures(ml, part, missing, progress == null ? null : new Progress<int>(i => progress.Report(offset + i)), parallel);
                parts.Add(part);
            }
            if (parts.All(p => p.Failures.Count == 0))
            {
                masks = parts.SelectMany(p => p.FrameMask.Select((m, i) => m.Append(p.FramesWithFace[i]).ToArray())).ToArray();
                FeatureArrayCache.Put("face", set.Clips, maskKey, masks);
                foreach (var v in missing)
                {
                    cached[v.Name] = parts.SelectMany(p => p.Face[v.Name].Values).ToArray();
                    FeatureArrayCache.Put("face", set.Clips, Key(v), cached[v.Name]!);
                }
                missing.Clear();
            }
        }
        if (missing.Count > 0 || masks == null)
        {
            var failures = new List<ClipFailure>();
            var width = set.Frames + 1 + missing.Sum(v => set.Frames * v.Dimension);
            var blob = ComputeFaceParallel(ml, set.Clips, set.Frames, missing, progress, failures, width, parallel);
            set.Failures.AddRange(failures);
            masks = blob.Select(b => b.AsSpan(0, set.Frames + 1).ToArray()).ToArray();
            if (failures.Count == 0) FeatureArrayCache.Put("face", set.Clips, maskKey, masks);
            var offset = set.Frames + 1;
            foreach (var v in missing)
            {
                var d = v.Dimension;
                var values = blob.Select(b => b.AsSpan(offset, set.Frames * d).ToArray()).ToArray();
                if (failures.Count == 0) FeatureArrayCache.Put("face", set.Clips, Key(v), values);
                cached[v.Name] = values;
                offset += set.Frames * d;
            }
        }
        for (var i = 0; i < masks.Length; i++) set.FrameMask[i] = masks[i].AsSpan(0, set.Frames).ToArray();
        set.FaceFoundRate = masks.Sum(b => b[set.Frames]) / Math.Max(1, set.FrameMask.Sum(m => m.Sum()));
        set.FramesWithFace = masks.Select(b => (int)b[set.Frames]).ToArray();
        foreach (var v in variants) set.Face[v.Name] = (cached[v.Name]!, v.Dimension);
    }

    /// <summary>
    /// Replaces each clip's frame mask by the face alignment's <c>FaceMask</c> (1 for a real frame in which a face was
    /// found; a clip without any face keeps its frame mask), so that the head's frame attention, its standardisation and
    /// the probe's clip means skip frames without a face. The face masks come from an alignment-only pass (no backbone)
    /// and are cached; a clip whose alignment fails keeps its frame mask (it is among the set's failures already).
    /// </summary>
    public static void UseFaceMask(MLContext ml, FusionFeatureSet set)
    {
        var key = $"v1|frames={set.Frames}|facemask";
        var masks = FeatureArrayCache.TryGet("face", set.Clips, key);
        if (masks == null)
        {
            masks = new float[set.Clips.Count][];
            var data = ml.Data.LoadFromEnumerable(set.Clips.Select((c, i) => new ClipRow { VideoPath = c.Path, Label = c.Label, Speaker = c.Speaker, Row = i }).ToList());
            var transformed = ml.Transforms.LoadVideo(new VideoInputOptions { FrameCount = set.Frames, DecodeAudio = false, MissingVideo = MissingStreamPolicy.Empty })
                .Append(ml.Transforms.AlignFaces(set.Frames)).Fit(data).Transform(data);
            var column = transformed.Schema[new FaceAlignmentOptions().FaceMaskColumnName];
            using var cursor = transformed.GetRowCursor([column]);
            var getter = cursor.GetGetter<VBuffer<float>>(column);
            VBuffer<float> m = default;
            var failed = false;
            for (var i = 0; cursor.MoveNext(); i++)
            {
                try
                {
                    getter(ref m);
                    masks[i] = m.DenseValues().ToArray();
                }
                catch (Exception e) when (ClipFailure.Typed(e) != null)
                {
                    masks[i] = set.FrameMask[i] ?? new float[set.Frames];
                    failed = true;
                }
            }
            if (!failed) FeatureArrayCache.Put("face", set.Clips, key, masks);
        }
        for (var i = 0; i < masks.Length; i++)
        {
            if (masks[i].Length != set.Frames) throw new InvalidOperationException($"face mask of clip {i} has {masks[i].Length} values, {set.Frames} expected");
            set.FrameMask[i] = masks[i];
        }
    }

    /// <summary>The sha256 of a backbone file given by path (a fine-tuned backbone), so its features are cached apart; "" for the shipped files.</summary>
    private static string ModelFileKey(FaceFeatureOptions o)
    {
        static string Hash(string? path) => path == null ? "" : Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)));
        return o.ModelPath == null && o.SecondModelPath == null ? "" : $"|model={Hash(o.ModelPath)}|second={Hash(o.SecondModelPath)}";
    }

    private static float[][] ComputeFaceParallel(MLContext ml, IReadOnlyList<ClipRecord> clips, int frames, IReadOnlyList<FaceVariant> variants, IProgress<int>? progress,
        List<ClipFailure> failures, int width, int parallel)
    {
        var parts = Math.Clamp(parallel, 1, Math.Max(1, clips.Count));
        if (parts == 1) return ComputeFace(ml, clips, frames, variants, progress, failures, width);
        var ranges = Enumerable.Range(0, parts).Select(k => (Start: k * clips.Count / parts, End: (k + 1) * clips.Count / parts)).ToArray();
        var results = new float[parts][][];
        var partFailures = new List<ClipFailure>[parts];
        var done = 0;
        var shared = progress == null ? null : new Progress(() => progress.Report(Interlocked.Increment(ref done)));
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, k =>
        {
            var (start, end) = ranges[k];
            partFailures[k] = [];
            results[k] = ComputeFace(new MLContext(0), clips.Skip(start).Take(end - start).ToList(), frames, variants, shared, partFailures[k], width);
        });
        foreach (var f in partFailures) failures.AddRange(f);
        return results.SelectMany(r => r).ToArray();
    }

    /// <summary>Progress that calls back once per step, from any thread.</summary>
    private sealed class Progress(Action step) : IProgress<int>
    {
        private readonly object _gate = new();

        public void Report(int value)
        {
            lock (_gate) step();
        }
    }

    private static float[][] ComputeFace(MLContext ml, IReadOnlyList<ClipRecord> clips, int frames, IReadOnlyList<FaceVariant> variants, IProgress<int>? progress,
        List<ClipFailure> failures, int width)
    {
        var data = ml.Data.LoadFromEnumerable(clips.Select((c, i) => new ClipRow { VideoPath = c.Path, Label = c.Label, Speaker = c.Speaker, Row = i }).ToList());
        // Audio-only rows (see ClipManifest) decode to zero frames: an all-zero frame mask.
        IEstimator<ITransformer> pipeline = ml.Transforms.LoadVideo(new VideoInputOptions { FrameCount = frames, DecodeAudio = false, MissingVideo = MissingStreamPolicy.Empty })
            .Append(ml.Transforms.AlignFaces(frames));
        foreach (var v in variants)
        {
            if (v.IsGeometry)
            {
                pipeline = pipeline.Append(ml.Transforms.ExtractFaceGeometry(new FaceGeometryOptions { OutputColumnName = "F_" + v.Name }));
                continue;
            }
            // Clone, not a JSON round trip: the deployment settings (ModelPath of a fine-tuned backbone, execution) are not serialised.
            var o = v.Options.Clone();
            o.OutputColumnName = "F_" + v.Name;
            pipeline = pipeline.Append(ml.Transforms.ExtractFaceFeatures(o));
        }
        var transformed = pipeline.Fit(data).Transform(data);
        var cols = new List<DataViewSchema.Column> { transformed.Schema["FrameMask"], transformed.Schema["FaceFound"] };
        cols.AddRange(variants.Select(v => transformed.Schema["F_" + v.Name]));
        using var cursor = transformed.GetRowCursor(cols);
        var mask = cursor.GetGetter<VBuffer<float>>(cols[0]);
        var found = cursor.GetGetter<VBuffer<bool>>(cols[1]);
        var feats = cols.Skip(2).Select(c => cursor.GetGetter<VBuffer<float>>(c)).ToList();
        VBuffer<float> m = default, f = default;
        VBuffer<bool> fb = default;
        var result = new List<float[]>();
        while (cursor.MoveNext())
        {
            try
            {
                mask(ref m); found(ref fb);
                var row = new List<float>(m.DenseValues()) { fb.DenseValues().Count(x => x) };
                foreach (var g in feats) { g(ref f); row.AddRange(f.DenseValues()); }
                result.Add(row.ToArray());
            }
            catch (Exception e) when (ClipFailure.Typed(e) is { } typed)
            {
                // One bad clip is reported and left out; the others carry on.
                failures.Add(new ClipFailure(clips[result.Count], typed));
                result.Add(new float[width]);
            }
            progress?.Report(result.Count);
        }
        return result.ToArray();
    }

    /// <summary>Extracts (or loads from the cache) the audio feature sets through a trained audio CNN ONNX file.</summary>
    public static void AddAudioFeatures(MLContext ml, FusionFeatureSet set, string audioCnnOnnx, int spectrogramFrames, IProgress<int>? progress = null)
    {
        var cnnHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(audioCnnOnnx)));
        var (spectrograms, valid, failures) = AudioCnnExperiment.SpectrogramsWithValidFrames(ml, set.Clips, spectrogramFrames, progress);
        set.Failures.AddRange(failures.Where(f => set.Failures.All(g => g.Clip.Path != f.Clip.Path)));
        var probe = ml.Transforms.ExtractAudioFeatures(audioCnnOnnx);
        var data = InMemoryColumns.Add(ml.Data.LoadFromEnumerable(set.Clips.Select((c, i) => new ClipRow { VideoPath = c.Path, Row = i }).ToList()), "Row",
            new InMemoryColumns.Column("Spectrogram", spectrograms, [spectrogramFrames, spectrograms[0].Length / spectrogramFrames]));
        var transformer = probe.Fit(data);
        set.AudioShape = (transformer.Shape.Positions, transformer.Shape.Channels);
        float[][] Compute() => transformer.Transform(data).GetColumn<float[]>("AudioFeatures").ToArray();
        var key = $"v1|cnn={cnnHash}|frames={spectrogramFrames}";
        set.Audio = failures.Count == 0 ? FeatureArrayCache.GetOrCompute("audiofeat", set.Clips, key, Compute) : Compute();
        // The mask the chain's audio feature stage computes: padded time rows and clips without audio get 0.
        var (timeRows, _) = AudioCnnGeometry.FeatureMapSize(spectrogramFrames, spectrograms[0].Length / spectrogramFrames);
        set.AudioMask = valid.Select(v =>
        {
            var mask = new float[set.AudioShape.Positions];
            AudioCnnGeometry.Mask(mask, spectrogramFrames, timeRows, v);
            return mask;
        }).ToArray();
    }

    /// <summary>
    /// Speaker-independent CV of one head configuration on <paramref name="set"/> (without failed clips).
    /// <paramref name="foldHeads"/>, when given, receives each fold's held-out speakers and trained head (it reads the
    /// columns of the chain's face and audio stages, so it can be appended to them and saved as a model).
    /// </summary>
    public static CrossValidationResult Run(MLContext ml, FusionFeatureSet set, string faceVariant, FusionHeadOptions head, TrainerOptions training, int folds, string name, IProgress<string>? log = null,
        Action<string[], ITransformer>? foldHeads = null)
    {
        var clips = set.Clips;
        if (set.Failures.Any(f => clips.Contains(f.Clip)))
            throw new InvalidOperationException("The feature set still holds clips that failed; run on set.WithoutFailures().");
        var classes = clips.Select(c => c.Label).Distinct().OrderBy(c => c, StringComparer.Ordinal).ToArray();
        var all = View(ml, set, faceVariant, Enumerable.Range(0, clips.Count));
        var toKey = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(all);
        var confusion = new long[classes.Length, classes.Length];
        var foldResults = new List<FoldResult>();
        var scores = new List<(string, int, float[])>();
        foreach (var (testSpeakers, test, train) in ClipManifest.FoldRows(clips, folds))
        {
            var validationAccuracy = double.NaN;
            var trainer = ml.Transforms.EmotionFusionHead(new FusionHeadTrainerOptions
            {
                Head = head with { },
                Training = AudioCnnExperiment.CopyTraining(training, "Speaker"),
                Trained = r =>
                {
                    // Accuracy on the held-out training speakers at the kept epoch: the only number settings are chosen by.
                    validationAccuracy = r.Report.Epochs.FirstOrDefault(e => e.Epoch == r.Report.BestEpoch)?.ValidationAccuracy ?? double.NaN;
                    r.Module.Dispose();
                },
            });
            // No retry on native errors: a libtorch fault is a fault, and it stops the run with its own message.
            var model = trainer.Fit(toKey.Transform(View(ml, set, faceVariant, train)));
            foldHeads?.Invoke(testSpeakers, model);
            var scored = model.Transform(toKey.Transform(View(ml, set, faceVariant, test)));
            var (acc, f1) = AudioCnnExperiment.Accumulate(ml, scored, confusion, scores, test.Select(i => clips[i].Path).ToArray());
            foldResults.Add(new FoldResult(testSpeakers, acc, f1, test.Length) { ValidationAccuracy = validationAccuracy });
            log?.Report($"  {name}: fold {foldResults.Count}/{folds} (speaker {string.Join(" ", testSpeakers)}) accuracy {acc:P1}");
        }
        var result = new CrossValidationResult(name, classes, foldResults, confusion);
        result.Scores.AddRange(scores);
        return result;
    }

    /// <summary>
    /// The linear-probe baseline of a head configuration: per clip the mean of the face features over real frames and/or
    /// the mean of the audio features over real positions, standardised (ML.NET's NormalizeMeanVariance, fitted on the
    /// training folds) and classified by ML.NET's L-BFGS maximum-entropy trainer, per speaker-independent fold. A head that
    /// scores below it is losing what a linear model finds in its own inputs. Each fold's validation accuracy is the probe
    /// fitted without the held-out training speakers the head's early stopping uses (same seed, same speakers), scored on them.
    /// </summary>
    public static CrossValidationResult Probe(MLContext ml, FusionFeatureSet set, string? faceVariant, bool audio, int folds, string name,
        double validationFraction = 0, int seed = 0, float l2 = 1f, IProgress<string>? log = null)
    {
        var clips = set.Clips;
        if (set.Failures.Any(f => clips.Contains(f.Clip)))
            throw new InvalidOperationException("The feature set still holds clips that failed; run on set.WithoutFailures().");
        if (faceVariant == null && !audio) throw new ArgumentException("A probe needs the face, the audio or both.");
        var pooled = clips.Select((_, i) =>
        {
            var parts = new List<float>();
            if (faceVariant != null) { var (v, d) = set.Face[faceVariant]; parts.AddRange(MaskedMean(v[i], set.FrameMask[i], d)); }
            if (audio) parts.AddRange(MaskedMean(set.Audio![i], set.AudioMask![i], set.AudioShape.Dim));
            return parts.ToArray();
        }).ToArray();
        var dim = pooled[0].Length;
        IDataView View(IEnumerable<int> rows) => InMemoryColumns.Add(
            ml.Data.LoadFromEnumerable(rows.Select(i => new ClipRow { VideoPath = clips[i].Path, Label = clips[i].Label, Speaker = clips[i].Speaker, Row = i }).ToList()),
            "Row", new InMemoryColumns.Column("Features", pooled, [dim]));
        var classes = clips.Select(c => c.Label).Distinct().OrderBy(c => c, StringComparer.Ordinal).ToArray();
        var toKey = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(View(Enumerable.Range(0, clips.Count)));
        var probe = ml.Transforms.NormalizeMeanVariance("Features")
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy("Label", "Features", l2Regularization: l2));
        var confusion = new long[classes.Length, classes.Length];
        var foldResults = new List<FoldResult>();
        var scores = new List<(string, int, float[])>();
        foreach (var (testSpeakers, test, train) in ClipManifest.FoldRows(clips, folds))
        {
            var validationAccuracy = double.NaN;
            var held = HeldOutSpeakers(train.Select(i => clips[i].Speaker), validationFraction, seed);
            if (held.Count > 0)
            {
                var fit = probe.Fit(toKey.Transform(View(train.Where(i => !held.Contains(clips[i].Speaker)))));
                validationAccuracy = ml.MulticlassClassification.Evaluate(fit.Transform(toKey.Transform(View(train.Where(i => held.Contains(clips[i].Speaker)))))).MicroAccuracy;
            }
            var model = probe.Fit(toKey.Transform(View(train)));
            var (acc, f1) = AudioCnnExperiment.Accumulate(ml, model.Transform(toKey.Transform(View(test))), confusion, scores, test.Select(i => clips[i].Path).ToArray());
            foldResults.Add(new FoldResult(testSpeakers, acc, f1, test.Length) { ValidationAccuracy = validationAccuracy });
            log?.Report($"  {name}: fold {foldResults.Count}/{folds} (speaker {string.Join(" ", testSpeakers)}) accuracy {acc:P1}");
        }
        var result = new CrossValidationResult(name, classes, foldResults, confusion);
        result.Scores.AddRange(scores);
        return result;
    }

    /// <summary>The speakers a trainer's validation split holds out of these training speakers (the same rule and seed as the TorchSharp trainers').</summary>
    internal static HashSet<string> HeldOutSpeakers(IEnumerable<string> speakers, double fraction, int seed)
    {
        if (fraction <= 0) return [];
        var distinct = speakers.Distinct().OrderBy(g => g, StringComparer.Ordinal).ToArray();
        if (distinct.Length < 2) return [];
        var rng = new Random(seed);
        var shuffled = distinct.OrderBy(_ => rng.Next()).ToArray();
        var count = Math.Clamp((int)Math.Round(shuffled.Length * fraction), 1, shuffled.Length - 1);
        return shuffled.Take(count).ToHashSet();
    }

    private static float[] MaskedMean(float[] values, float[] mask, int d)
    {
        var mean = new float[d];
        var n = 0;
        for (var i = 0; i < mask.Length; i++)
        {
            if (mask[i] <= 0.5f) continue;
            n++;
            for (var j = 0; j < d; j++) mean[j] += values[i * d + j];
        }
        for (var j = 0; j < d; j++) mean[j] /= Math.Max(1, n);
        return mean;
    }

    /// <summary>Score-level ensemble of CV results (same clips): mean of the members' scores, optionally re-weighted per class.</summary>
    public static CrossValidationResult Ensemble(string name, IReadOnlyList<CrossValidationResult> members, IReadOnlyList<ClipRecord> clips, double[]? classWeights, int folds)
    {
        var classes = members[0].Classes;
        var byPath = members.Select(m => m.Scores.ToDictionary(s => s.Path)).ToList();
        var confusion = new long[classes.Length, classes.Length];
        var foldResults = new List<FoldResult>();
        var result = new List<(string, int, float[])>();
        foreach (var testSpeakers in ClipManifest.SpeakerFolds(clips, folds))
        {
            var fold = new long[classes.Length, classes.Length];
            var test = clips.Where(c => testSpeakers.Contains(c.Speaker)).ToList();
            foreach (var c in test)
            {
                var label = byPath[0][c.Path].Item2;
                var combined = Ensembles.ScoreEnsembleTransformer.Combine(byPath.Select(d => d[c.Path].Item3).ToList(), null, classWeights);
                var predicted = Array.IndexOf(combined, combined.Max());
                fold[label, predicted]++;
                confusion[label, predicted]++;
                result.Add((c.Path, label, combined));
            }
            var (acc, f1) = CrossValidationResult.Metrics(fold);
            foldResults.Add(new FoldResult(testSpeakers, acc, f1, test.Count));
        }
        var cv = new CrossValidationResult(name, classes, foldResults, confusion);
        cv.Scores.AddRange(result);
        return cv;
    }

    /// <summary>The head's input view of <paramref name="rows"/>: VideoPath, Label, Speaker, Row and the feature and mask columns.</summary>
    internal static IDataView View(MLContext ml, FusionFeatureSet set, string faceVariant, IEnumerable<int> rows)
    {
        var data = ml.Data.LoadFromEnumerable(rows.Select(i => new ClipRow { VideoPath = set.Clips[i].Path, Label = set.Clips[i].Label, Speaker = set.Clips[i].Speaker, Row = i }).ToList());
        var columns = new List<InMemoryColumns.Column>();
        if (set.Face.TryGetValue(faceVariant, out var face))
        {
            columns.Add(new("FaceFeatures", face.Values, [set.Frames, face.Dim]));
            columns.Add(new("FrameMask", set.FrameMask, [set.Frames]));
        }
        if (set.Audio != null)
        {
            columns.Add(new("AudioFeatures", set.Audio, [set.AudioShape.Positions, set.AudioShape.Dim]));
            columns.Add(new("AudioMask", set.AudioMask!, [set.AudioShape.Positions]));
        }
        return InMemoryColumns.Add(data, "Row", columns.ToArray());
    }
}
