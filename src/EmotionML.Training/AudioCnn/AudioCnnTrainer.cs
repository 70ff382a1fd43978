using EmotionML.AudioCnn;
using EmotionML.Fusion;
using EmotionML.Training.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using static TorchSharp.torch;

namespace EmotionML.Training.AudioCnn;

/// <summary>Options of <see cref="AudioCnnTrainer"/>.</summary>
public sealed class AudioCnnTrainerOptions
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

    internal AudioCnnTrainerOptions Clone() => new()
    {
        SpectrogramColumnName = SpectrogramColumnName,
        Network = Network with { Channels = (int[])Network.Channels.Clone() },
        Training = Training.Clone(),
        Output = Output.Clone(),
    };
}

/// <summary>
/// Trains the AlexNet-style audio CNN on labelled spectrograms with TorchSharp, exports its feature extractor (last
/// pooling map as n = H·W vectors of C dims) to ONNX, and returns an <see cref="AudioFeatureTransformer"/>. The CNN's own
/// classifier (global average pooling + linear) is exported too, as <see cref="LastClassifier"/>, an audio-only
/// <see cref="FusionHeadTransformer"/> that gives the CNN's accuracy with ML.NET's evaluator.
/// </summary>
public sealed class AudioCnnTrainer : IEstimator<AudioFeatureTransformer>
{
    private readonly IHostEnvironment _env;
    private readonly AudioCnnTrainerOptions _options;

    internal AudioCnnTrainer(IHostEnvironment env, AudioCnnTrainerOptions options)
    {
        _env = env ?? throw new ArgumentNullException(nameof(env));
        ArgumentNullException.ThrowIfNull(options);
        options.Training.Validate();
        options.Output.Validate();
        _options = options.Clone();
        var host = env.Register(nameof(AudioCnnTrainer));
        _options.Training.Warning = message => Core.StageLog.Warning(host, message);
    }

    /// <summary>Report of the last <see cref="Fit"/>.</summary>
    public TrainingReport? LastReport { get; private set; }

    /// <summary>The TorchSharp CNN of the last <see cref="Fit"/>.</summary>
    public AudioCnnNetwork? LastModule { get; private set; }

    /// <summary>The CNN's own classifier over the feature set (reads AudioFeatures/AudioMask; outputs Score, PredictedLabel).</summary>
    public FusionHeadTransformer? LastClassifier { get; private set; }

    /// <summary>Trains the CNN and returns the ONNX-run feature stage.</summary>
    public AudioFeatureTransformer Fit(IDataView input)
    {
        var o = _options;
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
        LastReport = TrainingLoop.Run(cnn, (rows, d) => cnn.forward(TrainingLoop.Stack(data, rows, [1, frames, bins], d)), table, o.Training, "audio CNN");
        LastModule = cnn;
        var shape = new AudioCnnShape { Frames = frames, Bins = bins, Positions = h * w, Channels = cnn.FeatureChannels };
        LastClassifier = new FusionHeadTransformer(_env,
            new FusionHeadColumns { AudioFeaturesColumnName = o.Output.OutputColumnName, AudioMaskColumnName = o.Output.MaskColumnName, Execution = o.Output.Execution },
            new FusionHeadSignature { Classes = table.ClassNames, AudioPositions = h * w, AudioDim = cnn.FeatureChannels, Description = "audio CNN (average pooling + linear)" },
            ClassifierOnnx(cnn, h * w));
        return new AudioFeatureTransformer(_env, o.Output, shape, AudioCnnOnnx.Export(cnn, frames, bins));
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
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        Core.SchemaChecks.Require(inputSchema, _options.SpectrogramColumnName, "spectrogram", SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single);
        var result = inputSchema.ToDictionary(x => x.Name);
        var o = _options.Output;
        result[o.OutputColumnName] = new SchemaShape.Column(o.OutputColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
        result[o.MaskColumnName] = new SchemaShape.Column(o.MaskColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
        return new SchemaShape(result.Values);
    }
}
