using EmotionML.AudioCnn;
using EmotionML.Core;
using EmotionML.Fusion;
using EmotionML.Training.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using System.Text.Json.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace EmotionML.Training.AudioCnn;

/// <summary>Options of <see cref="AudioCnnTrainer"/>.</summary>
public sealed class AudioCnnTrainerOptions : ITorchTrainerOptions<AudioCnnTrainerOptions>
{
    /// <summary>Input spectrogram column (vector [T, F]). Default "Spectrogram".</summary>
    public string SpectrogramColumnName { get; set; } = "Spectrogram";

    /// <summary>
    /// The network (channels, batch norm, dropout). Classes and input standardisation are set from the data. Default
    /// channels 32-64-128-96-64 (about 4× cheaper than <see cref="AudioCnnOptions"/>' default; CPU training on 2 cores).
    /// </summary>
    public AudioCnnOptions Network { get; set; } = new() { Channels = [32, 64, 128, 96, 64] };

    /// <summary>Optimisation and validation settings.</summary>
    public TrainerOptions Training { get; set; } = new() { BatchSize = 32, MaxEpochs = 30, EarlyStoppingPatience = 6, ValidationFraction = 0.25 };

    /// <summary>Training-time augmentation (random crops, SpecAugment masks, mixup); validation and the exported graph see whole spectrograms.</summary>
    public AudioAugmentationOptions Augmentation { get; set; } = new();

    /// <summary>Output columns of the fitted feature stage and how it runs.</summary>
    public AudioFeatureOptions Output { get; set; } = new();

    /// <summary>
    /// Called at the end of every fit with the training report, the TorchSharp CNN and the CNN's own classifier; the
    /// receiver owns (and disposes) the CNN and the classifier. Without it the fit disposes the CNN and makes no classifier.
    /// Default null.
    /// </summary>
    [JsonIgnore]
    public Action<AudioCnnTrainingResult>? Trained { get; set; }

    internal AudioCnnTrainerOptions Clone() => new()
    {
        SpectrogramColumnName = SpectrogramColumnName,
        Network = Network with { Channels = (int[])Network.Channels.Clone() },
        Training = Training.Clone(),
        Augmentation = Augmentation with { },
        Output = Output.Clone(),
        Trained = Trained,
    };

    internal void Validate()
    {
        Training.Validate();
        Augmentation.Validate();
        Output.Validate();
    }

    void IStageOptions<AudioCnnTrainerOptions>.Validate() => Validate();

    AudioCnnTrainerOptions IStageOptions<AudioCnnTrainerOptions>.Clone() => Clone();
}

/// <summary>
/// Training-time augmentation of <see cref="AudioCnnTrainer"/>, applied to the normalised spectrogram of each training
/// batch (never to validation rows nor in the exported graph, which sees the whole spectrogram: the CNN is fully
/// convolutional up to its average pooling, so the whole-utterance map averages over all crop positions). Draws come
/// from TorchSharp's generator (seeded by the trainer's seed, saved in checkpoints). JSON-serialisable.
/// </summary>
public sealed record AudioAugmentationOptions
{
    /// <summary>Random time crop: each training item is a random window of this many frames (0 or ≥ T = no crop). Default 0.</summary>
    public int CropFrames { get; set; }

    /// <summary>SpecAugment time masks per item (each sets a random run of up to <see cref="TimeMaskFrames"/> frames to 0). Default 0.</summary>
    public int TimeMasks { get; set; }

    /// <summary>Longest time mask in frames. Default 20.</summary>
    public int TimeMaskFrames { get; set; } = 20;

    /// <summary>SpecAugment frequency masks per item (each sets a random band of up to <see cref="FrequencyMaskBins"/> bins to 0). Default 0.</summary>
    public int FrequencyMasks { get; set; }

    /// <summary>Widest frequency mask in bins. Default 20.</summary>
    public int FrequencyMaskBins { get; set; } = 20;

