using EmotionML.AudioCnn;
using EmotionML.Core;
using EmotionML.Fusion;
using EmotionML.Training.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using System.Text.Json.Serialization;
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
    public TrainerOptions Training { get; set; } = new() { BatchSize = 32, MaxEpochs = 30, EarlyStoppingPatience = 6 };

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
        Output = Output.Clone(),
        Trained = Trained,
    };

    internal void Validate()
    {
        Training.Validate();
        Output.Validate();
    }

    void IStageOptions<AudioCnnTrainerOptions>.Validate() => Validate();

    AudioCnnTrainerOptions IStageOptions<AudioCnnTrainerOptions>.Clone() => Clone();
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
        var (mean, std) = Moments(data);
        var network = o.Network with { Classes = table.ClassNames.Length, InputMean = (float)mean, InputScale = (float)(1 / Math.Max(std, 1e-6)) };
        manual_seed(o.Training.Seed);
        var cnn = new AudioCnnNetwork(network);
        var report = TrainingLoop.Run(cnn, (rows, d) => cnn.forward(TrainingLoop.Stack(data, rows, [1, frames, bins], d)), table, o.Training, "audio CNN");
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
