using AudioCnnGeometry = EmotionML.AudioCnn.AudioCnnGeometry;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EmotionML.Training.AudioCnn;

/// <summary>Shape and hyper-parameters of an <see cref="AudioCnnNetwork"/>. JSON-serialisable.</summary>
public sealed record AudioCnnOptions
{
    /// <summary>
    /// Output channels of the five convolutions. Default 64-128-256-192-128: about 1.17 M parameters (AlexNet's
    /// 96-256-384-384-256 would be 3.7 M and about 4× the multiply-adds), sized for CPU training on 2 cores.
    /// </summary>
    public int[] Channels { get; set; } = [64, 128, 256, 192, 128];

    /// <summary>Batch normalisation after each convolution (folded into the convolution on ONNX export). Default true.</summary>
    public bool BatchNorm { get; set; } = true;

    /// <summary>Dropout before the pretraining classifier. Default 0.5.</summary>
    public double Dropout { get; set; } = 0.5;

    /// <summary>
    /// K of the pretraining classifier. Not settable: the trainer takes it from the label's key values; a network built
    /// directly gets it from <see cref="AudioCnnNetwork(AudioCnnOptions, int)"/>. Default 8.
    /// </summary>
    public int Classes { get; internal set; } = 8;

    /// <summary>
    /// How the input is normalised, the first step of the network (so the exported ONNX graph does it too). Default
    /// <see cref="AudioNormalization.Global"/> (the per-utterance modes did worse on held-out RAVDESS speakers, see docs/results.md).
    /// </summary>
    public AudioNormalization Normalization { get; set; } = AudioNormalization.Global;

    /// <summary>
    /// When true, the network stacks the (normalised) input with its deltas and delta-deltas along time as 3 channels
    /// before the first convolution (<see cref="AudioCnnNetwork.DeltaKernel"/>: the regression formula with N = 2 and
    /// delta-deltas its self-convolution, zero beyond the edges), the paper's log-Mel + Δ + ΔΔ input computed inside the
    /// network, so that crops, the exported ONNX graph and the runtime stage all see one input channel. Default false.
    /// </summary>
    public bool Deltas { get; set; }

    /// <summary>Input standardisation: the network sees (x − InputMean) · InputScale. Not settable: the trainer sets both from the training spectrograms. Default 0 and 1.</summary>
    public float InputMean { get; internal set; }

    /// <summary>See <see cref="InputMean"/>. Default 1.</summary>
    public float InputScale { get; internal set; } = 1;

    /// <summary>Throws <see cref="ArgumentException"/> for an unusable setting.</summary>
    public void Validate()
    {
        if (Channels is null || Channels.Length != 5 || Channels.Any(c => c <= 0))
            throw new ArgumentException("AudioCnnOptions.Channels must list 5 positive channel counts.");
        if (Dropout < 0 || Dropout >= 1 || double.IsNaN(Dropout)) throw new ArgumentException($"AudioCnnOptions.Dropout must be in [0,1), not {Dropout}.");
        if (Classes < 2) throw new ArgumentException($"AudioCnnOptions.Classes must be at least 2, not {Classes}.");
    }
}

/// <summary>Input normalisation of the audio CNN (<see cref="AudioCnnOptions.Normalization"/>).</summary>
public enum AudioNormalization
{
    /// <summary>One mean and scale for all inputs, fitted on the training spectrograms (<see cref="AudioCnnOptions.InputMean"/>, <see cref="AudioCnnOptions.InputScale"/>).</summary>
    Global,

    /// <summary>
    /// Per utterance: the frames whose loudest bin is at or below <see cref="AudioCnnNetwork.PaddingLevel"/> (padding and
    /// digital silence, log power ln(1e-10) ≈ −23) count as empty; the mean over the real frames and bins is subtracted
    /// and the result divided by its standard deviation over them (the recording gain is removed, the spectral shape
    /// kept); empty frames are set to 0.
    /// </summary>
    Utterance,

    /// <summary>As <see cref="Utterance"/>, but each frequency bin's own mean over the real frames is subtracted (cepstral mean normalisation: the long-term spectrum is removed too).</summary>
    UtteranceBins,
}

/// <summary>One convolution layer's geometry.</summary>
/// <param name="Kernel">Square kernel size.</param>
/// <param name="Stride">Stride.</param>
/// <param name="Padding">Zero padding on each side.</param>
/// <param name="PoolAfter">Whether a 3×3 stride-2 max-pool (no padding, floor) follows the ReLU.</param>
public readonly record struct AudioConvSpec(int Kernel, int Stride, int Padding, bool PoolAfter);

