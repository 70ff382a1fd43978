using EmotionML.AudioCnn;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EmotionML;

public static partial class EmotionCatalog
{
    /// <summary>
    /// Runs a trained audio CNN (an ONNX file written by <c>emotionml train-audio</c> or <c>AudioCnnTrainer</c>) on the
    /// <c>Spectrogram</c> column and adds <c>AudioFeatures</c> [n, C] and <c>AudioMask</c> [n].
    /// </summary>
    public static AudioFeatureEstimator ExtractAudioFeatures(this TransformsCatalog catalog, string onnxPath, AudioFeatureOptions? options = null)
        => new(CatalogUtils.GetEnvironment(catalog), onnxPath, options ?? new AudioFeatureOptions());
}
