using System.CommandLine;
using EmotionML.FaceFeatures;
using EmotionML.Experiments;
using EmotionML.Training.Fusion;
using Microsoft.ML;

namespace EmotionML.Cli.Commands;

/// <summary><c>emotionml evaluate</c>: speaker-independent cross-validation of the audio-visual model (or the whole experiment table).</summary>
internal static class EvaluateCommand
{
    public static Command Create(Func<CliContext> context)
    {
        var dataset = new Option<string>("--dataset") { Description = "Shared audio-visual dataset (default javanese-av).", DefaultValueFactory = _ => "javanese-av" };
        var manifest = new Option<FileInfo?>("--manifest") { Description = "Evaluate on a manifest CSV (path,label,speaker) instead of a shared dataset.", HelpName = "m.csv" };
        var folds = new Option<int>("--folds") { Description = "Speaker-independent folds (default: one per speaker, up to 7).", DefaultValueFactory = _ => 0 };
        var frames = new Option<int>("--frames") { Description = "Frames per clip. Default 8.", DefaultValueFactory = _ => 8 };
        var backbone = EnumOption.Create<FaceBackboneKind>("--backbone", "Face backbone of the main features", FaceBackboneKind.FerDenseNet121);
        var faceAttention = EnumOption.Create<AttentionKind>("--face-attention", "Attention over frames", AttentionKind.Transformer);
        var audioAttention = EnumOption.Create<AttentionKind>("--audio-attention", "Attention over audio positions", AttentionKind.Transformer);
        var fusion = EnumOption.Create<FusionKind>("--fusion", "Cross-modal fusion", FusionKind.Fbp);
        var modalities = EnumOption.Create<Modalities>("--modalities", "Modalities", Modalities.Both);
        var audioCnn = new Option<FileInfo?>("--audio-cnn") { Description = $"Trained audio CNN (ONNX). Default {AudioCnnModel.DefaultPath}; trained on RAVDESS first if missing.", HelpName = "cnn.onnx" };
        var epochs = new Option<int>("--epochs") { Description = "Maximum epochs of the head (early stopping on held-out training speakers, patience 6). Default 40.", DefaultValueFactory = _ => 40 };
        var experiments = new Option<bool>("--experiments") { Description = "Run the whole experiment table: modalities, the 3×3 attention grid, the enhancement variants and ensembles." };
        var markdown = new Option<FileInfo?>("--markdown") { Description = "Write the result table (with this command) as markdown here.", HelpName = "out.md" };
        var json = new Option<FileInfo?>("--json") { Description = "With --experiments: also write the table as JSON here (read by notebooks/).", HelpName = "out.json" };
        var seed = new Option<int>("--seed") { Description = "Seed. Default 0.", DefaultValueFactory = _ => 0 };
        var noArMean = new Option<bool>("--no-ar-mean") { Description = "With --experiments: leave out F-AR-Mean (its second backbone's 18 copies per frame dominate extraction time on CPU)." };
        var speakerAdaptation = new Option<bool>("--speaker-adaptation") { Description = "Run the speaker-adaptation protocol instead (its own protocol: each speaker normalised by its own unlabelled clips; leave-one-speaker-out × 3 seeds, beside the plain speaker-independent rows)." };
        var calibrationClips = new Option<int>("--calibration-clips") { Description = "With --speaker-adaptation: unlabelled calibration clips of the held-out speaker. Default 6.", DefaultValueFactory = _ => 6 };
        var probeOnly = new Option<bool>("--probe-only") { Description = "With --speaker-adaptation: only the linear-probe rows (no fusion head)." };
        var command = new Command("evaluate", "Speaker-independent cross-validation on audio-visual clips: features are extracted once (cached), then the fusion head is trained on the other speakers for each fold and scored with ML.NET's evaluator. Prints accuracy, macro-F1 and the confusion matrix.")
        {
            dataset, manifest, folds, frames, backbone, faceAttention, audioAttention, fusion, modalities, audioCnn, epochs, experiments, markdown, json, seed, noArMean, speakerAdaptation, calibrationClips, probeOnly,
        };
        command.SetAction(parse =>
        {
            var ctx = context();
            var clips = Clips.Load(parse.GetValue(manifest), parse.GetValue(dataset)!);
            var speakers = clips.Select(c => c.Speaker).Distinct().Count();
            var k = parse.GetValue(folds) is > 0 and var f ? f : Math.Min(7, speakers);
            var ml = ctx.CreateMLContext(parse.GetValue(seed));
            var log = new SyncProgress<string>(ctx.Error.WriteLine);
            var o = new ExperimentSuiteOptions
            {
                Folds = k,
                Frames = parse.GetValue(frames),
                Backbone = parse.GetValue(backbone),
                Sections = parse.GetValue(experiments) ? ExperimentSections.All : ExperimentSections.Modalities,
                IncludeArMean = !parse.GetValue(noArMean),
            };
            o.Training.MaxEpochs = parse.GetValue(epochs);
            o.Training.Seed = parse.GetValue(seed);
            o.Training.Threads = ctx.Threads > 0 ? ctx.Threads : 1;
            o.Training.Device = ctx.Device;
            var mods = parse.GetValue(modalities);
            if (mods != Modalities.FaceOnly) o.AudioCnnOnnx = AudioCnnModel.Ensure(ctx, ml, parse.GetValue(audioCnn), log);
            if (parse.GetValue(speakerAdaptation))
                return SpeakerAdaptationEvaluation.Run(ctx, clips, o.Backbone, o.Frames, o.Training.MaxEpochs, parse.GetValue(seed), parse.GetValue(calibrationClips), parse.GetValue(probeOnly),
                    o.AudioCnnOnnx, parse.GetValue(markdown));
            if (!parse.GetValue(experiments))
            {
                // One configuration.
                var set = new FusionFeatureSet { Clips = clips, Frames = o.Frames, FrameMask = new float[clips.Count][] };
                var variant = $"basic-{ExperimentSuite.Short(o.Backbone)}";
                ctx.WithProgress("face features", clips.Count, step => FusionExperiment.AddFaceFeatures(ml, set, [new(variant, new FaceFeatureOptions { Backbone = o.Backbone })], new SyncProgress<int>(_ => step(null))));
                if (o.AudioCnnOnnx != null) FusionExperiment.AddAudioFeatures(ml, set, o.AudioCnnOnnx, o.SpectrogramFrames);
                set = ClipFailures.Report(ctx, set);
                if (set.Clips.Select(c => c.Speaker).Distinct().Count() < k)
                    throw new InvalidInputException($"{set.Clips.Count} usable clips of {set.Clips.Select(c => c.Speaker).Distinct().Count()} speakers left: too few for {k} folds.");
                var head = o.Head with { FaceAttention = parse.GetValue(faceAttention), AudioAttention = parse.GetValue(audioAttention), Fusion = parse.GetValue(fusion), Modalities = mods };
                var name = FusionHeadTrainer.Describe(head);
                var r = FusionExperiment.Run(ml, set, variant, head, o.Training, k, name, log);
                ctx.Output.WriteLine($"{name}: accuracy {r.AccuracyText} %, macro-F1 {100 * r.MeanMacroF1:0.0} ± {100 * r.StdMacroF1:0.0} % ({k}-fold speaker-independent, {set.Clips.Count} clips, face found in {set.FaceFoundRate:P1} of frames)");
                ctx.Output.WriteLine(r.ConfusionMarkdown());
                if (parse.GetValue(markdown) is { } md)
                    File.WriteAllText(md.FullName, ExperimentSuite.Markdown([new ExperimentRow("configuration", r, 0)], ctx.CommandLine, set, o) + "\n" + r.ConfusionMarkdown());
                return ClipFailures.Finish(ctx, set.Failures.Count, clips.Count);
            }
            var (rows, features) = ExperimentSuite.Run(ml, clips, o, log);
            var table = ExperimentSuite.Markdown(rows, ctx.CommandLine, features, o);
            ctx.Output.WriteLine(table);
            var best = rows.Where(r => r.Section == "grid").OrderByDescending(r => r.Result.MeanAccuracy).FirstOrDefault();
            if (best != null) ctx.Output.WriteLine($"Confusion matrix of {best.Result.Name} (pooled over folds; chosen after the fact, for illustration only):\n\n{best.Result.ConfusionMarkdown()}");
            if (parse.GetValue(json) is { } jsonFile)
                File.WriteAllText(jsonFile.FullName, ExperimentSuite.Json(rows, ctx.CommandLine, features));
            if (parse.GetValue(markdown) is { } file)
                File.WriteAllText(file.FullName, table + (best != null ? $"\nConfusion matrix of {best.Result.Name} (pooled over folds):\n\n{best.Result.ConfusionMarkdown()}" : ""));
            return ClipFailures.Finish(ctx, features.Failures.Count, clips.Count);
        });
        return command;
    }
}
