using System.CommandLine;
using EmotionML.FaceFeatures;
using EmotionML.Training;
using EmotionML.Training.FaceTuning;
using Microsoft.ML;

namespace EmotionML.Cli.Commands;

/// <summary>
/// <c>emotionml train-face</c>: fine-tunes a face backbone on FER2013 Training (frozen early blocks cached, the rest trained
/// with TorchSharp, early stopping on 10 % of Training), writes the fine-tuned ONNX and reports PublicTest accuracy.
/// </summary>
internal static class TrainFaceCommand
{
    private sealed class KeyRow
    {
        public string Label { get; set; } = "";
    }

    private sealed class Row
    {
        public string ImagePath { get; set; } = "";
        public string Label { get; set; } = "";
    }

    /// <summary>The default output file of a backbone: <c>$EMOTIONML_CACHE/models/&lt;backbone&gt;-fer2013[-head].onnx</c>.</summary>
    internal static string DefaultPath(FaceBackboneKind kind, bool headOnly)
        => Path.Combine(FaceBackboneTrainer.CacheRoot(null), "models", $"{kind.ToString().ToLowerInvariant()}-fer2013{(headOnly ? "-head" : "")}.onnx");

    public static Command Create(Func<CliContext> context)
    {
        var backbone = new Option<string>("--backbone") { Description = "mobilefacenet (default) or densenet121.", DefaultValueFactory = _ => "mobilefacenet" };
        backbone.AcceptOnlyFromAmong("mobilefacenet", "densenet121");
        var fer = new Option<DirectoryInfo?>("--fer") { Description = "FER2013 folder (labels.csv); default the shared data/fer2013.", HelpName = "dir" };
        var epochs = new Option<int>("--epochs") { Description = "Maximum epochs (early stopping on 10 % of Training). Default 12.", DefaultValueFactory = _ => 12 };
        var freeze = new Option<string?>("--freeze") { Description = "Last frozen tensor of the graph (default: mobilefacenet 638, densenet121 1043). Everything up to it is computed once and cached.", HelpName = "tensor" };
        var headOnly = new Option<bool>("--head-only") { Description = "Train only a new 7-class head on the frozen feature (the as-shipped baseline)." };
        var copies = new Option<int>("--copies") { Description = "Cached views per training image: 1 image, 2 + mirror, more + random rotation/scale/shift. Default 4.", DefaultValueFactory = _ => 4 };
        var lr = new Option<double>("--lr") { Description = "Learning rate (AdamW, cosine). Default 0.001.", DefaultValueFactory = _ => 1e-3 };
        var limit = new Option<int>("--limit") { Description = "Use only the first N images per class of Training and of PublicTest (0 = all). For quick checks.", DefaultValueFactory = _ => 0 };
        var output = new Option<FileInfo?>("--out", "-o") { Description = "ONNX file to write (default $EMOTIONML_CACHE/models/<backbone>-fer2013[-head].onnx).", HelpName = "model.onnx" };
        var trainImages = new Option<int>("--train-images") { Description = "Train on the first N images of the (shuffled, seed 0) Training list only; 0 = all 28,709. Default 0.", DefaultValueFactory = _ => 0 };
        var cacheOnly = new Option<bool>("--cache-only") { Description = "Only compute the cached Training activations (all copies) and exit." };
        var testOnly = new Option<bool>("--cache-test-only") { Description = "Only compute the cached PublicTest activations (another process may be filling the Training ones) and exit." };
        var onnxCheck = new Option<int>("--onnx-check") { Description = "Also run the written ONNX file on ONNX Runtime on the first N PublicTest images and report its agreement with the cached evaluation. Default 200.", DefaultValueFactory = _ => 200 };
        var shippedLogits = new Option<bool>("--shipped-logits") { Description = "Only score the shipped backbone's own emotion classifier (densenet121) on all of PublicTest with ONNX Runtime and exit: the as-shipped row. When the Training activations are cached, it also scores Training (has the shipped network seen it?)." };
        var seed = new Option<int>("--seed") { Description = "Seed. Default 0.", DefaultValueFactory = _ => 0 };
        var testMirror = new Option<bool>("--test-mirror") { Description = "Also report PublicTest accuracy with test-time averaging over each image and its mirror image (the probabilities of both views summed; the runtime face stage runs one view)." };
        var command = new Command("train-face", "Fine-tune a face backbone on FER2013 Training on the CPU (frozen early blocks cached with ONNX Runtime, last blocks + a 7-class head trained with TorchSharp, checkpointed: rerun the same command to resume), write the trained weights back into the ONNX graph, and report FER2013 PublicTest accuracy.")
        {
            backbone, fer, epochs, freeze, headOnly, copies, lr, limit, output, trainImages, cacheOnly, testOnly, onnxCheck, shippedLogits, seed, testMirror,
        };
        command.SetAction(parse =>
        {
            var ctx = context();
            var kind = parse.GetValue(backbone) == "densenet121" ? FaceBackboneKind.FerDenseNet121 : FaceBackboneKind.MobileFaceNet;
            var root = parse.GetValue(fer)?.FullName ?? SharedPaths.Combine("data", "fer2013");
            var n = parse.GetValue(limit);
            IReadOnlyList<FerImage> Take(string usage)
            {
                var all = FerImages.Load(root, usage);
                return n <= 0 ? all : all.GroupBy(i => i.Label).OrderBy(g => g.Key).SelectMany(g => g.Take(n)).ToList();
            }
            // Shuffled once with a fixed seed, so that the cache (filled in this order) holds a random subset at any point.
            var order = new Random(0);
            var train = Take("Training").OrderBy(_ => order.Next()).ToList();
            var test = Take("PublicTest");
            var head = parse.GetValue(headOnly);
            var path = parse.GetValue(output)?.FullName ?? DefaultPath(kind, head);
            var log = new SyncProgress<string>(ctx.Error.WriteLine);
            var threads = ctx.Threads > 0 ? ctx.Threads : Environment.ProcessorCount;
            var o = new FaceBackboneTrainerOptions
            {
                Backbone = kind,
                FreezeThrough = parse.GetValue(freeze),
                HeadOnly = head,
                Copies = parse.GetValue(copies),
                MaxImages = parse.GetValue(trainImages),
                Execution = { Device = ctx.Device, IntraOpThreads = threads },
                Log = m => log.Report(m),
            };
            o.Training.MaxEpochs = parse.GetValue(epochs);
            o.Training.LearningRate = parse.GetValue(lr);
            o.Training.Seed = parse.GetValue(seed);
            o.Training.Threads = threads;
            o.Training.Device = ctx.Device;
            o.Training.CheckpointPath = path + ".ckpt";
            // Epochs over the whole of Training take minutes on a CPU: a line inside the epoch at most once a minute.
            var lastBatchLine = System.Diagnostics.Stopwatch.StartNew();
            o.Training.BatchProgress = new SyncProgress<BatchProgress>(b =>
            {
                if (lastBatchLine.Elapsed.TotalSeconds < 60 || b.Batch == b.Batches) return;
                lastBatchLine.Restart();
                log.Report(FormattableString.Invariant($"  epoch {b.Epoch}: batch {b.Batch}/{b.Batches}, train loss so far {b.TrainLoss:0.000}, {b.Seconds:0} s, about {b.Seconds * (b.Batches - b.Batch) / b.Batch:0} s to the epoch's end"));
            });
            o.Training.Progress = new SyncProgress<TrainingProgress>(p => log.Report(FormattableString.Invariant(
                $"epoch {p.Epoch}/{p.MaxEpochs}: train loss {p.TrainLoss:0.000}, validation loss {p.ValidationLoss:0.000}, validation accuracy {100 * p.ValidationAccuracy:0.0} %{(p.IsBest ? " (best)" : "")}, {p.Seconds:0} s")));
            if (parse.GetValue(shippedLogits))
            {
                var shipped = FaceBackbone.Of(kind);
                if (shipped.LogitsTensor is not { } logits)
                    throw new InvalidInputException($"--shipped-logits: the shipped {kind} has no emotion classifier (it is a face-recognition network); use --head-only for its as-shipped row.");
                var shippedBytes = File.ReadAllBytes(shipped.Model.Resolve(null));
                var (shippedAccuracy, _) = FaceLogitsEvaluation.Run(shippedBytes, shipped, logits, test, o.Execution, o.Log);
                ctx.Output.WriteLine(FormattableString.Invariant($"shipped {kind} classifier on FER2013 PublicTest ({test.Count} images): {100 * shippedAccuracy:0.0} %"));
                // Whether the shipped network has seen FER2013 Training: its accuracy there (through the cached prefix
                // activations, when they are complete) against PublicTest's.
                var (_, trainingCache) = FaceBackboneTrainer.OpenCache(o);
                var trainingTag = FaceBackboneTrainer.ListTag("train", train);
                if (trainingCache.IsComplete(trainingTag, 0, train.Count))
                {
                    var (onTraining, _, _) = FaceBackboneTrainer.EvaluateCached(o, shippedBytes, logits, train, "train");
                    ctx.Output.WriteLine(FormattableString.Invariant($"shipped {kind} classifier on FER2013 Training ({train.Count} images, cached activations): {100 * onTraining:0.0} %"));
                }
                return ExitCodes.Ok;
            }
            if (parse.GetValue(testOnly))
            {
                var (_, cache) = FaceBackboneTrainer.OpenCache(o);
                cache.Ensure(test, FaceBackboneTrainer.ListTag("test", test), 0, o.Log);
                ctx.Output.WriteLine($"PublicTest activations cached in {cache.Directory}");
                return ExitCodes.Ok;
            }
            if (parse.GetValue(cacheOnly))
            {
                var (_, cache) = FaceBackboneTrainer.OpenCache(o);
                var tag = FaceBackboneTrainer.ListTag("train", train);
                for (var c = 0; c < o.Copies; c++) cache.Ensure(train, tag, c, o.Log);
                ctx.Output.WriteLine($"Training activations cached in {cache.Directory}");
                return ExitCodes.Ok;
            }
            FaceBackboneTrainingResult? result = null;
            o.Trained = r => result = r;
            var ml = ctx.CreateMLContext(parse.GetValue(seed));
            var data = ml.Data.LoadFromEnumerable(train.Select(i => new Row { ImagePath = i.Path, Label = FerImages.Classes[i.Label] }));
            var keys = ml.Data.LoadFromEnumerable(FerImages.Classes.Select(c => new KeyRow { Label = c }));
            // The fitted stage reads face crops of videos, not these image rows: fit it on its own, not at the end of a chain.
            var keyed = ml.Transforms.Conversion.MapValueToKey("Label", keyData: keys).Fit(data).Transform(data);
            ml.Transforms.FineTuneFaceBackbone(o).Fit(keyed);
            var r = result!;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path + ".tmp", r.Model);
            File.Move(path + ".tmp", path, overwrite: true);
            ctx.Output.WriteLine($"fine-tuned {kind} written to {path} (best epoch {r.Report.BestEpoch} of {r.Report.Epochs.Count}; {r.Report.TrainRows} training rows, {r.Report.ValidationRows} validation rows)");
            var (accuracy, predicted, _) = FaceBackboneTrainer.EvaluateCached(o, r.Model, r.LogitsOutput, test, "test");
            var bestVal = r.Report.Epochs.First(e => e.Epoch == r.Report.BestEpoch).ValidationAccuracy;
            ctx.Output.WriteLine(FormattableString.Invariant($"FER2013 PublicTest accuracy ({test.Count} images): {100 * accuracy:0.0} % ({Math.Round(accuracy * test.Count)} of {test.Count} right); validation accuracy (10 % of Training, all copies) {100 * bestVal:0.0} %"));
            if (parse.GetValue(testMirror))
            {
                var (averaged, _, _) = FaceBackboneTrainer.EvaluateCached(o, r.Model, r.LogitsOutput, test, "test", mirror: true);
                ctx.Output.WriteLine(FormattableString.Invariant($"FER2013 PublicTest accuracy, image + mirror averaged: {100 * averaged:0.0} % ({Math.Round(averaged * test.Count)} of {test.Count} right)"));
            }
            var check = Math.Min(parse.GetValue(onnxCheck), test.Count);
            if (check > 0)
            {
                var (_, onnxPredicted) = FaceLogitsEvaluation.Run(r.Model, FaceBackbone.Of(kind), r.LogitsOutput, test.Take(check).ToList(), o.Execution);
                var same = onnxPredicted.Where((p, i) => p == predicted[i]).Count();
                ctx.Output.WriteLine($"the written ONNX file on ONNX Runtime predicts the same class for {same} of the first {check} PublicTest images");
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
