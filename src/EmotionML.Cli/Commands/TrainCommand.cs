using System.CommandLine;
using EmotionML.FaceFeatures;
using EmotionML.Spectrogram;
using EmotionML.Training;
using EmotionML.Training.Fusion;
using EmotionML.VideoInput;
using Microsoft.ML;
using Microsoft.ML.Transforms;

namespace EmotionML.Cli.Commands;

/// <summary><c>emotionml train</c>: fits the whole chain (video path → prediction) on labelled clips and saves it as one model zip.</summary>
internal static class TrainCommand
{
    private sealed class Row
    {
        public string VideoPath { get; set; } = "";
        public string Label { get; set; } = "";
        public string Speaker { get; set; } = "";
    }

    public static Command Create(Func<CliContext> context)
    {
        var dataset = new Option<string>("--dataset") { Description = "Shared audio-visual dataset (default javanese-av).", DefaultValueFactory = _ => "javanese-av" };
        var manifest = new Option<FileInfo?>("--manifest") { Description = "Train on a manifest CSV (path,label,speaker) instead of a shared dataset.", HelpName = "m.csv" };
        var output = new Option<FileInfo>("--out", "-o") { Description = "Model zip to write (load it with mlContext.Model.Load or 'emotionml predict').", Required = true, HelpName = "model.zip" };
        var frames = new Option<int>("--frames") { Description = "Frames per clip. Default 8.", DefaultValueFactory = _ => 8 };
        var backbone = EnumOption.Create<FaceBackboneKind>("--backbone", "Face backbone", FaceBackboneKind.FerDenseNet121);
        var enhancement = EnumOption.Create<FeatureEnhancement>("--enhancement", "Face feature enhancement", FeatureEnhancement.Basic);
        var faceAttention = EnumOption.Create<AttentionKind>("--face-attention", "Attention over frames", AttentionKind.Transformer);
        var audioAttention = EnumOption.Create<AttentionKind>("--audio-attention", "Attention over audio positions", AttentionKind.Transformer);
        var fusion = EnumOption.Create<FusionKind>("--fusion", "Cross-modal fusion", FusionKind.Fbp);
        var audioCnn = new Option<FileInfo?>("--audio-cnn") { Description = $"Trained audio CNN (ONNX). Default {AudioCnnModel.DefaultPath}; trained on RAVDESS first if missing.", HelpName = "cnn.onnx" };
        var epochs = new Option<int>("--epochs") { Description = "Maximum epochs of the head. Default 60.", DefaultValueFactory = _ => 60 };
        var seed = new Option<int>("--seed") { Description = "Seed. Default 0.", DefaultValueFactory = _ => 0 };
        var command = new Command("train", "Fit the whole chain — video decoding, face alignment, face features, spectrogram, audio CNN features, attention + FBP head — on labelled clips, and save it as one ML.NET model zip (early stopping on held-out speakers).")
        {
            dataset, manifest, output, frames, backbone, enhancement, faceAttention, audioAttention, fusion, audioCnn, epochs, seed,
        };
        command.SetAction(parse =>
        {
            var ctx = context();
            var ml = ctx.CreateMLContext(parse.GetValue(seed));
            var clips = Clips.Load(parse.GetValue(manifest), parse.GetValue(dataset)!);
            var log = new SyncProgress<string>(ctx.Error.WriteLine);
            var cnn = AudioCnnModel.Ensure(ctx, ml, parse.GetValue(audioCnn), log);
            var n = parse.GetValue(frames);
            var raw = ml.Data.LoadFromEnumerable(clips.Select(c => new Row { VideoPath = c.Path, Label = c.Label, Speaker = c.Speaker }).ToList());
            // The label mapping is fitted apart so that the saved chain starts at VideoPath (a consumer has no Label column).
            var data = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(raw).Transform(raw);
            var head = new FusionHeadTrainerOptions
            {
                Head = new FusionHeadOptions { FaceAttention = parse.GetValue(faceAttention), AudioAttention = parse.GetValue(audioAttention), Fusion = parse.GetValue(fusion), FbpOutputDim = 128, TransformerDim = 64 },
                Training = new TrainerOptions { GroupColumnName = "Speaker", MaxEpochs = parse.GetValue(epochs), Seed = parse.GetValue(seed), ValidationFraction = 0.2, Progress = new SyncProgress<TrainingProgress>(p => ctx.Error.WriteLine($"epoch {p.Epoch}: train loss {p.TrainLoss:0.000}, validation loss {p.ValidationLoss:0.000}, accuracy {p.ValidationAccuracy:P1}{(p.IsBest ? " *" : "")}")) },
            };
            head.Columns.Execution = ctx.Execution;
            // Audio-only clips (see ClipManifest) give zero frames: the head rests on their audio, in training and in predict.
            var pipeline = ml.Transforms.LoadVideo(new VideoInputOptions { FrameCount = n, MissingVideo = MissingStreamPolicy.Empty })
                .Append(ml.Transforms.AlignFaces(new FaceAlignment.FaceAlignmentOptions { MaxFrames = n, Execution = ctx.Execution }))
                .Append(ml.Transforms.ExtractFaceFeatures(new FaceFeatureOptions { Backbone = parse.GetValue(backbone), Enhancement = parse.GetValue(enhancement), Execution = ctx.Execution }))
                .Append(ml.Transforms.SpeechSpectrogram())
                .Append(ml.Transforms.ExtractAudioFeatures(new AudioCnn.AudioFeatureOptions { ModelPath = cnn, Execution = ctx.Execution }))
                .AppendCacheCheckpoint(ml)
                .Append(ml.Transforms.EmotionFusionHead(head));
            ctx.Error.WriteLine($"training on {clips.Count} clips of {clips.Select(c => c.Speaker).Distinct().Count()} speakers (features first: decoding, faces, backbone, audio CNN)…");
            var model = pipeline.Fit(data);
            var file = parse.GetRequiredValue(output);
            ml.Model.Save(model, raw.Schema, file.FullName);
            ctx.Output.WriteLine($"model written to {file.FullName} ({new FileInfo(file.FullName).Length / 1e6:0.0} MB); try: emotionml predict {file.FullName} <clip.mp4>");
            return ExitCodes.Ok;
        });
        return command;
    }
}