/// <summary>
/// AlexNet-style audio CNN over a speech spectrogram [B, 1, T, F] (T frames of 10 ms, F = 200 frequency bins):
/// conv11/4 → ReLU → pool, conv5 → ReLU → pool, conv3 → ReLU, conv3 → ReLU, conv3 → ReLU → pool (pools 3×3 stride 2),
/// with optional batch normalisation after each convolution. <see cref="Features"/> returns the last pooling map
/// [B, C, H, W] (C = 128, H×W = 8×5 for T = 300, F = 200); <see cref="ToSet"/> turns it into n = H·W vectors [B, n, C]
/// for audio attention. <see cref="forward"/> adds global average pooling, dropout and a Linear classifier to K classes
/// for pretraining (e.g. on RAVDESS). Export the feature extractor with <see cref="Onnx.AudioCnnOnnx.Export"/>.
/// </summary>
public sealed class AudioCnnNetwork : nn.Module<Tensor, Tensor>
{
    /// <summary>The geometry of the five convolutions.</summary>
    public static readonly IReadOnlyList<AudioConvSpec> Layers =
        [.. AudioCnnGeometry.Layers.Select(l => new AudioConvSpec(l.Kernel, l.Stride, l.Padding, l.PoolAfter))];

    /// <summary>The max-pool kernel and stride.</summary>
    public const int PoolKernel = AudioCnnGeometry.PoolKernel, PoolStride = AudioCnnGeometry.PoolStride;

    /// <summary>The batch normalisation epsilon.</summary>
    public const double BatchNormEpsilon = 1e-5;

    /// <summary>
    /// A frame whose largest log-power bin is at or below this level counts as empty for
    /// the per-utterance <see cref="AudioCnnOptions.Normalization"/> (power below 2·10⁻⁹; padding is ln(1e-10) ≈ −23.0).
    /// </summary>
    public const float PaddingLevel = -20f;

    /// <summary>Added to the variance of the per-utterance <see cref="AudioCnnOptions.Normalization"/> before the square root.</summary>
    public const float NormalizationEpsilon = 1e-5f;

    private readonly ModuleList<Conv2d> convs;
    private readonly ModuleList<BatchNorm2d> norms;
    private readonly Dropout dropout;
    private readonly Linear classifier;

    /// <summary>Creates the CNN with <paramref name="classes"/> classes (weights from TorchSharp's current generator).</summary>
    /// <param name="options">Channels, batch normalisation, dropout.</param>
    /// <param name="classes">K of the pretraining classifier.</param>
    public AudioCnnNetwork(AudioCnnOptions options, int classes)
        : this((options ?? throw new ArgumentNullException(nameof(options))) with { Classes = classes })
    {
    }

    /// <summary>Creates the CNN (weights from TorchSharp's current generator).</summary>
    /// <param name="options">Channels, batch normalisation, dropout; default <see cref="AudioCnnOptions"/>' defaults (8 classes).</param>
    public AudioCnnNetwork(AudioCnnOptions? options = null) : base("AudioCnn")
    {
        options ??= new AudioCnnOptions();
        options.Validate();
        Options = options with { Channels = (int[])options.Channels.Clone() };
        convs = new ModuleList<Conv2d>();
        norms = new ModuleList<BatchNorm2d>();
        int inC = Options.Deltas ? 3 : 1;
        for (int i = 0; i < Layers.Count; i++)
        {
            var l = Layers[i];
            convs.Add(nn.Conv2d(inC, Options.Channels[i], l.Kernel, stride: l.Stride, padding: l.Padding));
            if (Options.BatchNorm) norms.Add(nn.BatchNorm2d(Options.Channels[i], eps: BatchNormEpsilon));
            inC = Options.Channels[i];
        }
        dropout = nn.Dropout(Options.Dropout);
        classifier = nn.Linear(inC, Options.Classes);
        RegisterComponents();
    }

    /// <summary>A copy of the options the CNN was built from.</summary>
    public AudioCnnOptions Options { get; }

    /// <summary>C, the channel count of the feature map.</summary>
    public int FeatureChannels => Options.Channels[^1];

    /// <summary>The five convolutions.</summary>
    public IReadOnlyList<Conv2d> Convolutions => convs.ToList();

    /// <summary>The five batch normalisations (empty when <see cref="AudioCnnOptions.BatchNorm"/> is false).</summary>
    public IReadOnlyList<BatchNorm2d> BatchNorms => norms.ToList();

    /// <summary>The pretraining classifier Linear(C → K).</summary>
    public Linear Classifier => classifier;

    /// <summary>(H, W) of the feature map for a T × F input; throws when the input is too small.</summary>
    public static (int H, int W) FeatureMapSize(int frames, int bins) => AudioCnnGeometry.FeatureMapSize(frames, bins);

    /// <summary>The last pooling feature map [B, C, H, W] of a spectrogram batch [B, 1, T, F].</summary>
    public Tensor Features(Tensor spectrogram) => Trunk(Prepare(spectrogram));

