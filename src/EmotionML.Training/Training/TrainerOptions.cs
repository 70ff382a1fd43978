using System.Text.Json.Serialization;

namespace EmotionML.Training;

/// <summary>Optimiser of a TorchSharp trainer.</summary>
public enum OptimizerKind
{
    /// <summary>AdamW (decoupled weight decay).</summary>
    AdamW,
    /// <summary>Adam.</summary>
    Adam,
    /// <summary>SGD with Nesterov momentum 0.9.</summary>
    Sgd,
}

/// <summary>Learning-rate schedule over <see cref="TrainerOptions.MaxEpochs"/>.</summary>
public enum LearningRateSchedule
{
    /// <summary>Constant.</summary>
    Constant,
    /// <summary>Cosine decay to 1 % of the initial rate.</summary>
    Cosine,
    /// <summary>×0.1 at 50 % and 75 % of the epochs.</summary>
    Step,
}

/// <summary>Per-class weights of the training loss.</summary>
public enum ClassWeighting
{
    /// <summary>All classes weigh 1.</summary>
    None,
    /// <summary>Weight ∝ 1 / count (balanced).</summary>
    Inverse,
    /// <summary>Weight ∝ 1 / √count.</summary>
    InverseSqrt,
}

/// <summary>What early stopping watches on the validation rows.</summary>
public enum EarlyStoppingMetric
{
    /// <summary>The class-weighted validation loss (lower is better).</summary>
    Loss,
    /// <summary>The validation accuracy (higher is better; ties keep the earlier epoch).</summary>
    Accuracy,
}

/// <summary>Progress of a training run, reported once per epoch.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="MaxEpochs">Epoch limit.</param>
/// <param name="TrainLoss">Mean training loss of the epoch.</param>
/// <param name="ValidationLoss">Validation loss (NaN without a validation split).</param>
/// <param name="ValidationAccuracy">Validation accuracy (NaN without a validation split).</param>
/// <param name="IsBest">Whether this epoch is the best so far (its weights are kept).</param>
/// <param name="Seconds">Wall time of the epoch.</param>
public sealed record TrainingProgress(int Epoch, int MaxEpochs, double TrainLoss, double ValidationLoss, double ValidationAccuracy, bool IsBest, double Seconds);

/// <summary>Progress inside an epoch, reported after every training mini-batch (for long epochs; a caller throttles its output).</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Batch">1-based mini-batch of the epoch just done.</param>
/// <param name="Batches">Mini-batches per epoch.</param>
/// <param name="TrainLoss">Mean training loss of the epoch's rows so far (at the last batch: the epoch's <see cref="TrainingProgress.TrainLoss"/>).</param>
/// <param name="Seconds">Wall time since the epoch began.</param>
public sealed record BatchProgress(int Epoch, int Batch, int Batches, double TrainLoss, double Seconds);

/// <summary>Optimisation settings shared by EmotionML's TorchSharp trainers. JSON-serialisable (callbacks excluded).</summary>
public sealed class TrainerOptions
{
    /// <summary>Label column (a key, as from <c>MapValueToKey</c>). Default "Label".</summary>
    public string LabelColumnName { get; set; } = "Label";

    /// <summary>
    /// Optional column whose values group rows (the speaker): the validation split then holds out whole groups, so
    /// early stopping is speaker-independent too. Text or key. Default null (stratified random split).
    /// </summary>
    public string? GroupColumnName { get; set; }

    /// <summary>Epoch limit. Default 60.</summary>
    public int MaxEpochs { get; set; } = 60;

    /// <summary>Mini-batch size. Default 16.</summary>
    public int BatchSize { get; set; } = 16;

    /// <summary>Initial learning rate. Default 1e-3.</summary>
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>Weight decay. Default 1e-4.</summary>
    public double WeightDecay { get; set; } = 1e-4;

    /// <summary>Optimiser. Default AdamW.</summary>
    public OptimizerKind Optimizer { get; set; } = OptimizerKind.AdamW;

    /// <summary>Schedule. Default cosine.</summary>
    public LearningRateSchedule Schedule { get; set; } = LearningRateSchedule.Cosine;

    /// <summary>Class weights of the loss. Default inverse frequency.</summary>
    public ClassWeighting ClassWeighting { get; set; } = ClassWeighting.Inverse;

