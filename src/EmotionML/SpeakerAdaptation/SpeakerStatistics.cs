using EmotionML.Core;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EmotionML.SpeakerAdaptation;

/// <summary>
/// Sizes of the feature sets a speaker normalisation stage was fitted on: frames × D of the face, positions × C of the
/// audio (0 × 0 for a modality left out). Saved with the stage.
/// </summary>
internal sealed class SpeakerFeatureShape
{
    public int FaceFrames { get; set; }
    public int FaceDim { get; set; }
    public int AudioPositions { get; set; }
    public int AudioDim { get; set; }

    public void Validate()
    {
        if (FaceFrames < 0 || FaceDim < 0 || AudioPositions < 0 || AudioDim < 0) throw new ArgumentOutOfRangeException(nameof(FaceFrames), "Sizes must not be negative.");
        if ((FaceFrames > 0) != (FaceDim > 0) || (AudioPositions > 0) != (AudioDim > 0)) throw new ArgumentException("Each used modality needs both its item count and its dimension.");
        if (FaceFrames == 0 && AudioPositions == 0) throw new ArgumentException("The stage needs face or audio features.");
    }
}

/// <summary>
/// One speaker's per-dimension mean and standard deviation of the face features over the real frames of their clips,
/// and of the audio features over the real audio positions (population std). Computed without labels.
/// </summary>
internal sealed class SpeakerStatistics
{
    public string Speaker { get; set; } = "";

    /// <summary>Clips the statistics come from.</summary>
    public int Clips { get; set; }

    /// <summary>Samples the face statistics come from: real frames, or clips with a real frame at the clip-mean level (0: none, the face is left as it is).</summary>
    public int FaceFrames { get; set; }

    public float[] FaceMean { get; set; } = [];
    public float[] FaceStd { get; set; } = [];

    /// <summary>Samples the audio statistics come from: real positions, or clips at the clip-mean level (0: none, the audio is left as it is).</summary>
    public int AudioPositions { get; set; }

    public float[] AudioMean { get; set; } = [];
    public float[] AudioStd { get; set; } = [];

    public void Validate(SpeakerFeatureShape shape)
    {
        if (string.IsNullOrEmpty(Speaker)) throw new ArgumentException("A speaker's statistics need the speaker's name.", nameof(Speaker));
        if (Clips < 1 || FaceFrames < 0 || AudioPositions < 0) throw new ArgumentOutOfRangeException(nameof(Clips), $"Speaker '{Speaker}': counts out of range.");
        if (FaceMean.Length != shape.FaceDim || FaceStd.Length != shape.FaceDim || AudioMean.Length != shape.AudioDim || AudioStd.Length != shape.AudioDim)
            throw new ArgumentException($"Speaker '{Speaker}': statistics of {FaceMean.Length}/{AudioMean.Length} dimensions for features of {shape.FaceDim}/{shape.AudioDim}.");
        if (FaceMean.Concat(FaceStd).Concat(AudioMean).Concat(AudioStd).Any(v => !float.IsFinite(v)) || FaceStd.Concat(AudioStd).Any(v => v < 0))
            throw new ArgumentException($"Speaker '{Speaker}': statistics must be finite, standard deviations non-negative.");
    }
}

/// <summary>Reads a view's speaker, feature and mask columns and accumulates each speaker's statistics.</summary>
internal static class SpeakerStatisticsReader
{
    /// <summary>The speakers of <paramref name="data"/>, with their clip counts (reads only the speaker column).</summary>
    public static Dictionary<string, int> Speakers(IDataView data, int speakerColumn)
    {
        var column = data.Schema[speakerColumn];
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        using var cursor = data.GetRowCursor([column]);
        var getter = cursor.GetGetter<ReadOnlyMemory<char>>(column);
        ReadOnlyMemory<char> value = default;
        while (cursor.MoveNext())
        {
            getter(ref value);
            var speaker = Checked(value, cursor.Position, column.Name);
            counts[speaker] = counts.GetValueOrDefault(speaker) + 1;
        }
        return counts;
    }

