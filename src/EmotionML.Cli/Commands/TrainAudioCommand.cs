using System.CommandLine;
using EmotionML.Training;
using EmotionML.Experiments;
using Microsoft.ML;

namespace EmotionML.Cli.Commands;

/// <summary><c>emotionml train-audio</c>: trains the audio CNN on labelled speech (RAVDESS by default), optionally with speaker-independent CV, and writes its ONNX graph.</summary>
internal static class TrainAudioCommand
{
    public static Command Create(Func<CliContext> context)
    {
        var recipe = AudioCnnModel.Recipe();
        var aug = recipe.Trainer.Augmentation;
        var dataset = new Option<string>("--dataset") { Description = "Shared speech dataset to train on (default ravdess-speech-16k).", DefaultValueFactory = _ => "ravdess-speech-16k" };
        var manifest = new Option<FileInfo?>("--manifest") { Description = "Train on a manifest CSV (path,label,speaker) instead of a shared dataset.", HelpName = "m.csv" };
        var output = new Option<FileInfo?>("--out", "-o") { Description = $"ONNX file to write (default {AudioCnnModel.DefaultPath}, which evaluate/train use).", HelpName = "cnn.onnx" };
        var folds = new Option<int>("--folds") { Description = "Run speaker-independent k-fold CV first and report accuracy and the confusion matrix (0 = skip). Default 0.", DefaultValueFactory = _ => 0 };
        var epochs = new Option<int>("--epochs") { Description = $"Maximum epochs (early stopping on held-out speakers). Default {recipe.Trainer.Training.MaxEpochs}.", DefaultValueFactory = _ => recipe.Trainer.Training.MaxEpochs };
        var frames = new Option<int>("--frames") { Description = "Spectrogram frames (10 ms each; centre crop / pad). Default 300.", DefaultValueFactory = _ => 300 };
        var channelsDefault = string.Join("-", recipe.Trainer.Network.Channels);
        var channels = new Option<string>("--channels") { Description = $"Channels of the 5 conv layers, e.g. 32-64-128-96-64 (CPU-sized) or 64-128-256-192-128 (4× the compute). Default {channelsDefault}.", DefaultValueFactory = _ => channelsDefault };
        var normalization = new Option<EmotionML.Training.AudioCnn.AudioNormalization>("--normalization") { Description = $"Input normalisation inside the CNN: Global (one mean/std from the training set), Utterance (per utterance: mean and std over its real frames), UtteranceBins (per-bin means too). Default {recipe.Trainer.Network.Normalization}.", DefaultValueFactory = _ => recipe.Trainer.Network.Normalization };
        var crop = new Option<int>("--crop") { Description = $"Random time crop of this many frames in training (0 = none; the whole spectrogram at test time). Default {aug.CropFrames}.", DefaultValueFactory = _ => aug.CropFrames };
        var timeMasks = new Option<int>("--time-masks") { Description = $"SpecAugment time masks per training item (up to {aug.TimeMaskFrames} frames each). Default {aug.TimeMasks}.", DefaultValueFactory = _ => aug.TimeMasks };
        var freqMasks = new Option<int>("--freq-masks") { Description = $"SpecAugment frequency masks per training item (up to {aug.FrequencyMaskBins} bins each). Default {aug.FrequencyMasks}.", DefaultValueFactory = _ => aug.FrequencyMasks };
        var mixup = new Option<double>("--mixup") { Description = $"Mixup α (0 = off). Default {aug.MixupAlpha}.", DefaultValueFactory = _ => aug.MixupAlpha };
        var validation = new Option<double>("--validation-fraction") { Description = $"Share of the training speakers held out for early stopping (0.25 of 9 = 2 speakers). Default {recipe.Trainer.Training.ValidationFraction}.", DefaultValueFactory = _ => recipe.Trainer.Training.ValidationFraction };
        var patience = new Option<int>("--patience") { Description = $"Early-stopping patience in epochs. Default {recipe.Trainer.Training.EarlyStoppingPatience}.", DefaultValueFactory = _ => recipe.Trainer.Training.EarlyStoppingPatience };
        var stopOn = new Option<EarlyStoppingMetric>("--stop-on") { Description = $"Early stopping on the validation speakers' Loss or Accuracy. Default {recipe.Trainer.Training.EarlyStoppingMetric}.", DefaultValueFactory = _ => recipe.Trainer.Training.EarlyStoppingMetric };
        var onlyFold = new Option<int>("--only-fold") { Description = "With --folds: run only this fold (1-based), e.g. to run folds as parallel processes. Default 0 (all).", DefaultValueFactory = _ => 0 };
        var cvOnly = new Option<bool>("--cv-only") { Description = "With --folds: report the CV result and stop (no final CNN, nothing written but --markdown)." };
        var markdown = new Option<FileInfo?>("--markdown") { Description = "Write the CV result (accuracy, per-fold, confusion matrix) as markdown here.", HelpName = "out.md" };
        var trimSilence = new Option<bool>("--trim-silence") { Description = "Cut every clip to its speech (Silero VAD v5, 100 ms kept on each side) before the spectrogram." };
        var logMelDeltas = new Option<bool>("--log-mel-deltas") { Description = "The paper's alternative input: a 64-band log-Mel spectrogram, stacked inside the CNN with its Δ and ΔΔ as 3 channels, instead of the 200-bin speech spectrogram. A measurement: with --folds N --cv-only (the chain's audio stage feeds the CNN the speech spectrogram)." };
        var seed = new Option<int>("--seed") { Description = "Seed. Default 0.", DefaultValueFactory = _ => 0 };
        var command = new Command("train-audio", "Train the AlexNet-style audio CNN on speech spectrograms with TorchSharp (early stopping on held-out speakers) and export it to ONNX; with --folds, first report its speaker-independent accuracy.")
        {
            dataset, manifest, output, folds, epochs, frames, channels, normalization, crop, timeMasks, freqMasks, mixup, validation, patience, stopOn, onlyFold, markdown, seed, cvOnly, trimSilence, logMelDeltas,
        };
        command.SetAction(parse =>
        {
            var ctx = context();
            if (parse.GetValue(trimSilence) && !(parse.GetValue(cvOnly) && parse.GetValue(folds) > 0))
                throw new UsageException("--trim-silence is a measurement for now: use it with --folds N --cv-only (evaluate and train feed the CNN untrimmed spectrograms, so a CNN trained on trimmed ones is not written).");
            var logMel = parse.GetValue(logMelDeltas);
            if (logMel && !(parse.GetValue(cvOnly) && parse.GetValue(folds) > 0))
                throw new UsageException("--log-mel-deltas is a measurement for now: use it with --folds N --cv-only (evaluate and train feed the CNN the speech spectrogram, so a CNN trained on log-Mel input is not written).");
            if (logMel && parse.GetValue(trimSilence)) throw new UsageException("--trim-silence is an option of the speech spectrogram; leave out one of --trim-silence and --log-mel-deltas.");
            var clips = Clips.Load(parse.GetValue(manifest), parse.GetValue(dataset)!);
            var o = AudioCnnModel.Recipe();
            o.LogMel = logMel;
            o.Frames = parse.GetValue(frames);
            o.TrimSilence = parse.GetValue(trimSilence);

            o.Folds = parse.GetValue(folds);
            o.Trainer.Training.MaxEpochs = parse.GetValue(epochs);
            o.Trainer.Training.ValidationFraction = parse.GetValue(validation);
            o.Trainer.Training.EarlyStoppingPatience = parse.GetValue(patience);
            o.Trainer.Training.EarlyStoppingMetric = parse.GetValue(stopOn);
            o.OnlyFold = parse.GetValue(onlyFold);
            o.Trainer.Augmentation = o.Trainer.Augmentation with
            {
                CropFrames = parse.GetValue(crop), TimeMasks = parse.GetValue(timeMasks), FrequencyMasks = parse.GetValue(freqMasks), MixupAlpha = parse.GetValue(mixup),
            };
            o.Trainer.Training.Seed = parse.GetValue(seed);
            o.Trainer.Training.Threads = ctx.Threads > 0 ? ctx.Threads : Environment.ProcessorCount;
            o.Trainer.Training.Device = ctx.Device;
            o.Trainer.Network = o.Trainer.Network with { Channels = Clips.ParseChannels(parse.GetValue(channels)!), Normalization = parse.GetValue(normalization), Deltas = logMel };
            var ml = ctx.CreateMLContext(parse.GetValue(seed));
            float[][]? spectrograms = null;
            ctx.WithProgress("spectrograms", clips.Count, step => spectrograms = AudioCnnExperiment.Spectrograms(ml, clips, o.Frames, new SyncProgress<int>(_ => step(null)), o.TrimSilence, o.LogMel));
            var log = new SyncProgress<string>(ctx.Error.WriteLine);
            o.Trainer.Training.Progress = new SyncProgress<TrainingProgress>(p => ctx.Error.WriteLine(
                $"  epoch {p.Epoch}/{p.MaxEpochs}: train loss {p.TrainLoss:0.000}, validation loss {p.ValidationLoss:0.000}, accuracy {p.ValidationAccuracy:P1}{(p.IsBest ? " (best)" : "")}, {p.Seconds:0} s"));
            if (o.Folds > 0)
            {
                var reports = new List<TrainingReport>();
                var cv = AudioCnnExperiment.Run(ml, clips, o, log, spectrograms, reports);
                var validationAccuracy = reports.Select(r => r.Epochs[r.BestEpoch - 1].ValidationAccuracy).ToArray();
                var selection = $"validation speakers (held-out training actors, the selection criterion): accuracy {100 * validationAccuracy.Average():0.0} % (per fold {string.Join(", ", validationAccuracy.Select(v => $"{100 * v:0.0}"))}), best epochs {string.Join(", ", reports.Select(r => r.BestEpoch))}";
                ctx.Output.WriteLine($"audio CNN, {o.Folds}-fold speaker-independent CV: accuracy {cv.AccuracyText} %, macro-F1 {100 * cv.MeanMacroF1:0.0} ± {100 * cv.StdMacroF1:0.0} %");
                ctx.Output.WriteLine(selection);
                ctx.Output.WriteLine(cv.ConfusionMarkdown());
                if (parse.GetValue(markdown) is { } md)
                    File.WriteAllText(md.FullName, $"Command: `{ctx.CommandLine}`\n\n{clips.Count} clips, {clips.Select(c => c.Speaker).Distinct().Count()} speakers; accuracy {cv.AccuracyText} %, macro-F1 {100 * cv.MeanMacroF1:0.0} ± {100 * cv.StdMacroF1:0.0} %; per fold: {string.Join(", ", cv.Folds.Select(f => $"{string.Join("+", f.TestSpeakers)} {100 * f.Accuracy:0.0}"))}\n\n{selection}\n\n{cv.ConfusionMarkdown()}");
                if (parse.GetValue(cvOnly)) return ExitCodes.Ok;
            }
            var path = parse.GetValue(output)?.FullName ?? AudioCnnModel.DefaultPath;
            var onnx = AudioCnnModel.TrainFinal(ml, clips, o, spectrograms!, log);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            File.WriteAllBytes(path, onnx);
            ctx.Output.WriteLine($"audio CNN written to {path}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
