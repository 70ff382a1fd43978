using EmotionML.Training;
using EmotionML.Training.AudioCnn;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Xunit;
using static TorchSharp.torch;
using Cnn = EmotionML.Training.AudioCnn.AudioCnnNetwork;

namespace EmotionML.Tests.AudioCnn;

/// <summary>
/// The audio CNN's training recipe (per-utterance normalisation inside the network, random crops, SpecAugment, mixup)
/// leaves nothing for the runtime to redo: the exported feature stage and classifier give exactly what the TorchSharp
/// network gives in evaluation mode on the whole spectrogram.
/// </summary>
public sealed class AudioCnnRecipeTests : Fusion.TorchTestBase
{
    private const int Frames = 100, Bins = 80, Padded = 30;
    private static readonly float Silence = (float)Math.Log(1e-10);

    private sealed class Row
    {
        [VectorType(Frames, Bins)] public float[] Spectrogram { get; set; } = [];
        public string Label { get; set; } = "";
        public string Speaker { get; set; } = "";
    }

    private sealed class Scored
    {
        public float[] AudioFeatures { get; set; } = [];
        public float[] Score { get; set; } = [];
    }

    /// <summary>A random log spectrogram; the last <paramref name="padded"/> frames are silence padding (ln 1e-10).</summary>
    private static float[] Spectrogram(Random r, int padded, float offset)
    {
        var x = new float[Frames * Bins];
        for (var t = 0; t < Frames; t++)
            for (var f = 0; f < Bins; f++)
                x[t * Bins + f] = t >= Frames - padded ? Silence : offset + (float)(3 * r.NextDouble() - f * 0.02);
        return x;
    }

    [Theory]
    [InlineData(AudioNormalization.Utterance)]
    [InlineData(AudioNormalization.UtteranceBins)]
    public void UtteranceNormalizationMatchesAnIndependentReference(AudioNormalization mode)
    {
        using var scope = NewDisposeScope();
        var r = new Random(5);
        var x = Spectrogram(r, Padded, -4f);
        var cnn = new Cnn(new AudioCnnOptions { Channels = [4, 4, 4, 4, 4], Normalization = mode });
        var prepared = cnn.Prepare(tensor(x, [1, 1, Frames, Bins])).data<float>().ToArray();

        // Reference in doubles: per-bin mean over the real frames (then over the bins too for Utterance), one std over real frames × bins, padding 0.
        const int real = Frames - Padded;
        var mean = new double[Bins];
        for (var t = 0; t < real; t++)
            for (var f = 0; f < Bins; f++) mean[f] += x[t * Bins + f] / (double)real;
        if (mode == AudioNormalization.Utterance) Array.Fill(mean, mean.Average());
        double variance = 0;
        for (var t = 0; t < real; t++)
            for (var f = 0; f < Bins; f++) variance += Math.Pow(x[t * Bins + f] - mean[f], 2) / (real * Bins);
        var std = Math.Sqrt(variance + Cnn.NormalizationEpsilon);
        for (var t = 0; t < Frames; t++)
            for (var f = 0; f < Bins; f++)
            {
                var expected = t < real ? (x[t * Bins + f] - mean[f]) / std : 0;
                Assert.True(Math.Abs(prepared[t * Bins + f] - expected) < 1e-4, $"frame {t} bin {f}: {prepared[t * Bins + f]} vs {expected}");
            }
        // A louder copy of the same utterance (log power + 5) normalises to the same input.
        var louder = x.Select(v => v == Silence ? v : v + 5).ToArray();
        var prepared2 = cnn.Prepare(tensor(louder, [1, 1, Frames, Bins])).data<float>().ToArray();
        Assert.True(prepared.Zip(prepared2).Max(p => Math.Abs(p.First - p.Second)) < 1e-4);
    }

    [Theory]
    [InlineData(AudioNormalization.Utterance)]
    [InlineData(AudioNormalization.UtteranceBins)]
    [InlineData(AudioNormalization.Global)]
    [InlineData(AudioNormalization.Global, true)]
    public void RuntimeStageEqualsTorchEvaluationAfterAugmentedTraining(AudioNormalization mode, bool deltas = false)
    {
        var ml = new MLContext(seed: 1);
        var r = new Random(3);
        // 4 speakers × 4 clips, 2 classes; some clips padded; speakers differ by loudness (what the normalisation removes).
        var rows = Enumerable.Range(0, 16).Select(i => new Row
        {
            Label = i % 2 == 0 ? "a" : "b",
            Speaker = $"s{i / 4}",
            Spectrogram = Spectrogram(r, i % 3 == 0 ? Padded : 0, i / 4 * 2f + (i % 2) * 0.5f),
        }).ToList();
        var data = ml.Data.LoadFromEnumerable(rows);
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(data).Transform(data);
        AudioCnnTrainingResult? trained = null;
        var options = new AudioCnnTrainerOptions
        {
            Network = new AudioCnnOptions { Channels = [4, 4, 8, 8, 8], Normalization = mode, Deltas = deltas },
            Training = new TrainerOptions { MaxEpochs = 2, BatchSize = 4, ValidationFraction = 0.25, GroupColumnName = "Speaker", Seed = 2, Threads = 1 },
            Augmentation = new AudioAugmentationOptions { CropFrames = 80, TimeMasks = 1, FrequencyMasks = 1, TimeMaskFrames = 10, FrequencyMaskBins = 10, MixupAlpha = 0.4 },
            Trained = t => trained = t,
        };
        using var features = ml.Transforms.TrainAudioCnn(options).Fit(keyed);
        using var network = trained!.Network;
        using var classifier = trained.Classifier;
        Assert.Equal(2, trained.Report.Epochs.Count);
        Assert.Equal(4, trained.Report.ValidationRows); // one of four speakers held out
        Assert.Equal(Frames, features.Shape.Frames); // the exported graph takes the whole spectrogram, not the crop
        Assert.Equal(deltas ? 3 : 1, network.Convolutions[0].weight!.shape[1]);   // Δ and ΔΔ as input channels of the first convolution

        var scored = ml.Data.CreateEnumerable<Scored>(classifier.Transform(features.Transform(keyed)), reuseRowObject: false).ToList();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        network.eval();
        var batch = tensor(rows.SelectMany(x => x.Spectrogram).ToArray(), [rows.Count, 1, Frames, Bins]);
        var torchFeatures = Cnn.ToSet(network.Features(batch)).data<float>().ToArray();
        var torchScores = nn.functional.softmax(network.forward(batch), 1).data<float>().ToArray();
        var per = features.Shape.Positions * features.Shape.Channels;
        double maxFeature = 0, maxScore = 0;
        for (var i = 0; i < rows.Count; i++)
        {
            for (var j = 0; j < per; j++) maxFeature = Math.Max(maxFeature, Math.Abs(scored[i].AudioFeatures[j] - torchFeatures[i * per + j]));
            for (var k = 0; k < 2; k++) maxScore = Math.Max(maxScore, Math.Abs(scored[i].Score[k] - torchScores[i * 2 + k]));
        }
        Assert.True(maxFeature < 1e-4, $"features differ by {maxFeature}");
        Assert.True(maxScore < 1e-5, $"scores differ by {maxScore}");
        Assert.Contains(torchFeatures, v => v != 0);
    }

