using EmotionML.VideoInput;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EmotionML.Experiments;

/// <summary>
/// Runs one audio stage (spectrogram, acoustic functionals) over a list of clips, the audio decoded by
/// <c>LoadVideo</c> without video: two decoders at once (decoding is mostly ffmpeg process start-up), progress once per
/// clip, and a clip that fails with a typed error listed in the failures with an all-zero row while the others go on.
/// </summary>
internal static class AudioClipBatch
{
    /// <summary>
    /// The <paramref name="valuesColumn"/> vector and <paramref name="countColumn"/> Int32 of every clip, rows in clip
    /// order; <paramref name="stage"/> makes the stage (one per part, so no estimator is shared between threads).
    /// </summary>
    public static (float[][] Values, int[] Counts) Compute(MLContext ml, IReadOnlyList<ClipRecord> clips, Func<IEstimator<ITransformer>> stage, string valuesColumn, string countColumn,
        int failedLength, IProgress<int>? progress, List<ClipFailure> failures)
    {
        var values = new float[clips.Count][];
        var counts = new int[clips.Count];
        var done = 0;
        Parallel.ForEach(Enumerable.Range(0, clips.Count).Chunk(Math.Max(1, clips.Count / 8)), new ParallelOptions { MaxDegreeOfParallelism = 2 }, chunk =>
        {
            var data = ml.Data.LoadFromEnumerable(chunk.Select(i => new ClipRow { VideoPath = clips[i].Path, Label = clips[i].Label, Speaker = clips[i].Speaker, Row = i }).ToList());
            var transformed = ml.Transforms.LoadVideo(new VideoInputOptions { DecodeVideo = false }).Append(stage()).Fit(data).Transform(data);
            using var cursor = transformed.GetRowCursor([transformed.Schema[valuesColumn], transformed.Schema[countColumn]]);
            var getter = cursor.GetGetter<VBuffer<float>>(transformed.Schema[valuesColumn]);
            var countGetter = cursor.GetGetter<int>(transformed.Schema[countColumn]);
            VBuffer<float> buffer = default;
            var j = 0;
            while (cursor.MoveNext())
            {
                var i = chunk[j++];
                try
                {
                    getter(ref buffer);
                    var n = 0;
                    countGetter(ref n);
                    (values[i], counts[i]) = (buffer.DenseValues().ToArray(), n);
                }
                catch (Exception e) when (ClipFailure.Typed(e) is { } typed)
                {
                    lock (failures) failures.Add(new ClipFailure(clips[i], typed));
                    (values[i], counts[i]) = (new float[failedLength], 0);
                }
                // Progress once per clip (the count done so far), not once per part.
                progress?.Report(Interlocked.Increment(ref done));
            }
        });
        return (values, counts);
    }
}
