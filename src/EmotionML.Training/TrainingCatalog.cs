using EmotionML.Training.AudioCnn;
using EmotionML.Training.Fusion;
using Microsoft.ML.Data;

namespace Microsoft.ML;

/// <summary>EmotionML's TorchSharp trainers as ML.NET catalog extensions, found with <c>using Microsoft.ML;</c>.</summary>
public static class EmotionTrainingCatalog
{
    /// <summary>
    /// The paper's fusion head: <c>mlContext.MulticlassClassification.Trainers.EmotionFusionHead(...)</c>. Reads
    /// FaceFeatures/FrameMask and AudioFeatures/AudioMask, writes Score, PredictedLabel and the attention weights.
    /// </summary>
    public static FusionHeadTrainer EmotionFusionHead(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, FusionHeadTrainerOptions? options = null)
        => new(CatalogUtils.GetEnvironment(catalog), options ?? new FusionHeadTrainerOptions());

    /// <summary>Trains the audio CNN on spectrograms and adds its feature set (AudioFeatures, AudioMask): <c>mlContext.Transforms.TrainAudioCnn(...)</c>.</summary>
    public static AudioCnnTrainer TrainAudioCnn(this TransformsCatalog catalog, AudioCnnTrainerOptions? options = null)
        => new(CatalogUtils.GetEnvironment(catalog), options ?? new AudioCnnTrainerOptions());
}
