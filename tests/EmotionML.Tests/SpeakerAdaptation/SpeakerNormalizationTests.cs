using EmotionML.SpeakerAdaptation;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace EmotionML.Tests.SpeakerAdaptation;

/// <summary>
/// The speaker normalisation stage against a direct computation of each speaker's mean and std over real frames and
/// positions; where statistics come from (fit, the data transformed, calibration); the typed errors and fallbacks.
/// </summary>
public sealed class SpeakerNormalizationTests
{
    internal const int Frames = 3, FaceDim = 2, Positions = 2, AudioDim = 2;

    internal sealed class Clip
    {
        public string Speaker { get; set; } = "";
        [VectorType(Frames * FaceDim)] public float[] FaceFeatures { get; set; } = [];
        [VectorType(Frames)] public float[] FrameMask { get; set; } = [];
        [VectorType(Positions * AudioDim)] public float[] AudioFeatures { get; set; } = [];
        [VectorType(Positions)] public float[] AudioMask { get; set; } = [];
        public float Number { get; set; } = 1;
    }

    private readonly MLContext _ml = new(seed: 1);

    /// <summary>Deterministic clips; the last frame of odd clips and the second audio position of every third clip are padding (value 99, mask 0).</summary>
    internal static List<Clip> Clips(string speaker, int count, float offset)
    {
        var clips = new List<Clip>();
        for (var c = 0; c < count; c++)
        {
            var face = new float[Frames * FaceDim];
            var mask = new float[Frames];
            for (var t = 0; t < Frames; t++)
            {
                mask[t] = c % 2 == 1 && t == Frames - 1 ? 0 : 1;
                for (var j = 0; j < FaceDim; j++)
                    face[t * FaceDim + j] = mask[t] == 0 ? 99 : offset + (j + 1) * MathF.Sin(1.3f * c + 0.7f * t + j) * (1 + 0.5f * j);
            }
            var audio = new float[Positions * AudioDim];
            var audioMask = new float[Positions];
            for (var p = 0; p < Positions; p++)
            {
                audioMask[p] = c % 3 == 2 && p == 1 ? 0 : 1;
                for (var j = 0; j < AudioDim; j++)
                    audio[p * AudioDim + j] = audioMask[p] == 0 ? 99 : 2 * offset + MathF.Cos(0.9f * c + 1.1f * p + 2 * j) * (j + 2);
            }
            clips.Add(new Clip { Speaker = speaker, FaceFeatures = face, FrameMask = mask, AudioFeatures = audio, AudioMask = audioMask });
        }
        return clips;
    }

    /// <summary>The reference: (x − mean) / std per dimension over the real items of <paramref name="statsFrom"/>, applied to the real items of <paramref name="clip"/>.</summary>
    private static (double[] Face, double[] Audio) Expected(Clip clip, IReadOnlyList<Clip> statsFrom)
    {
        static double[] Apply(float[] x, float[] mask, int d, IEnumerable<(float[] X, float[] Mask)> source)
        {
            var items = source.SelectMany(s => Enumerable.Range(0, s.Mask.Length).Where(t => s.Mask[t] != 0).Select(t => s.X.Skip(t * d).Take(d).Select(v => (double)v).ToArray())).ToList();
            var mean = Enumerable.Range(0, d).Select(j => items.Average(i => i[j])).ToArray();
            var std = Enumerable.Range(0, d).Select(j => Math.Sqrt(items.Average(i => (i[j] - mean[j]) * (i[j] - mean[j])))).ToArray();
            return x.Select((v, k) => mask[k / d] == 0 ? v : std[k % d] >= 1e-6 ? (v - mean[k % d]) / std[k % d] : 0).ToArray();
        }
        return (Apply(clip.FaceFeatures, clip.FrameMask, FaceDim, statsFrom.Select(s => (s.FaceFeatures, s.FrameMask))),
            Apply(clip.AudioFeatures, clip.AudioMask, AudioDim, statsFrom.Select(s => (s.AudioFeatures, s.AudioMask))));
    }

    private static void Close(double[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4, $"index {i}: expected {expected[i]}, got {actual[i]}");
    }

    private IDataView Load(IEnumerable<Clip> clips) => _ml.Data.LoadFromEnumerable(clips.ToList());

    private void AssertNormalized(IDataView transformed, IReadOnlyList<Clip> clips, Func<Clip, IReadOnlyList<Clip>> statsFrom)
    {
        var face = transformed.GetColumn<float[]>("FaceFeatures").ToList();
        var audio = transformed.GetColumn<float[]>("AudioFeatures").ToList();
        Assert.Equal(clips.Count, face.Count);
        for (var i = 0; i < clips.Count; i++)
        {
            var (f, a) = Expected(clips[i], statsFrom(clips[i]));
            Close(f, face[i]);
            Close(a, audio[i]);
        }
    }

