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
        var defaults = new ExperimentSuiteOptions();
        var dataset = new Option<string>("--dataset") { Description = "Shared audio-visual dataset (default javanese-av).", DefaultValueFactory = _ => "javanese-av" };
        var manifest = new Option<FileInfo?>("--manifest") { Description = "Evaluate on a manifest CSV (path,label,speaker) instead of a shared dataset.", HelpName = "m.csv" };
        var folds = new Option<int>("--folds") { Description = "Speaker-independent folds (default: one per speaker, up to 7).", DefaultValueFactory = _ => 0 };
        var seeds = new Option<int>("--seeds") { Description = $"Seeds per head configuration; every row is seeds × folds runs (mean ± std over all). Default {defaults.Seeds}.", DefaultValueFactory = _ => defaults.Seeds };
        var frames = new Option<int>("--frames") { Description = $"Frames per clip. Default {defaults.Frames}.", DefaultValueFactory = _ => defaults.Frames };
        var backbone = EnumOption.Create<FaceBackboneKind>("--backbone", "Face backbone of the main features", defaults.Backbone);
        var backboneOnnx = new Option<FileInfo?>("--backbone-onnx") { Description = "ONNX file of --backbone to use instead of the shipped one (e.g. a FER2013 fine-tuned backbone); its features are cached apart.", HelpName = "backbone.onnx" };
        var enhancement = EnumOption.Create<FeatureEnhancement>("--enhancement", "Feature enhancement of the main features", defaults.Enhancement);
        var enhancementBackbone = EnumOption.Create<FaceBackboneKind>("--enhancement-backbone", "With --experiments: backbone of the enhancement variants", defaults.EnhancementBackbone);
        var faceAttention = EnumOption.Create<AttentionKind>("--face-attention", "Attention over frames", defaults.Head.FaceAttention);
        var audioAttention = EnumOption.Create<AttentionKind>("--audio-attention", "Attention over audio positions", defaults.Head.AudioAttention);
        var fusion = EnumOption.Create<FusionKind>("--fusion", "Cross-modal fusion", defaults.Head.Fusion);
        var modalities = EnumOption.Create<Modalities>("--modalities", "Modalities", defaults.Head.Modalities);
        var audioCnn = new Option<FileInfo?>("--audio-cnn") { Description = $"Trained audio CNN (ONNX). Default {AudioCnnModel.DefaultPath}; trained on RAVDESS first if missing.", HelpName = "cnn.onnx" };
        var epochs = new Option<int>("--epochs") { Description = $"Maximum epochs of the head (early stopping on held-out training speakers, patience {defaults.Training.EarlyStoppingPatience}). Default {defaults.Training.MaxEpochs}.", DefaultValueFactory = _ => defaults.Training.MaxEpochs };
        var validationSpeakers = new Option<int>("--validation-speakers") { Description = $"Training speakers held out per fold for early stopping. Default {defaults.ValidationSpeakers}.", DefaultValueFactory = _ => defaults.ValidationSpeakers };
        var standardize = new Option<bool>("--standardize") { Description = "Standardise the head's inputs by their mean/std over the training rows (stored in the head). Default off." };
        var standardizeAudio = new Option<bool>("--standardize-audio") { Description = "Standardise only the head's audio inputs (the face features as they are). Default off." };
        var trainingFrames = new Option<int>("--training-frames") { Description = $"Random real frames per clip in each training step (0 = all; prediction uses all). Default {defaults.Head.TrainingFrames}.", DefaultValueFactory = _ => defaults.Head.TrainingFrames };
        var learningRate = new Option<double>("--lr") { Description = $"Head learning rate. Default {defaults.Training.LearningRate}.", DefaultValueFactory = _ => defaults.Training.LearningRate };
        var dropout = new Option<double>("--dropout") { Description = $"Dropout before the classifier and the attention scores. Default {defaults.Head.ClassifierDropout}.", DefaultValueFactory = _ => defaults.Head.ClassifierDropout };
        var experiments = new Option<bool>("--experiments") { Description = "Run the experiment table: the main configuration, the head's fixes one by one, modalities with linear probes, the 3×3 attention grid, the enhancement variants, ensembles and the paper's claims as paired differences." };
        var sections = new Option<string?>("--sections") { Description = "With --experiments: comma-separated sections to run (main, ablation, modalities, grid, enhancement, ensemble, backbones). Default all but backbones.", HelpName = "list" };
        var markdown = new Option<FileInfo?>("--markdown") { Description = "Write the result table (with this command) as markdown here.", HelpName = "out.md" };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the table as JSON here (read by notebooks/).", HelpName = "out.json" };
        var seed = new Option<int>("--seed") { Description = "First seed. Default 0.", DefaultValueFactory = _ => 0 };
        var noArMean = new Option<bool>("--no-ar-mean") { Description = "With --experiments: leave out F-AR-Mean." };
        var noMeanStd2 = new Option<bool>("--no-fmeanstd2") { Description = "With --experiments: leave out F-MeanStd-2 (its own 18 copies per frame: the costliest variant on CPU)." };
        var speakerAdaptation = new Option<bool>("--speaker-adaptation") { Description = "Run the speaker-adaptation protocol instead (its own protocol: each speaker normalised by its own unlabelled clips; leave-one-speaker-out × 3 seeds, beside the plain speaker-independent rows)." };
        var calibrationClips = new Option<int>("--calibration-clips") { Description = "With --speaker-adaptation: unlabelled calibration clips of the held-out speaker. Default 6.", DefaultValueFactory = _ => 6 };
        var extraBackbones = new Option<string?>("--extra-backbones") { Description = "With --speaker-adaptation: comma-separated shipped backbones (densenet121 → ferdensenet121, mobilefacenet, minixception) whose Basic frame features are joined to --backbone's.", HelpName = "list" };
        var geometry = EnumOption.Create<FaceGeometryUse>("--geometry", "The 68-landmark face geometry (mouth opening, mouth-corner lift, eye aperture, brow raise…, normalised by the eye distance) in the main face feature, frame by frame (main job, its probe and --speaker-adaptation)", FaceGeometryUse.None);
        var skipFaceless = new Option<bool>("--skip-faceless-frames") { Description = "Leave frames without a face out of the head's frame attention and the probe's clip means (the face alignment's FaceMask as the frame mask); by default they take part as whole-frame crops." };
        var acoustic = EnumOption.Create<AcousticFeaturesUse>("--acoustic", "The clips' acoustic functionals (65: MFCC, energy, pitch, harmonicity, spectral shape, rhythm) as audio features: joined to every position of the audio CNN's features, alone instead of them (no audio CNN), or chosen (with --speaker-adaptation --probe-only: CNN, functionals or both, per fold on the training speakers)", AcousticFeaturesUse.None);
        var lateFusion = new Option<bool>("--late-fusion") { Description = "With --speaker-adaptation: also the late-fusion rows (a probe on the face part and one on the audio part, probabilities averaged)." };
        var probeOnly = new Option<bool>("--probe-only") { Description = "With --speaker-adaptation: only the linear-probe rows (no fusion head)." };
        var command = new Command("evaluate", "Speaker-independent cross-validation on audio-visual clips: features are extracted once (cached), then the fusion head is trained on the other speakers for each fold and seed and scored with ML.NET's evaluator, beside a linear probe on the same features. Prints accuracy, macro-F1 and the confusion matrix.")
        {
            dataset, manifest, folds, seeds, frames, backbone, backboneOnnx, enhancement, enhancementBackbone, faceAttention, audioAttention, fusion, modalities, audioCnn, epochs,
            validationSpeakers, standardize, standardizeAudio, trainingFrames, learningRate, dropout, experiments, sections, markdown, json, seed, noArMean, noMeanStd2, speakerAdaptation, calibrationClips, probeOnly, extraBackbones, geometry, skipFaceless, acoustic, lateFusion,
        };
        command.SetAction(parse =>
        {
            var ctx = context();
            // Checked before any work (feature extraction, the audio CNN): a misspelt backbone fails at once.
            var extras = ParseBackbones(parse.GetValue(extraBackbones));
            if (parse.GetValue(geometry) == FaceGeometryUse.Alone && extras.Count > 0)
                throw new UsageException("--geometry alone uses the landmark measures instead of every backbone's features; --extra-backbones would be ignored. Use --geometry joined to add them to the backbones.");
            if (parse.GetValue(skipFaceless) && parse.GetValue(speakerAdaptation))
                throw new UsageException("--skip-faceless-frames is not supported with --speaker-adaptation (its statistics use every real frame); leave one of them out.");
            if (parse.GetValue(lateFusion) && !parse.GetValue(speakerAdaptation))
                throw new UsageException("--late-fusion adds rows to the speaker-adaptation protocol: use it with --speaker-adaptation.");
            if (parse.GetValue(acoustic) == AcousticFeaturesUse.Chosen && !(parse.GetValue(speakerAdaptation) && parse.GetValue(probeOnly)))
                throw new UsageException("--acoustic chosen picks the speaker-adaptation probe's audio part per fold: use it with --speaker-adaptation --probe-only (or joined / alone for the head).");
            if (parse.GetValue(speakerAdaptation) && parse.GetValue(modalities) == Modalities.AudioOnly && !parse.GetValue(probeOnly))
                throw new UsageException("--speaker-adaptation --modalities AudioOnly needs --probe-only (the fusion-head rows read face features).");
            var clips = Clips.Load(parse.GetValue(manifest), parse.GetValue(dataset)!);
            var speakers = clips.Select(c => c.Speaker).Distinct().Count();
            var k = parse.GetValue(folds) is > 0 and var f ? f : Math.Min(7, speakers);
            var ml = ctx.CreateMLContext(parse.GetValue(seed));
            var log = new SyncProgress<string>(ctx.Error.WriteLine);
            var all = parse.GetValue(experiments);
            var o = new ExperimentSuiteOptions
            {
                Folds = k,
                Seeds = Math.Max(1, parse.GetValue(seeds)),
                FirstSeed = parse.GetValue(seed),
                Frames = parse.GetValue(frames),
                Backbone = parse.GetValue(backbone),
                BackboneOnnx = parse.GetValue(backboneOnnx)?.FullName,
                Enhancement = parse.GetValue(enhancement),
                EnhancementBackbone = parse.GetValue(enhancementBackbone),
                ValidationSpeakers = parse.GetValue(validationSpeakers),
                Sections = all ? ParseSections(parse.GetValue(sections)) : ExperimentSections.Main,
                FaceGeometry = parse.GetValue(geometry),
                SkipFacelessFrames = parse.GetValue(skipFaceless),
                Acoustic = parse.GetValue(modalities) == Modalities.FaceOnly ? AcousticFeaturesUse.None : parse.GetValue(acoustic),
                // A long table resumes after a stop: finished (configuration, seed) runs are kept under $EMOTIONML_CACHE/runs.
                ResumeRuns = all,
            };
            o.Enhancements = o.Enhancements.Where(e => !(parse.GetValue(noArMean) && e == FeatureEnhancement.FArMean) && !(parse.GetValue(noMeanStd2) && e == FeatureEnhancement.FMeanStd2)).ToArray();
            var p = parse.GetValue(dropout);
            o.Head = o.Head with
            {
                FaceAttention = parse.GetValue(faceAttention), AudioAttention = parse.GetValue(audioAttention), Fusion = parse.GetValue(fusion), Modalities = parse.GetValue(modalities),
                Standardize = parse.GetValue(standardize) || parse.GetValue(standardizeAudio), StandardizeFace = !parse.GetValue(standardizeAudio), TrainingFrames = parse.GetValue(trainingFrames), ClassifierDropout = p, AttentionDropout = p,
            };
            o.Training.MaxEpochs = parse.GetValue(epochs);
            o.Training.LearningRate = parse.GetValue(learningRate);
            o.Training.Threads = ctx.Threads > 0 ? ctx.Threads : 1;
            o.Training.Device = ctx.Device;
            var acousticUse = o.Acoustic;
            // The functionals alone need no audio CNN (none is trained for them).
            var needsCnn = acousticUse != AcousticFeaturesUse.Alone;
            if (needsCnn && (o.Head.Modalities != Modalities.FaceOnly || all)) o.AudioCnnOnnx = AudioCnnModel.Ensure(ctx, ml, parse.GetValue(audioCnn), log);
            if (parse.GetValue(speakerAdaptation))
                return SpeakerAdaptationEvaluation.Run(ctx, clips, o.Head.Modalities == Modalities.AudioOnly ? null : o.Backbone, o.BackboneOnnx, extras, o.FaceGeometry, o.Frames, o.Training.MaxEpochs,
                    parse.GetValue(seed), parse.GetValue(calibrationClips), parse.GetValue(probeOnly), o.AudioCnnOnnx, acousticUse, parse.GetValue(folds), parse.GetValue(lateFusion), parse.GetValue(markdown)?.FullName);
            var (rows, features) = ExperimentSuite.Run(ml, clips, o, log, set =>
            {
                set = ClipFailures.Report(ctx, set);
                if (set.Clips.Select(c => c.Speaker).Distinct().Count() < k)
                    throw new InvalidInputException($"{set.Clips.Count} usable clips of {set.Clips.Select(c => c.Speaker).Distinct().Count()} speakers left: too few for {k} folds.");
                return set;
            });
            var table = ExperimentSuite.Markdown(rows, ctx.CommandLine, features, o);
            var confusion = "";
            if (rows.FirstOrDefault(r => r.Key == "main") is { } head)
            {
                // Each clip counted once: the confusion matrix of the seeds' mean scores (of the one run with one seed).
                var pooled = rows.FirstOrDefault(r => r.Key == "main-ensemble")?.Result.Runs[0] ?? head.Result.Runs[0];
                ctx.Output.WriteLine($"{head.Result.Name}: accuracy {head.Result.AccuracyText} %, macro-F1 {100 * head.Result.MeanMacroF1:0.0} ± {100 * head.Result.StdMacroF1:0.0} % over {o.Seeds} seed(s) × {k} folds ({k}-fold speaker-independent, {features.Clips.Count} clips, face found in {features.FaceFoundRate:P1} of frames)");
                confusion = $"Confusion matrix of {pooled.Name} (pooled over folds):\n\n{pooled.ConfusionMarkdown()}";
            }
            ctx.Output.WriteLine(table);
            if (confusion.Length > 0) ctx.Output.WriteLine(confusion);
            if (parse.GetValue(json) is { } jsonFile)
                File.WriteAllText(jsonFile.FullName, ExperimentSuite.Json(rows, ctx.CommandLine, features));
            if (parse.GetValue(markdown) is { } file)
                File.WriteAllText(file.FullName, table + (confusion.Length > 0 ? "\n" + confusion : ""));
            return ClipFailures.Finish(ctx, features.Failures.Count, clips.Count);
        });
        return command;
    }

    private static ExperimentSections ParseSections(string? list)
    {
        if (string.IsNullOrWhiteSpace(list)) return ExperimentSections.All & ~ExperimentSections.Backbones;
        var result = (ExperimentSections)0;
        foreach (var name in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Enum.TryParse<ExperimentSections>(name, ignoreCase: true, out var s) || s == ExperimentSections.All)
                throw new InvalidInputException($"--sections {name}: expected main, ablation, modalities, grid, enhancement, ensemble or backbones.");
            result |= s;
        }
        return result;
    }

    internal static IReadOnlyList<FaceBackboneKind> ParseBackbones(string? list)
    {
        if (string.IsNullOrWhiteSpace(list)) return [];
        var result = new List<FaceBackboneKind>();
        foreach (var name in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var text = name.Equals("densenet121", StringComparison.OrdinalIgnoreCase) ? nameof(FaceBackboneKind.FerDenseNet121) : name;
            if (!Enum.TryParse<FaceBackboneKind>(text, ignoreCase: true, out var b) || !Enum.IsDefined(b))
                throw new InvalidInputException($"--extra-backbones {name}: expected {string.Join(", ", Enum.GetNames<FaceBackboneKind>().Select(n => n.ToLowerInvariant()))}.");
            result.Add(b);
        }
        return result;
    }
}