    /// <summary>
    /// Statistics of the speakers of <paramref name="data"/> for which <paramref name="wanted"/> is true (all when null).
    /// </summary>
    /// <exception cref="InvalidInputException">A speaker has fewer clips than <see cref="SpeakerNormalizationOptions.MinClipsPerSpeaker"/>, a speaker is empty, or a feature is not finite.</exception>
    public static Dictionary<string, SpeakerStatistics> Compute(IDataView data, SpeakerColumns columns, SpeakerFeatureShape shape, SpeakerNormalizationOptions options, Func<string, bool>? wanted = null)
    {
        var needed = new List<DataViewSchema.Column> { data.Schema[columns.Speaker] };
        if (columns.Face >= 0) { needed.Add(data.Schema[columns.Face]); needed.Add(data.Schema[columns.FaceMask]); }
        if (columns.Audio >= 0) { needed.Add(data.Schema[columns.Audio]); needed.Add(data.Schema[columns.AudioMask]); }
        var sums = new Dictionary<string, Accumulator>(StringComparer.Ordinal);
        using var cursor = data.GetRowCursor(needed);
        var speakerGetter = cursor.GetGetter<ReadOnlyMemory<char>>(needed[0]);
        ValueGetter<VBuffer<float>>? face = null, faceMask = null, audio = null, audioMask = null;
        if (columns.Face >= 0) { face = cursor.GetGetter<VBuffer<float>>(data.Schema[columns.Face]); faceMask = cursor.GetGetter<VBuffer<float>>(data.Schema[columns.FaceMask]); }
        if (columns.Audio >= 0) { audio = cursor.GetGetter<VBuffer<float>>(data.Schema[columns.Audio]); audioMask = cursor.GetGetter<VBuffer<float>>(data.Schema[columns.AudioMask]); }
        ReadOnlyMemory<char> name = default;
        VBuffer<float> b1 = default, b2 = default, b3 = default, b4 = default;
        while (cursor.MoveNext())
        {
            speakerGetter(ref name);
            var speaker = Checked(name, cursor.Position, needed[0].Name);
            if (wanted != null && !wanted(speaker)) continue;
            if (!sums.TryGetValue(speaker, out var acc)) sums[speaker] = acc = new Accumulator(shape.FaceDim, shape.AudioDim);
            acc.Clips++;
            var clipMeans = options.Statistics == SpeakerStatisticsLevel.ClipMeans;
            if (face != null)
                acc.Face.Add(Dense(face, ref b1), Dense(faceMask!, ref b2), shape.FaceFrames, shape.FaceDim, options.FaceFeaturesColumnName!, clipMeans);
            if (audio != null)
                acc.Audio.Add(Dense(audio, ref b3), Dense(audioMask!, ref b4), shape.AudioPositions, shape.AudioDim, options.AudioFeaturesColumnName!, clipMeans);
        }
        var result = new Dictionary<string, SpeakerStatistics>(StringComparer.Ordinal);
        foreach (var (speaker, acc) in sums)
        {
            if (acc.Clips < options.MinClipsPerSpeaker)
                throw new InvalidInputException($"Speaker '{speaker}' has {acc.Clips} clip{(acc.Clips == 1 ? "" : "s")}; speaker normalisation needs at least {options.MinClipsPerSpeaker} (MinClipsPerSpeaker) to estimate a speaker's statistics.");
            var (faceMean, faceStd) = acc.Face.Result();
            var (audioMean, audioStd) = acc.Audio.Result();
            result[speaker] = new SpeakerStatistics
            {
                Speaker = speaker, Clips = acc.Clips,
                FaceFrames = (int)acc.Face.Count, FaceMean = faceMean, FaceStd = faceStd,
                AudioPositions = (int)acc.Audio.Count, AudioMean = audioMean, AudioStd = audioStd,
            };
        }
        return result;
    }

    private static string Checked(ReadOnlyMemory<char> value, long row, string column)
    {
        var speaker = value.ToString();
        if (string.IsNullOrWhiteSpace(speaker))
            throw new InvalidInputException($"Row {row} has no speaker (column '{column}' is empty): speaker normalisation needs the speaker of every clip.");
        return speaker;
    }

    private static ReadOnlySpan<float> Dense(ValueGetter<VBuffer<float>> getter, ref VBuffer<float> buffer)
    {
        getter(ref buffer);
        if (!buffer.IsDense)
        {
            var dense = new float[buffer.Length];
            buffer.CopyTo(dense);
            return dense;
        }
        return buffer.GetValues();
    }

    private sealed class Accumulator(int faceDim, int audioDim)
    {
        public int Clips;
        public Moments Face { get; } = new(faceDim);
        public Moments Audio { get; } = new(audioDim);
    }

    /// <summary>Per-dimension sums over the real items (mask ≠ 0) of a [n, d] feature set.</summary>
    private sealed class Moments(int d)
    {
        private readonly double[] _sum = new double[d], _squares = new double[d];

        public long Count { get; private set; }

        /// <summary>Adds the real items of one clip, or with <paramref name="clipMean"/> their mean as one sample.</summary>
        public void Add(ReadOnlySpan<float> values, ReadOnlySpan<float> mask, int n, int dim, string column, bool clipMean)
        {
            var mean = clipMean ? new double[dim] : null;
            var real = 0;
            for (var t = 0; t < n; t++)
            {
                if (mask[t] == 0) continue;
                var item = values.Slice(t * dim, dim);
                OnnxGraph.CheckFinite(item, column);
                real++;
                if (mean != null)
                {
                    for (var j = 0; j < dim; j++) mean[j] += item[j];
                    continue;
                }
                for (var j = 0; j < dim; j++)
                {
                    double v = item[j];
                    _sum[j] += v;
                    _squares[j] += v * v;
                }
                Count++;
            }
            if (mean == null || real == 0) return;
            for (var j = 0; j < dim; j++)
            {
                var v = mean[j] / real;
                _sum[j] += v;
                _squares[j] += v * v;
            }
            Count++;
        }

        public (float[] Mean, float[] Std) Result()
        {
            var mean = new float[d];
            var std = new float[d];
            if (Count == 0) return (mean, std);
            for (var j = 0; j < d; j++)
            {
                var m = _sum[j] / Count;
                mean[j] = (float)m;
                std[j] = (float)Math.Sqrt(Math.Max(0, _squares[j] / Count - m * m));
            }
            return (mean, std);
        }
    }
}

/// <summary>Indices of the stage's input columns in one schema (−1 for a modality left out).</summary>
internal sealed record SpeakerColumns(int Speaker, int Face, int FaceMask, int Audio, int AudioMask);