    [Fact]
    public void EachSpeakerIsStandardisedByItsOwnRealFramesAndPositions()
    {
        var train = Clips("A", 4, 0).Concat(Clips("B", 5, 10)).ToList();
        var stage = _ml.Transforms.NormalizeBySpeaker().Fit(Load(train));
        Assert.Equal(["A", "B"], stage.Speakers);
        AssertNormalized(stage.Transform(Load(train)), train, c => train.Where(x => x.Speaker == c.Speaker).ToList());
        // Padding is passed through unchanged.
        Assert.Equal(99, stage.Transform(Load(train)).GetColumn<float[]>("FaceFeatures").ElementAt(1)[(Frames - 1) * FaceDim]);
    }

    [Fact]
    public void ANewSpeakerGetsStatisticsFromTheDataBeingTransformedAndAHeldOneKeepsItsOwn()
    {
        var stage = _ml.Transforms.NormalizeBySpeaker().Fit(Load(Clips("A", 4, 0)));
        var a = Clips("A", 4, 0);
        var c = Clips("C", 3, -5);
        // A's clips shifted by 3: A is normalised with its fitted statistics, so the shift stays in the output.
        var shiftedA = Clips("A", 2, 3);
        var data = c.Concat(shiftedA).ToList();
        AssertNormalized(stage.Transform(Load(data)), data, x => x.Speaker == "C" ? c : a);
        Assert.Equal(["A"], stage.Speakers);
    }

    [Fact]
    public void CalibrationClipsGiveTheStatisticsOfAHeldSpeaker()
    {
        var stage = _ml.Transforms.NormalizeBySpeaker().Fit(Load(Clips("A", 4, 0)));
        var calibration = Clips("P", 3, 7);
        var calibrated = stage.WithSpeakerStatistics(Load(calibration));
        Assert.Equal(["A", "P"], calibrated.Speakers);
        Assert.Equal(["A"], stage.Speakers);
        var other = Clips("P", 6, 8).Skip(3).ToList();
        AssertNormalized(calibrated.Transform(Load(other)), other, _ => calibration);

        // The row-at-a-time path (prediction engines) uses held statistics only.
        var engine = _ml.Model.CreatePredictionEngine<Clip, Clip>(calibrated);
        var one = engine.Predict(other[0]);
        Close(Expected(other[0], calibration).Face, one.FaceFeatures);
        var unknown = _ml.Model.CreatePredictionEngine<Clip, Clip>(stage);
        var e = Assert.Throws<InvalidInputException>(() => unknown.Predict(other[0]));
        Assert.Equal("Speaker 'P' has no statistics in the speaker normalisation stage: transform a batch that holds the speaker's clips, or add them first (WithSpeakerStatistics, EmotionPredictionEngine.Calibrate).", e.Message);
    }

    [Fact]
    public void WithoutASpeakerColumnTheEstimatorAndTheTransformerGiveTheSchemaError()
    {
        var data = Load(Clips("A", 3, 0));
        var stage = _ml.Transforms.NormalizeBySpeaker().Fit(data);
        var noSpeaker = _ml.Transforms.DropColumns("Speaker").Fit(data).Transform(data);
        const string expected = "Schema mismatch for input column 'Speaker' (speaker): expected a scalar of String, got no such column. (Parameter 'inputSchema')";
        Assert.Equal(expected, Assert.Throws<ArgumentOutOfRangeException>(() => _ml.Transforms.NormalizeBySpeaker().Fit(noSpeaker)).Message);
        Assert.Equal(expected, Assert.Throws<ArgumentOutOfRangeException>(() => stage.Transform(noSpeaker)).Message);
        Assert.Equal(expected, Assert.Throws<ArgumentOutOfRangeException>(() => stage.GetOutputSchema(noSpeaker.Schema)).Message);
    }