    [Fact]
    public void AugmentationCropsToTheWindowAndMasksWithZeros()
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        var x = ones(3, 1, Frames, Bins);
        var a = new AudioAugmentationOptions { CropFrames = 60, TimeMasks = 2, TimeMaskFrames = 10, FrequencyMasks = 1, FrequencyMaskBins = 15 };
        var y = AudioCnnTrainer.Augment(x, a);
        Assert.Equal([3L, 1L, 60L, Bins], y.shape);
        var zeros = y.eq(0).sum().item<long>();
        // At most 2 × 10 frames × Bins + 15 bins × 60 frames masked per item, and nothing else changed.
        Assert.InRange(zeros, 0, 3 * (2 * 10 * Bins + 15 * 60));
        Assert.Equal(3 * 60 * Bins, zeros + y.eq(1).sum().item<long>());
        // The crop is a contiguous window: a ramp over time stays a ramp with step 1.
        var ramp = arange(Frames, dtype: ScalarType.Float32).view(1, 1, Frames, 1).expand(2, 1, Frames, Bins).contiguous();
        var cropped = AudioCnnTrainer.Augment(ramp, new AudioAugmentationOptions { CropFrames = 60 });
        var steps = (cropped[.., .., 1.., ..] - cropped[.., .., ..^1, ..]).flatten();
        Assert.True(steps.eq(1).all().item<bool>());
        Assert.InRange(cropped[0, 0, 0, 0].item<float>(), 0, Frames - 60);
        Assert.Equal(0.5, TrainingLoop.Beta(new Random(1), 1e9), 3); // Beta(α, α) concentrates at ½ for large α
    }

    [Fact]
    public void TheDeltaKernelGivesTheLogMelStagesDeltasAwayFromTheEdges()
    {
        // Reference: the log-Mel stage's own deltas (regression formula, N = 2, applied twice) of a real clip.
        const int frames = 120, bands = 64;
        var audio = Tests.Spectrogram.SpectrogramTests.Decode(TestData.Ravdess("Actor_01/03-01-05-01-01-01-01.flac"));
        var logMel = new EmotionML.Spectrogram.LogMelExtractor(new EmotionML.Spectrogram.LogMelSpectrogramOptions { Frames = frames, Bands = bands }).Compute(audio);
        var kernel = Cnn.DeltaKernel();
        const int reach = Cnn.DeltaReach, length = 2 * reach + 1;
        double worst = 0, largest = 0;
        for (var channel = 0; channel < 3; channel++)
            for (var t = reach; t < frames - reach; t++)
                for (var b = 0; b < bands; b++)
                {
                    double sum = 0;
                    for (var j = 0; j < length; j++) sum += kernel[channel * length + j] * logMel[(t + j - reach) * bands + b];
                    var expected = logMel[channel * frames * bands + t * bands + b];
                    worst = Math.Max(worst, Math.Abs(sum - expected));
                    largest = Math.Max(largest, Math.Abs(expected));
                }
        Assert.True(worst < 1e-4 * Math.Max(1, largest), $"kernel vs the stage's deltas: {worst} (largest value {largest})");
        // Closed form: Δ of a ramp is its slope, ΔΔ of t² is 2.
        Assert.Equal(0.5, Enumerable.Range(0, length).Sum(j => kernel[length + j] * 0.5 * (j + 7)), 6);
        Assert.Equal(2.0, Enumerable.Range(0, length).Sum(j => kernel[2 * length + j] * Math.Pow(j + 3, 2)), 5);
    }

    [Theory]
    [InlineData("--log-mel-deltas is a measurement for now", "--log-mel-deltas", "--epochs", "1")]
    [InlineData("leave out one of --trim-silence and --log-mel-deltas", "--log-mel-deltas", "--trim-silence", "--folds", "4", "--cv-only")]
    public void TrainAudioTakesLogMelInputOnlyInAMeasurement(string message, params string[] options)
    {
        var r = Cli.CliRunner.RunShared(["train-audio", .. options]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.Error);
    }
}