    /// <summary>Mixup α (λ ~ Beta(α, α) per batch, inputs and losses mixed); 0 = off. Default 0.</summary>
    public double MixupAlpha { get; set; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for an unusable setting.</summary>
    public void Validate()
    {
        if (CropFrames < 0) throw new ArgumentOutOfRangeException(nameof(CropFrames), CropFrames, "CropFrames must be 0 or positive.");
        if (TimeMasks < 0 || FrequencyMasks < 0) throw new ArgumentOutOfRangeException(nameof(TimeMasks), "TimeMasks and FrequencyMasks must be 0 or positive.");
        if (TimeMaskFrames < 0 || FrequencyMaskBins < 0) throw new ArgumentOutOfRangeException(nameof(TimeMaskFrames), "TimeMaskFrames and FrequencyMaskBins must be 0 or positive.");
        if (!(MixupAlpha >= 0) || double.IsInfinity(MixupAlpha)) throw new ArgumentOutOfRangeException(nameof(MixupAlpha), MixupAlpha, "MixupAlpha must be 0 or positive.");
    }
}

/// <summary>What a fit of <see cref="AudioCnnTrainer"/> produced besides the feature stage (see <see cref="AudioCnnTrainerOptions.Trained"/>).</summary>
/// <param name="Report">Per-epoch losses, the best epoch, the row counts.</param>
/// <param name="Network">The trained TorchSharp CNN (for inspection and the ONNX agreement check).</param>
/// <param name="Classifier">The CNN's own classifier over the feature set (reads AudioFeatures/AudioMask; outputs Score, PredictedLabel).</param>
public sealed record AudioCnnTrainingResult(TrainingReport Report, AudioCnnNetwork Network, FusionHeadTransformer Classifier);

/// <summary>
/// Trains the AlexNet-style audio CNN on labelled spectrograms with TorchSharp, exports its feature extractor (last
/// pooling map as n = H·W vectors of C dims) to ONNX, and returns an <see cref="AudioFeatureTransformer"/>. The CNN's own
/// classifier (global average pooling + linear) is exported too when <see cref="AudioCnnTrainerOptions.Trained"/> is set, as
/// <see cref="AudioCnnTrainingResult.Classifier"/>, an audio-only <see cref="FusionHeadTransformer"/> that gives the CNN's
/// accuracy with ML.NET's evaluator. A fit keeps nothing on the trainer.
/// </summary>
public sealed class AudioCnnTrainer : EmotionTorchTrainer<AudioFeatureTransformer, AudioCnnTrainerOptions>
{
    internal AudioCnnTrainer(IHostEnvironment env, AudioCnnTrainerOptions options) : base(env, nameof(AudioCnnTrainer), options)
    {
    }

    /// <summary>Trains the CNN and returns the ONNX-run feature stage.</summary>
    private protected override AudioFeatureTransformer FitChecked(IDataView input)
    {
        var o = Options;
        var column = input.Schema.GetColumnOrNull(o.SpectrogramColumnName)
            ?? throw new ArgumentOutOfRangeException(nameof(input), $"Spectrogram column '{o.SpectrogramColumnName}' not found.");
        if (column.Type is not VectorDataViewType { Dimensions: [var frames, var bins] } || ((VectorDataViewType)column.Type).ItemType != NumberDataViewType.Single)
            throw new ArgumentOutOfRangeException(nameof(input), $"Spectrogram column '{o.SpectrogramColumnName}' must be a float vector with dimensions [T, F]; it is {column.Type}.");
        var (h, w) = AudioCnnNetwork.FeatureMapSize(frames, bins);
        var table = TrainingTable.Read(input, o.Training.LabelColumnName, o.Training.GroupColumnName, o.SpectrogramColumnName);
        var data = table.Vectors[o.SpectrogramColumnName];
        var network = o.Network with { Classes = table.ClassNames.Length, InputMean = 0, InputScale = 1 };
        if (network.Normalization == AudioNormalization.Global)
        {
            var (mean, std) = Moments(data);
            network = network with { InputMean = (float)mean, InputScale = (float)(1 / Math.Max(std, 1e-6)) };
        }
        if (o.Augmentation.CropFrames > 0 && o.Augmentation.CropFrames < frames) AudioCnnNetwork.FeatureMapSize(o.Augmentation.CropFrames, bins);
        manual_seed(o.Training.Seed);
        var cnn = new AudioCnnNetwork(network);
        var aug = o.Augmentation;
        Tensor Input(int[] rows, Device d) => cnn.Prepare(TrainingLoop.Stack(data, rows, [1, frames, bins], d));
        Tensor Logits(Tensor prepared) => cnn.Classify(cnn.Trunk(cnn.training ? Augment(prepared, aug) : prepared));
        var report = TrainingLoop.Run(cnn, (rows, d) => Logits(Input(rows, d)), table, o.Training, "audio CNN",
            (rows, partners, lambda, d) => Logits(Mix(Input(rows, d), Input(partners, d), lambda)), aug.MixupAlpha);
        var shape = new AudioCnnShape { Frames = frames, Bins = bins, Positions = h * w, Channels = cnn.FeatureChannels };
        var features = new AudioFeatureTransformer(Env, o.Output, shape, AudioCnnOnnx.Export(cnn, frames, bins));
        if (o.Trained is not { } trained)
        {
            cnn.Dispose();
            return features;
        }
        var classifier = new FusionHeadTransformer(Env,
            new FusionHeadColumns { AudioFeaturesColumnName = o.Output.OutputColumnName, AudioMaskColumnName = o.Output.MaskColumnName, Execution = o.Output.Execution },
            new FusionHeadSignature { Classes = table.ClassNames, AudioPositions = h * w, AudioDim = cnn.FeatureChannels, Description = "audio CNN (average pooling + linear)" },
            ClassifierOnnx(cnn, h * w));
        trained(new AudioCnnTrainingResult(report, cnn, classifier));
        return features;
    }

