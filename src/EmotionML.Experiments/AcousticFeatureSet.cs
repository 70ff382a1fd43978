using EmotionML.AcousticFeatures;
using EmotionML.VideoInput;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EmotionML.Experiments;

/// <summary>
/// The acoustic functionals (<see cref="AcousticFeaturesEstimator"/>) of a list of clips, cached like the
/// spectrograms, and their place in a <see cref="FusionFeatureSet"/>: as its audio features when it has none, or joined
/// to every audio position of the audio CNN's features.
/// </summary>
internal static class AcousticFeatureSet
{
    // The settings that change the values (not the column names): naming an output does not recompute the cache.
    private static readonly string Key = Settings(new AcousticFeaturesOptions());

    internal static string Settings(AcousticFeaturesOptions o) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"v1|names={AcousticFeatureNames.Count}|rate={o.SampleRate}|pitch={o.PitchFloor}-{o.PitchCeiling}|voicing={o.VoicingThreshold}|range={o.ActivityRangeDb}");

    /// <summary>
    /// The functionals and active-frame counts of <paramref name="clips"/>; a clip that cannot be decoded is listed in
    /// Failures (its row is zero, nothing is cached).
    /// </summary>
    public static (float[][] Values, int[] ActiveFrames, List<ClipFailure> Failures) Compute(MLContext ml, IReadOnlyList<ClipRecord> clips, IProgress<int>? progress = null)
    {
        var values = FeatureArrayCache.TryGet("acoustic", clips, Key);
        var active = FeatureArrayCache.TryGet("acoustic", clips, Key + "|active-frames");
        var failures = new List<ClipFailure>();
        if (values != null && active != null) return (values, active.Select(a => (int)a[0]).ToArray(), failures);
        values = new float[clips.Count][];
        var counts = new int[clips.Count];
        var done = 0;
        // Two decoders at once: decoding is mostly ffmpeg process start-up.
        Parallel.ForEach(Enumerable.Range(0, clips.Count).Chunk(Math.Max(1, clips.Count / 8)), new ParallelOptions { MaxDegreeOfParallelism = 2 }, chunk =>
        {
            var data = ml.Data.LoadFromEnumerable(chunk.Select(i => new ClipRow { VideoPath = clips[i].Path, Label = clips[i].Label, Speaker = clips[i].Speaker, Row = i }).ToList());
            var transformed = ml.Transforms.LoadVideo(new VideoInputOptions { DecodeVideo = false }).Append(ml.Transforms.ExtractAcousticFeatures()).Fit(data).Transform(data);
            using var cursor = transformed.GetRowCursor([transformed.Schema["AcousticFeatures"], transformed.Schema["AcousticFrames"]]);
            var getter = cursor.GetGetter<VBuffer<float>>(transformed.Schema["AcousticFeatures"]);
            var framesGetter = cursor.GetGetter<int>(transformed.Schema["AcousticFrames"]);
            VBuffer<float> buffer = default;
            var j = 0;
            while (cursor.MoveNext())
            {
                var i = chunk[j++];
                try
                {
                    getter(ref buffer);
                    var n = 0;
                    framesGetter(ref n);
                    (values[i], counts[i]) = (buffer.DenseValues().ToArray(), n);
                }
                catch (Exception e) when (ClipFailure.Typed(e) is { } typed)
                {
                    lock (failures) failures.Add(new ClipFailure(clips[i], typed));
                    (values[i], counts[i]) = (new float[AcousticFeatureNames.Count], 0);
                }
                progress?.Report(Interlocked.Increment(ref done));
            }
        });
        if (failures.Count == 0)
        {
            FeatureArrayCache.Put("acoustic", clips, Key, values);
            FeatureArrayCache.Put("acoustic", clips, Key + "|active-frames", counts.Select(c => new float[] { c }).ToArray());
        }
        var order = clips.Select((c, i) => (c.Path, i)).ToDictionary(p => p.Path, p => p.i, StringComparer.Ordinal);
        return (values, counts, failures.OrderBy(f => order[f.Clip.Path]).ToList());
    }

    /// <summary>
    /// Adds the functionals to <paramref name="set"/>: as its audio features (one position, masked out for a clip without
    /// active frames) when it has none, or appended to each of its audio positions, so that the clip mean over real
    /// positions is [audio CNN mean; functionals]. Failed clips join <see cref="FusionFeatureSet.Failures"/>.
    /// </summary>
    public static void Add(MLContext ml, FusionFeatureSet set, IProgress<int>? progress = null)
    {
        var (values, active, failures) = Compute(ml, set.Clips, progress);
        set.Failures.AddRange(failures.Where(f => set.Failures.All(g => g.Clip.Path != f.Clip.Path)));
        var d = AcousticFeatureNames.Count;
        if (set.Audio == null)
        {
            set.Audio = values;
            set.AudioMask = active.Select(a => new float[] { a > 0 ? 1 : 0 }).ToArray();
            set.AudioShape = (1, d);
            return;
        }
        var (positions, dim) = set.AudioShape;
        set.Audio = set.Audio.Select((audio, c) =>
        {
            var row = new float[positions * (dim + d)];
            for (var p = 0; p < positions; p++)
            {
                Array.Copy(audio, p * dim, row, p * (dim + d), dim);
                Array.Copy(values[c], 0, row, p * (dim + d) + dim, d);
            }
            return row;
        }).ToArray();
        set.AudioShape = (positions, dim + d);
    }
}
