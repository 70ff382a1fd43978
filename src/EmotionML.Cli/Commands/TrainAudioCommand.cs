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
        var dataset = new Option<string>("--dataset") { Description = "Shared speech dataset to train on (default ravdess-speech-16k).", DefaultValueFactory = _ => "ravdess-speech-16k" };
        var manifest = new Option<FileInfo?>("--manifest") { Description = "Train on a manifest CSV (path,label,speaker) instead of a shared dataset.", HelpName = "m.csv" };
        var output = new Option<FileInfo?>("--out", "-o") { Description = $"ONNX file to write (default {AudioCnnModel.DefaultPath}, which evaluate/train use).", HelpName = "cnn.onnx" };
        var folds = new Option<int>("--folds") { Description = "Run speaker-independent k-fold CV first and report accuracy and the confusion matrix (0 = skip). Default 0.", DefaultValueFactory = _ => 0 };
        var epochs = new Option<int>("--epochs") { Description = "Maximum epochs (early stopping on held-out speakers). Default 30.", DefaultValueFactory = _ => 30 };
        var frames = new Option<int>("--frames") { Description = "Spectrogram frames (10 ms each; centre crop / pad). Default 300.", DefaultValueFactory = _ => 300 };
        var channels = new Option<string>("--channels") { Description = "Channels of the 5 conv layers, e.g. 32-64-128-96-64 (default, CPU-sized) or 64-128-256-192-128 (4× the compute).", DefaultValueFactory = _ => "32-64-128-96-64" };
        var markdown = new Option<FileInfo?>("--markdown") { Description = "Write the CV result (accuracy, per-fold, confusion matrix) as markdown here.", HelpName = "out.md" };
        var seed = new Option<int>("--seed") { Description = "Seed. Default 0.", DefaultValueFactory = _ => 0 };
        var command = new Command("train-audio", "Train the AlexNet-style audio CNN on speech spectrograms with TorchSharp (early stopping on held-out speakers) and export it to ONNX; with --folds, first report its speaker-independent accuracy.")
        {
            dataset, manifest, output, folds, epochs, frames, channels, markdown, seed,
        };
        command.SetAction(parse =>
        {
            var ctx = context();
            var clips = Clips.Load(parse.GetValue(manifest), parse.GetValue(dataset)!);
            var o = new AudioCnnExperimentOptions { Frames = parse.GetValue(frames), Folds = parse.GetValue(folds) };
            o.Trainer.Training.MaxEpochs = parse.GetValue(epochs);
            o.Trainer.Training.Seed = parse.GetValue(seed);
            o.Trainer.Training.Threads = ctx.Threads > 0 ? ctx.Threads : Environment.ProcessorCount;
            o.Trainer.Training.Device = ctx.Device;
            o.Trainer.Network = o.Trainer.Network with { Channels = Clips.ParseChannels(parse.GetValue(channels)!) };
            var ml = ctx.CreateMLContext(parse.GetValue(seed));
            float[][]? spectrograms = null;
            ctx.WithProgress("spectrograms", clips.Count, step => spectrograms = AudioCnnExperiment.Spectrograms(ml, clips, o.Frames, new SyncProgress<int>(_ => step(null))));
            var log = new SyncProgress<string>(ctx.Error.WriteLine);
            if (o.Folds > 0)
            {
                var cv = AudioCnnExperiment.Run(ml, clips, o, log, spectrograms);
                ctx.Output.WriteLine($"audio CNN, {o.Folds}-fold speaker-independent CV: accuracy {cv.AccuracyText} %, macro-F1 {100 * cv.MeanMacroF1:0.0} ± {100 * cv.StdMacroF1:0.0} %");
                ctx.Output.WriteLine(cv.ConfusionMarkdown());
                if (parse.GetValue(markdown) is { } md)
                    File.WriteAllText(md.FullName, $"Command: `{ctx.CommandLine}`\n\n{clips.Count} clips, {clips.Select(c => c.Speaker).Distinct().Count()} speakers; accuracy {cv.AccuracyText} %, macro-F1 {100 * cv.MeanMacroF1:0.0} ± {100 * cv.StdMacroF1:0.0} %; per fold: {string.Join(", ", cv.Folds.Select(f => $"{string.Join("+", f.TestSpeakers)} {100 * f.Accuracy:0.0}"))}\n\n{cv.ConfusionMarkdown()}");
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