    /// <summary>Share of the training rows (or groups) held out for early stopping; 0 trains on everything for <see cref="MaxEpochs"/>. Default 0.15.</summary>
    public double ValidationFraction { get; set; } = 0.15;

    /// <summary>Stop after this many epochs without a better validation loss; the best epoch's weights are kept. Default 10.</summary>
    public int EarlyStoppingPatience { get; set; } = 10;

    /// <summary>What early stopping (and the choice of the kept epoch) watches. Default <see cref="EarlyStoppingMetric.Loss"/>.</summary>
    public EarlyStoppingMetric EarlyStoppingMetric { get; set; } = EarlyStoppingMetric.Loss;

    /// <summary>Seed of weights, shuffling, splits and dropout. Default 0.</summary>
    public int Seed { get; set; }

    /// <summary>Where training runs (EmotionML's one device vocabulary, as for ONNX Runtime). Default CPU.</summary>
    public ExecutionDevice Device { get; set; } = ExecutionDevice.Cpu;

    /// <summary>CUDA device id, when <see cref="Device"/> is CUDA. Default 0.</summary>
    public int DeviceId { get; set; }

    /// <summary>When CUDA is asked for but not available: true (default, as for ONNX Runtime) trains on the CPU with a warning in <c>mlContext.Log</c>; false throws.</summary>
    public bool FallbackToCpu { get; set; } = true;

    /// <summary>TorchSharp CPU threads. Default 1 (reproducible; raise on big machines).</summary>
    public int Threads { get; set; } = 1;

    /// <summary>
    /// When set, a checkpoint is written here after every epoch (weights; <c>.best</c> the best weights; <c>.optim</c> the
    /// optimiser state; <c>.json</c> epoch, best loss and epoch, patience, progress and the CPU generator state) and a run
    /// with the same settings and data resumes from it exactly: the result equals an uninterrupted run's. Default null.
    /// </summary>
    public string? CheckpointPath { get; set; }

    /// <summary>Called after every epoch.</summary>
    [JsonIgnore]
    public IProgress<TrainingProgress>? Progress { get; set; }

    /// <summary>Called after every training mini-batch (progress inside long epochs). Default null.</summary>
    [JsonIgnore]
    public IProgress<BatchProgress>? BatchProgress { get; set; }

    /// <summary>Cancels training (between mini-batches) with <see cref="OperationCanceledException"/>.</summary>
    [JsonIgnore]
    public CancellationToken Cancellation { get; set; }

    /// <summary>Where warnings go (the trainer's MLContext channel).</summary>
    [JsonIgnore]
    internal Action<string>? Warning { get; set; }

    /// <summary>A copy (callbacks shared).</summary>
    internal TrainerOptions Clone() => (TrainerOptions)MemberwiseClone();

    internal void Validate()
    {
        if (!Enum.IsDefined(Device)) throw new ArgumentOutOfRangeException(nameof(Device), Device, "Device must be Cpu or Cuda.");
        if (DeviceId < 0) throw new ArgumentOutOfRangeException(nameof(DeviceId), DeviceId, "DeviceId must be 0 or positive.");
        if (MaxEpochs < 1) throw new ArgumentOutOfRangeException(nameof(MaxEpochs), MaxEpochs, "MaxEpochs must be at least 1.");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "BatchSize must be at least 1.");
        if (!(LearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "LearningRate must be positive.");
        if (ValidationFraction is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(ValidationFraction), ValidationFraction, "ValidationFraction must be in [0, 1).");
        if (EarlyStoppingPatience < 1) throw new ArgumentOutOfRangeException(nameof(EarlyStoppingPatience), EarlyStoppingPatience, "EarlyStoppingPatience must be at least 1.");
    }
}

/// <summary>What a training run did.</summary>
/// <param name="Epochs">Per-epoch progress.</param>
/// <param name="BestEpoch">The epoch whose weights were kept.</param>
/// <param name="TrainRows">Rows trained on.</param>
/// <param name="ValidationRows">Rows held out for early stopping.</param>
public sealed record TrainingReport(IReadOnlyList<TrainingProgress> Epochs, int BestEpoch, int TrainRows, int ValidationRows);
