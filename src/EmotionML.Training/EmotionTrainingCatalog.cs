using EmotionML.Training;
using EmotionML.Training.AudioCnn;
using EmotionML.Training.FaceTuning;
using EmotionML.Training.Fusion;
using Microsoft.ML.Data;

namespace Microsoft.ML;

/// <summary>
/// EmotionML's TorchSharp trainers as ML.NET catalog extensions of <c>mlContext.Transforms</c>, found with
/// <c>using Microsoft.ML;</c>. Each has a simple overload and an options overload; options are copied when the trainer is
/// made. The fusion head is here rather than in <c>MulticlassClassification.Trainers</c>: it reads two feature sets with
/// their masks, so it is no single-feature <c>ITrainerEstimator</c>; its output (Score, PredictedLabel) still goes to
/// <c>mlContext.MulticlassClassification.Evaluate</c> unchanged.
/// </summary>
public static class EmotionTrainingCatalog
{
    /// <summary>
    /// The paper's fusion head: <c>mlContext.Transforms.EmotionFusionHead(...)</c>. Reads
    /// FaceFeatures/FrameMask and AudioFeatures/AudioMask and a key label, writes Score, PredictedLabel and the attention weights.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="labelColumnName">Key label column (from <c>MapValueToKey</c>). Default <c>Label</c>.</param>
    /// <param name="modalities">Face and audio, or one of them. Default both.</param>
    /// <param name="maxEpochs">Epoch limit (early stopping on a validation split). Default 60.</param>
    /// <example>
    /// <code>
    /// var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label")
    ///     .Append(mlContext.Transforms.EmotionFusionHead(maxEpochs: 40));
    /// </code>
    /// </example>
    public static FusionHeadTrainer EmotionFusionHead(this TransformsCatalog catalog,
        string labelColumnName = "Label", Modalities modalities = Modalities.Both, int maxEpochs = 60)
        => catalog.EmotionFusionHead(new FusionHeadTrainerOptions
        {
            Head = new FusionHeadOptions { Modalities = modalities },
            Training = new TrainerOptions { LabelColumnName = labelColumnName, MaxEpochs = maxEpochs },
        });

    /// <summary>The fusion head with every option (architecture, optimisation, columns, the report callback).</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">The options; copied.</param>
    /// <example>
    /// <code>
    /// var head = mlContext.Transforms.EmotionFusionHead(new FusionHeadTrainerOptions
    /// {
    ///     Head = new FusionHeadOptions { FaceAttention = AttentionKind.Transformer, AudioAttention = AttentionKind.Self, Fusion = FusionKind.Fbp },
    ///     Training = new TrainerOptions { MaxEpochs = 60, GroupColumnName = "Speaker", Device = ExecutionDevice.Cuda },
    ///     Trained = r => { Console.WriteLine($"best epoch {r.Report.BestEpoch}"); r.Module.Dispose(); },
    /// });
    /// </code>
    /// </example>
    public static FusionHeadTrainer EmotionFusionHead(this TransformsCatalog catalog, FusionHeadTrainerOptions options)
        => new(CatalogUtils.GetEnvironment(catalog ?? throw new ArgumentNullException(nameof(catalog))), options);

    /// <summary>Trains the audio CNN on spectrograms and adds its feature set (AudioFeatures, AudioMask): <c>mlContext.Transforms.TrainAudioCnn(...)</c>.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="labelColumnName">Key label column. Default <c>Label</c>.</param>
    /// <param name="spectrogramColumnName">Spectrogram column [T, F]. Default <c>Spectrogram</c>.</param>
    /// <param name="maxEpochs">Epoch limit. Default 30.</param>
    /// <example>
    /// <code>
    /// var audio = mlContext.Transforms.SpeechSpectrogram().Append(mlContext.Transforms.TrainAudioCnn(maxEpochs: 20));
    /// </code>
    /// </example>
    public static AudioCnnTrainer TrainAudioCnn(this TransformsCatalog catalog, string labelColumnName = "Label", string spectrogramColumnName = "Spectrogram", int maxEpochs = 30)
    {
        var options = new AudioCnnTrainerOptions { SpectrogramColumnName = spectrogramColumnName };
        options.Training.LabelColumnName = labelColumnName;
        options.Training.MaxEpochs = maxEpochs;
        return catalog.TrainAudioCnn(options);
    }

    /// <summary>Trains the audio CNN with every option.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">The options; copied.</param>
    /// <example>
    /// <code>
    /// var audio = mlContext.Transforms.TrainAudioCnn(new AudioCnnTrainerOptions
    /// {
    ///     Network = new AudioCnnOptions { Channels = [32, 64, 128, 96, 64] },
    ///     Training = new TrainerOptions { BatchSize = 32, MaxEpochs = 30 },
    /// });
    /// </code>
    /// </example>
    public static AudioCnnTrainer TrainAudioCnn(this TransformsCatalog catalog, AudioCnnTrainerOptions options)
        => new(CatalogUtils.GetEnvironment(catalog ?? throw new ArgumentNullException(nameof(catalog))), options);

    /// <summary>
    /// Fine-tunes a face backbone on labelled face images (ImagePath text, key Label) with the CPU recipe of
    /// <see cref="FaceBackboneTrainer"/> and returns the face-feature stage running the fine-tuned graph.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">The options; copied.</param>
    /// <example>
    /// <code>
    /// var tuner = mlContext.Transforms.FineTuneFaceBackbone(new FaceBackboneTrainerOptions
    /// {
    ///     Backbone = FaceBackboneKind.MobileFaceNet,
    ///     Trained = r => File.WriteAllBytes("mobilefacenet-fer2013.onnx", r.Model),
    /// });
    /// </code>
    /// </example>
    public static FaceBackboneTrainer FineTuneFaceBackbone(this TransformsCatalog catalog, FaceBackboneTrainerOptions options)
        => new(CatalogUtils.GetEnvironment(catalog ?? throw new ArgumentNullException(nameof(catalog))), options);
}
