using System.CommandLine;
using System.Globalization;
using EmotionML.FaceFeatures;
using EmotionML.Experiments;
using Microsoft.ML;

namespace EmotionML.Cli.Commands;

/// <summary><c>emotionml extract</c>: face (and audio) features for every clip of a manifest, cached, written as CSV.</summary>
internal static class ExtractCommand
{
    public static Command Create(Func<CliContext> context)
    {
        var dataset = new Option<string>("--dataset") { Description = "Shared audio-visual dataset (default javanese-av).", DefaultValueFactory = _ => "javanese-av" };
        var manifest = new Option<FileInfo?>("--manifest") { Description = "Clips from a manifest CSV (path,label,speaker) instead of a shared dataset.", HelpName = "m.csv" };
        var output = new Option<FileInfo>("--out", "-o") { Description = "CSV to write: path,label,speaker,frames_with_face, then the clip's mean face feature (f0…) and, with --audio-cnn, its mean audio feature (a0…).", Required = true, HelpName = "features.csv" };
        var frames = new Option<int>("--frames") { Description = "Frames per clip. Default 8.", DefaultValueFactory = _ => 8 };
        var backbone = EvaluateCommand.Enum<FaceBackboneKind>("--backbone", "Face backbone", FaceBackboneKind.FerDenseNet121);
        var enhancement = EvaluateCommand.Enum<FeatureEnhancement>("--enhancement", "Feature enhancement", FeatureEnhancement.Basic);
        var audioCnn = new Option<FileInfo?>("--audio-cnn") { Description = "Also extract audio CNN features with this ONNX file (see train-audio).", HelpName = "cnn.onnx" };
        var command = new Command("extract", $"Extract per-clip features for a manifest (decode, align faces, backbone with enhancement; optionally the audio CNN). Results are cached under {FeatureArrayCache.Directory} (set EMOTIONML_CACHE), keyed by the clips and every setting, so later runs, evaluate and notebooks reuse them.")
        {
            dataset, manifest, output, frames, backbone, enhancement, audioCnn,
        };
        command.SetAction(parse =>
        {
            var ctx = context();
            var ml = new MLContext(0);
            var clips = Clips.Load(parse.GetValue(manifest), parse.GetValue(dataset)!);
            var set = new FusionFeatureSet { Clips = clips, Frames = parse.GetValue(frames), FrameMask = new float[clips.Count][] };
            var options = new FaceFeatureOptions { Backbone = parse.GetValue(backbone), Enhancement = parse.GetValue(enhancement), Execution = ctx.Execution };
            var name = $"{options.Enhancement}-{ExperimentSuite.Short(options.Backbone)}".ToLowerInvariant();
            ctx.WithProgress("face features", clips.Count, step => FusionExperiment.AddFaceFeatures(ml, set, [new(name, options)], new SyncProgress<int>(_ => step(null))));
            if (parse.GetValue(audioCnn) is { } cnn)
            {
                if (!cnn.Exists) throw new ModelFileException(cnn.FullName, "audio CNN ONNX file not found.");
                FusionExperiment.AddAudioFeatures(ml, set, cnn.FullName, 300);
            }
            var (face, d) = set.Face[name];
            using var w = new StreamWriter(parse.GetRequiredValue(output).FullName);
            var header = new List<string> { "path", "label", "speaker", "frames_with_face" };
            header.AddRange(Enumerable.Range(0, d).Select(i => $"f{i}"));
            if (set.Audio != null) header.AddRange(Enumerable.Range(0, set.AudioShape.Dim).Select(i => $"a{i}"));
            w.WriteLine(string.Join(',', header));
            for (var i = 0; i < clips.Count; i++)
            {
                var mask = set.FrameMask[i];
                var real = Math.Max(1, mask.Sum());
                var mean = new double[d];
                for (var f = 0; f < set.Frames; f++)
                    if (mask[f] > 0)
                        for (var j = 0; j < d; j++) mean[j] += face[i][f * d + j] / real;
                var fields = new List<string> { clips[i].Path, clips[i].Label, clips[i].Speaker, mask.Sum().ToString(CultureInfo.InvariantCulture) };
                fields.AddRange(mean.Select(v => v.ToString("G6", CultureInfo.InvariantCulture)));
                if (set.Audio != null)
                {
                    var (n, c) = set.AudioShape;
                    fields.AddRange(Enumerable.Range(0, c).Select(j => Enumerable.Range(0, n).Average(p => set.Audio[i][p * c + j]).ToString("G6", CultureInfo.InvariantCulture)));
                }
                w.WriteLine(string.Join(',', fields));
            }
            ctx.Output.WriteLine($"{clips.Count} clips → {parse.GetRequiredValue(output).FullName} ({d}-d face features{(set.Audio != null ? $", {set.AudioShape.Dim}-d audio features" : "")}); face found in {set.FaceFoundRate:P1} of frames");
            return ExitCodes.Ok;
        });
        return command;
    }
}