    /// <summary>
    /// The input as the convolutions see it: normalised as <see cref="AudioCnnOptions.Normalization"/> says.
    /// </summary>
    internal Tensor Prepare(Tensor spectrogram)
    {
        if (spectrogram.dim() != 4 || spectrogram.shape[1] != 1)
            throw new ArgumentException($"The audio CNN expects [B,1,T,F], got [{string.Join(",", spectrogram.shape)}].");
        var x = spectrogram;
        if (Options.Normalization != AudioNormalization.Global)
        {
            // Explicit Scalars held across the calls (implicit temporaries can be finalised mid-call; see TrainingOptimizer).
            using var padding = PaddingLevel.ToScalar();
            using var oneFrame = 1f.ToScalar();
            using var bins = ((float)x.shape[3]).ToScalar();
            using var eps = NormalizationEpsilon.ToScalar();
            var real = x.amax([3], keepdim: true).gt(padding).to_type(x.dtype); // [B,1,T,1]
            var count = real.sum([2], keepdim: true).clamp_min(oneFrame);       // [B,1,1,1]
            var mean = (x * real).sum([2], keepdim: true) / count;                   // [B,1,1,F]
            if (Options.Normalization == AudioNormalization.Utterance) mean = mean.mean([3], keepdim: true);
            var centred = (x - mean) * real;
            var variance = (centred * centred).sum([2, 3], keepdim: true) / count.mul(bins);
            return centred / variance.add(eps, oneFrame).sqrt();
        }
        if (Options.InputMean != 0 || Options.InputScale != 1)
        {
            using var mean = Options.InputMean.ToScalar();
            using var scale = Options.InputScale.ToScalar();
            x = (spectrogram - mean) * scale;
        }
        return x;
    }

    /// <summary>Half the length of the delta kernel along time: Δ reaches 2 frames, ΔΔ 4.</summary>
    public const int DeltaReach = 4;

    /// <summary>
    /// The fixed kernel [3, 1, 2·<see cref="DeltaReach"/>+1, 1] (cross-correlation along time) of <see cref="AudioCnnOptions.Deltas"/>:
    /// channel 0 the input itself, channel 1 its delta <c>Σ_{n=1,2} n·(x_{t+n} − x_{t−n}) / 10</c>, channel 2 the delta of
    /// the delta (the delta kernel convolved with itself).
    /// </summary>
    public static float[] DeltaKernel()
    {
        const int length = 2 * DeltaReach + 1;
        var delta = new double[length];
        for (var n = -2; n <= 2; n++) delta[DeltaReach + n] = n / 10.0;
        var kernel = new float[3 * length];
        kernel[DeltaReach] = 1;
        for (var j = 0; j < length; j++) kernel[length + j] = (float)delta[j];
        for (var a = -2; a <= 2; a++)
            for (var b = -2; b <= 2; b++)
                kernel[2 * length + DeltaReach + a + b] += (float)(delta[DeltaReach + a] * delta[DeltaReach + b]);
        return kernel;
    }

    /// <summary>The convolutions on a prepared input [B, 1, T', F] (any T' the geometry allows): the last pooling map.</summary>
    internal Tensor Trunk(Tensor prepared)
    {
        var x = prepared;
        if (Options.Deltas)
        {
            using var kernel = tensor(DeltaKernel(), [3, 1, 2 * DeltaReach + 1, 1], dtype: x.dtype, device: x.device);
            x = nn.functional.conv2d(x, kernel, padding: [DeltaReach, 0]);
        }
        for (int i = 0; i < Layers.Count; i++)
        {
            x = convs[i].forward(x);
            if (norms.Count > 0) x = norms[i].forward(x);
            x = nn.functional.relu(x);
            if (Layers[i].PoolAfter) x = nn.functional.max_pool2d(x, PoolKernel, PoolStride);
        }
        return x;
    }

    /// <summary>Reshapes a feature map [B, C, H, W] into a set of n = H·W vectors [B, n, C] (row-major over H, W).</summary>
    public static Tensor ToSet(Tensor featureMap)
    {
        if (featureMap.dim() != 4) throw new ArgumentException("Expected a feature map [B,C,H,W].");
        return featureMap.flatten(2).transpose(1, 2);
    }

    /// <summary>The feature set [B, n, C] of a spectrogram batch [B, 1, T, F].</summary>
    public Tensor FeatureSet(Tensor spectrogram) => ToSet(Features(spectrogram));

    /// <summary>Pretraining logits [B, K]: features → global average pool → dropout → Linear.</summary>
    public override Tensor forward(Tensor spectrogram) => Classify(Features(spectrogram));

    /// <summary>Logits [B, K] of a feature map [B, C, H, W]: global average pool → dropout → Linear.</summary>
    internal Tensor Classify(Tensor featureMap) => classifier.forward(dropout.forward(featureMap.mean([2, 3])));

    /// <summary>The number of trainable parameters.</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());
}