    [Fact]
    public void ASpeakerWithOneClipIsATypedErrorUnlessAllowed()
    {
        var data = Load(Clips("A", 3, 0).Concat(Clips("Solo", 1, 4)));
        const string expected = "Speaker 'Solo' has 1 clip; speaker normalisation needs at least 2 (MinClipsPerSpeaker) to estimate a speaker's statistics.";
        Assert.Equal(expected, Assert.Throws<InvalidInputException>(() => _ml.Transforms.NormalizeBySpeaker().Fit(data)).Message);
        var stage = _ml.Transforms.NormalizeBySpeaker().Fit(Load(Clips("A", 3, 0)));
        Assert.Equal(expected, Assert.Throws<InvalidInputException>(() => stage.Transform(data)).Message);
        Assert.Equal(expected, Assert.Throws<InvalidInputException>(() => stage.WithSpeakerStatistics(Load(Clips("Solo", 1, 4)))).Message);

        // Allowed explicitly: the one clip's own frames give the statistics.
        var solo = Clips("Solo", 1, 4);
        var allowed = _ml.Transforms.NormalizeBySpeaker(new SpeakerNormalizationOptions { MinClipsPerSpeaker = 1 }).Fit(Load(solo));
        AssertNormalized(allowed.Transform(Load(solo)), solo, _ => solo);
    }

    [Fact]
    public void AConstantDimensionBecomesZero()
    {
        var clips = Clips("A", 4, 0);
        foreach (var c in clips)
            for (var t = 0; t < Frames; t++)
                if (c.FrameMask[t] != 0) c.FaceFeatures[t * FaceDim + 1] = 1e-3f + 1e-9f * t; // dimension 1 nearly constant: std below MinStd
        var out_ = _ml.Transforms.NormalizeBySpeaker().Fit(Load(clips)).Transform(Load(clips)).GetColumn<float[]>("FaceFeatures").ToList();
        for (var i = 0; i < clips.Count; i++)
            for (var t = 0; t < Frames; t++)
                if (clips[i].FrameMask[t] != 0)
                {
                    Assert.Equal(0f, out_[i][t * FaceDim + 1]);
                    Assert.True(float.IsFinite(out_[i][t * FaceDim]));
                }
        AssertNormalized(_ml.Transforms.NormalizeBySpeaker().Fit(Load(clips)).Transform(Load(clips)), clips, _ => clips);
    }

    [Fact]
    public void AnEmptySpeakerAndNonFiniteFeaturesAreTypedErrors()
    {
        var clips = Clips("A", 3, 0);
        clips[1].Speaker = "";
        Assert.Equal("Row 1 has no speaker (column 'Speaker' is empty): speaker normalisation needs the speaker of every clip.",
            Assert.Throws<InvalidInputException>(() => _ml.Transforms.NormalizeBySpeaker().Fit(Load(clips))).Message);
        clips[1].Speaker = "A";
        clips[2].FaceFeatures[0] = float.NaN;
        Assert.Equal("Column 'FaceFeatures' holds NaN at index 0: features must be finite.",
            Assert.Throws<InvalidInputException>(() => _ml.Transforms.NormalizeBySpeaker().Fit(Load(clips))).Message);
    }

    [Fact]
    public void FaceOnlyLeavesTheAudioAloneAndSavesAndLoads()
    {
        var clips = Clips("A", 3, 0).Concat(Clips("B", 3, 1)).ToList();
        var stage = _ml.Transforms.NormalizeBySpeaker(new SpeakerNormalizationOptions { AudioFeaturesColumnName = null, FaceOutputColumnName = "Adapted" }).Fit(Load(clips));
        var transformed = stage.Transform(Load(clips));
        Assert.Equal(clips.Select(c => c.AudioFeatures), transformed.GetColumn<float[]>("AudioFeatures"));
        Assert.Equal(clips.Select(c => c.FaceFeatures), transformed.GetColumn<float[]>("FaceFeatures"));
        var adapted = transformed.GetColumn<float[]>("Adapted").ToList();
        for (var i = 0; i < clips.Count; i++) Close(Expected(clips[i], clips.Where(c => c.Speaker == clips[i].Speaker).ToList()).Face, adapted[i]);

        using var stream = new MemoryStream();
        _ml.Model.Save(stage, Load(clips).Schema, stream);
        stream.Position = 0;
        var loaded = (SpeakerNormalizationTransformer)_ml.Model.Load(stream, out _);
        Assert.Equal(["A", "B"], loaded.Speakers);
        Assert.Equal("Adapted", loaded.Options.FaceOutputColumnName);
        // Held statistics survive the round trip: the row-at-a-time path gives the same values.
        var clip = Clips("B", 4, 9)[3];
        var before = _ml.Model.CreatePredictionEngine<Clip, AdaptedRow>(stage).Predict(clip).Adapted;
        var after = _ml.Model.CreatePredictionEngine<Clip, AdaptedRow>(loaded).Predict(clip).Adapted;
        Assert.Equal(before, after);
    }

    private sealed class AdaptedRow
    {
        public float[] Adapted { get; set; } = [];
    }
}
