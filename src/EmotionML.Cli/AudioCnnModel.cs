using EmotionML.Core;
using EmotionML.Experiments;
using EmotionML.Training;
using Microsoft.ML;

namespace EmotionML.Cli;

/// <summary>The audio CNN that train and evaluate use: where it is cached, how it is trained when missing.</summary>
internal static class AudioCnnModel
{
    /// <summary>Where the RAVDESS-trained audio CNN is kept when no --out is given (reused by evaluate/train).</summary>
    /// <remarks>The name carries the recipe's version: a CNN cached by an older recipe is not reused.</remarks>
    public static string DefaultPath => Path.Combine(FeatureArrayCache.Directory, "audio-cnn-ravdess-v2.onnx");

    /// <summary>
    /// The default recipe of <c>train-audio</c> and of the first-run CNN (chosen on held-out training speakers; see
    /// docs/results.md, "Audio CNN on RAVDESS speech").
    /// </summary>
    public static AudioCnnExperimentOptions Recipe()
    {
        var o = new AudioCnnExperimentOptions();
        o.Trainer.Network = o.Trainer.Network with { Channels = [32, 64, 128, 96, 64], Normalization = EmotionML.Training.AudioCnn.AudioNormalization.Global };
        o.Trainer.Training.MaxEpochs = 30;
        o.Trainer.Training.ValidationFraction = 0.25;
        o.Trainer.Training.EarlyStoppingPatience = 6;
        o.Trainer.Augmentation = new EmotionML.Training.AudioCnn.AudioAugmentationOptions { CropFrames = 200 };
        return o;
    }

    /// <summary>The audio CNN to use: the given file, the cached RAVDESS one, or a new one trained on RAVDESS now.</summary>
    public static string Ensure(CliContext ctx, MLContext ml, FileInfo? given, IProgress<string> log)
    {
        if (given != null)
        {
            if (!given.Exists) throw new ModelFileException(given.FullName, "audio CNN ONNX file not found (make one with 'emotionml train-audio --out FILE').");
            return given.FullName;
        }
        var path = DefaultPath;
        if (File.Exists(path)) return path;
        ctx.Error.WriteLine($"no audio CNN at {path}: training one on ravdess-speech-16k first (once; see 'emotionml train-audio --help').");
        var clips = Clips.Load(null, "ravdess-speech-16k");
        var o = Recipe();
        o.Trainer.Training.Threads = ctx.Threads > 0 ? ctx.Threads : Environment.ProcessorCount;
        float[][]? spectrograms = null;
        ctx.WithProgress("RAVDESS spectrograms", clips.Count, step => spectrograms = AudioCnnExperiment.Spectrograms(ml, clips, o.Frames, new SyncProgress<int>(_ => step(null))));
        var onnx = TrainFinal(ml, clips, o, spectrograms!, log);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, onnx);
        return path;
    }

    /// <summary>Trains on all clips (early stopping on held-out speakers) and returns the feature graph's ONNX bytes.</summary>
    public static byte[] TrainFinal(MLContext ml, IReadOnlyList<ClipRecord> clips, AudioCnnExperimentOptions o, float[][] spectrograms, IProgress<string>? log)
    {
        var data = AudioCnnExperiment.TrainingView(ml, clips, spectrograms, o.Frames);
        TrainingReport? report = null;
        var trainer = ml.Transforms.TrainAudioCnn(new EmotionML.Training.AudioCnn.AudioCnnTrainerOptions
        {
            Network = o.Trainer.Network,
            Augmentation = o.Trainer.Augmentation,
            Training = AudioCnnExperiment.CopyTraining(o.Trainer.Training, "Speaker"),
            Trained = r =>
            {
                report = r.Report;
                r.Network.Dispose();
                r.Classifier.Dispose();
            },
        });
        using var features = trainer.Fit(data);
        log?.Report($"final audio CNN: best epoch {report!.BestEpoch}, validation accuracy {report.Epochs[report.BestEpoch - 1].ValidationAccuracy:P1}");
        return features.OnnxBytes;
    }
}