    /// <summary>The CNN's classifier as an audio-only head graph: masked mean over positions → Linear → softmax.</summary>
    private static byte[] ClassifierOnnx(AudioCnnNetwork cnn, int positions)
    {
        var g = new OnnxGraphBuilder("emotionml_audio_cnn_classifier");
        var c = cnn.FeatureChannels;
        var features = g.Input(FusionHeadTransformer.AudioInput, FusionHeadOnnx.BatchDim, positions, c);
        var mask = g.Input(FusionHeadTransformer.AudioMaskInput, FusionHeadOnnx.BatchDim, positions);
        var sum = g.ReduceSum(g.Mul(features, g.Unsqueeze(mask, 2)), [1], keepDims: false);
        var count = g.Max(g.ReduceSum(mask, [1], keepDims: true), g.Scalar(1e-6f));
        var pooled = g.Div(sum, count);
        var logits = FusionHeadOnnx.Gemm(g, cnn.Classifier, pooled, "classifier");
        g.Output(FusionHeadTransformer.ScoresOutput, g.Softmax(logits, 1), FusionHeadOnnx.BatchDim, cnn.Options.Classes);
        g.Output(FusionHeadTransformer.AudioAttentionOutput, g.Div(mask, count), FusionHeadOnnx.BatchDim, positions);
        return g.ToBytes();
    }

    /// <summary>λ·a + (1 − λ)·b, with explicit Scalars held across the calls (implicit ones can be finalised mid-call; see TrainingOptimizer).</summary>
    private static Tensor Mix(Tensor a, Tensor b, float lambda)
    {
        using var own = lambda.ToScalar();
        using var other = (1 - lambda).ToScalar();
        return a.mul(own).add(b, other);
    }

    /// <summary>Random crop and SpecAugment masks of a prepared batch [B, 1, T, F] (masked cells set to 0, the normalised mean).</summary>
    internal static Tensor Augment(Tensor x, AudioAugmentationOptions a)
    {
        long b = x.shape[0], t = x.shape[2], f = x.shape[3];
        if (a.CropFrames > 0 && a.CropFrames < t)
        {
            var starts = randint(0, t - a.CropFrames + 1, [b, 1], dtype: ScalarType.Int64).to(x.device);
            // add(…, alpha) with an explicit alpha held across the call (an implicit one can be finalised mid-call; see TrainingOptimizer).
            using var one = 1L.ToScalar();
            var index = starts.add(arange(a.CropFrames, dtype: ScalarType.Int64, device: x.device).unsqueeze(0), one).view(b, 1, a.CropFrames, 1).expand(b, 1, a.CropFrames, f);
            x = x.gather(2, index);
            t = a.CropFrames;
        }
        x = Masks(x, a.TimeMasks, a.TimeMaskFrames, 2);
        return Masks(x, a.FrequencyMasks, a.FrequencyMaskBins, 3);
    }

    private static Tensor Masks(Tensor x, int count, int widest, int axis)
    {
        if (count == 0 || widest == 0) return x;
        long b = x.shape[0], n = x.shape[axis];
        var position = arange(n, dtype: ScalarType.Int64, device: x.device).unsqueeze(0);
        // Explicit Scalars held across the calls (implicit temporaries can be finalised mid-call; see TrainingOptimizer).
        using var one = 1L.ToScalar();
        using var places = (n + 1).ToScalar();
        using var minusOne = (-1L).ToScalar();
        using var zero = 0f.ToScalar();
        for (var m = 0; m < count; m++)
        {
            var width = randint(0, Math.Min(widest, n) + 1, [b, 1], dtype: ScalarType.Int64).to(x.device);
            // start = ⌊u · (n − width + 1)⌋, u ~ U[0, 1).
            var room = width.mul(minusOne).add(places, one).to_type(ScalarType.Float32);
            var start = (rand([b, 1]).to(x.device) * room).floor().to_type(ScalarType.Int64);
            var hit = position.ge(start).logical_and(position.lt(start.add(width, one)));
            x = x.masked_fill(axis == 2 ? hit.view(b, 1, n, 1) : hit.view(b, 1, 1, n), zero);
        }
        return x;
    }

    private static (double Mean, double Std) Moments(float[][] rows)
    {
        double sum = 0, sq = 0;
        long n = 0;
        foreach (var r in rows)
            foreach (var v in r) { sum += v; sq += (double)v * v; n++; }
        var mean = sum / n;
        return (mean, Math.Sqrt(Math.Max(sq / n - mean * mean, 0)));
    }

    /// <summary>The schema after the stage: AudioFeatures [n, C], AudioMask [n].</summary>
    private protected override SchemaShape OutputSchema(SchemaShape inputSchema)
    {
        SchemaChecks.Require(inputSchema, Options.SpectrogramColumnName, "spectrogram", SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single);
        var result = inputSchema.ToDictionary(x => x.Name);
        var o = Options.Output;
        result[o.OutputColumnName] = new SchemaShape.Column(o.OutputColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
        result[o.MaskColumnName] = new SchemaShape.Column(o.MaskColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
        return new SchemaShape(result.Values);
    }
}
