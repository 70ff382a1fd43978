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
        $"v{AcousticFeatureExtractor.AlgorithmVersion}|names={AcousticFeatureNames.Count}|rate={o.SampleRate}|pitch={o.PitchFloor}-{o.PitchCeiling}|voicing={o.VoicingThreshold}|range={o.ActivityRangeDb}");

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
        (values, var counts) = AudioClipBatch.Compute(ml, clips, () => ml.Transforms.ExtractAcousticFeatures(), "AcousticFeatures", "AcousticFrames",
            AcousticFeatureNames.Count, progress, failures);
        if (failures.Count == 0)
        {
            FeatureArrayCache.Put("acoustic", clips, Key, values);
            FeatureArrayCache.Put("acoustic", clips, Key + "|active-frames", counts.Select(c => new float[] { c }).ToArray());
        }
        // By clip, not by path: a manifest may list one file twice.
        var order = new Dictionary<ClipRecord, int>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < clips.Count; i++) order.TryAdd(clips[i], i);
        return (values, counts, failures.OrderBy(f => order[f.Clip]).ToList());
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
