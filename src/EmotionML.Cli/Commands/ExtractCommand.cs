using System.CommandLine;
using System.Globalization;
using EmotionML.FaceFeatures;
using EmotionML.AcousticFeatures;
using EmotionML.FaceGeometry;
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
        var output = new Option<FileInfo>("--out", "-o") { Description = "CSV to write, one row per clip that worked, in manifest order: path,label,speaker,frames_with_face (frames in which a face was found), then the clip's mean face feature over its real frames (f0…) and, with --audio-cnn, its mean audio feature over the real (unmasked) positions (a0…).", Required = true, HelpName = "features.csv" };
        var frames = new Option<int>("--frames") { Description = "Frames per clip. Default 8.", DefaultValueFactory = _ => 8 };
        var backbone = EnumOption.Create<FaceBackboneKind>("--backbone", "Face backbone", FaceBackboneKind.FerDenseNet121);
        var enhancement = EnumOption.Create<FeatureEnhancement>("--enhancement", "Feature enhancement", FeatureEnhancement.Basic);
        var audioCnn = new Option<FileInfo?>("--audio-cnn") { Description = "Also extract audio CNN features with this ONNX file (see train-audio).", HelpName = "cnn.onnx" };
        var acoustic = new Option<bool>("--acoustic") { Description = "Also write the clip's 65 acoustic functionals (ExtractAcousticFeatures: MFCC, energy, pitch, harmonicity, spectral shape, rhythm), one named column each (mfcc0_mean … voiced_segment_s_mean)." };
        var geometry = new Option<bool>("--geometry") { Description = "Also write the 68-landmark face geometry: one column per measure (mouth_opening_inner … upper_lip_raise), the mean over the frames in which a face was found (NaN when none was)." };
        var noFace = new Option<bool>("--no-face") { Description = "Skip the face pipeline: no video frames are decoded and the CSV has no face columns (path,label,speaker, then the audio columns). For audio files (WAV, FLAC, MP3, …) or when only the audio features are wanted; needs --acoustic or --audio-cnn, and the face options (--frames, --backbone, --enhancement, --parallel) are then unused." };
        var parallel = ParallelOption.Create();
        var command = new Command("extract", $"Extract per-clip features for a manifest (decode, align faces, backbone with enhancement; optionally the audio CNN). Results are cached under {FeatureArrayCache.Directory} (set EMOTIONML_CACHE), keyed by the clips and every setting, so later runs, evaluate and notebooks reuse them. A clip that cannot be used is reported on stderr and left out of the CSV; the exit code is then 1.")
        {
            dataset, manifest, output, frames, backbone, enhancement, audioCnn, geometry, acoustic, noFace, parallel,
        };

        command.SetAction(parse =>
        {
            if (parse.GetValue(noFace))
            {
                if (!parse.GetValue(acoustic) && parse.GetValue(audioCnn) is null)
                    throw new UsageException("--no-face needs --acoustic or --audio-cnn: without the face there is nothing else to extract.");
                if (parse.GetValue(geometry)) throw new UsageException("--geometry measures the face; leave out --no-face or --geometry.");
            }
            var ctx = context();
            var ml = ctx.CreateMLContext(0);
            var workers = ParallelOption.Read(parse, parallel);
            var all = Clips.Load(parse.GetValue(manifest), parse.GetValue(dataset)!);
            var set = new FusionFeatureSet { Clips = all, Frames = parse.GetValue(frames), FrameMask = new float[all.Count][] };
            var options = new FaceFeatureOptions { Backbone = parse.GetValue(backbone), Enhancement = parse.GetValue(enhancement), Execution = ctx.Execution };
            var name = $"{options.Enhancement}-{ExperimentSuite.Short(options.Backbone)}".ToLowerInvariant();
            FileInfo? cnn = parse.GetValue(audioCnn);
            if (cnn is { Exists: false }) throw new ModelFileException(cnn.FullName, "audio CNN ONNX file not found.");
            var withGeometry = parse.GetValue(geometry);
            var withFace = !parse.GetValue(noFace);
            List<FaceVariant> variants = withGeometry ? [new(name, options), FaceVariant.Geometry] : [new(name, options)];
            if (withFace)
                ctx.WithProgress("face features", all.Count, step => FusionExperiment.AddFaceFeatures(ml, set, variants, new SyncProgress<int>(_ => step(null)), workers));
            if (cnn != null) FusionExperiment.AddAudioFeatures(ml, set, cnn.FullName, 300);
            Dictionary<ClipRecord, float[]>? functionals = null;
            if (parse.GetValue(acoustic))
            {
                (float[][] Values, int[] Active, List<ClipFailure> Failures) computed = ([], [], []);
                ctx.WithProgress("acoustic features", all.Count, step => computed = AcousticFeatureSet.Compute(ml, all, new SyncProgress<int>(_ => step(null))));
                var (values, failures) = (computed.Values, computed.Failures);
                set.Failures.AddRange(failures.Where(x => set.Failures.All(g => g.Clip.Path != x.Clip.Path)));
                // By clip, not by path: a manifest may list one file twice.
                functionals = new Dictionary<ClipRecord, float[]>(ReferenceEqualityComparer.Instance);
                for (var i = 0; i < all.Count; i++) functionals.TryAdd(all[i], values[i]);
            }
            set = ClipFailures.Report(ctx, set);
            var clips = set.Clips;
            var (face, d) = withFace ? set.Face[name] : ([], 0);
            using var w = new StreamWriter(parse.GetRequiredValue(output).FullName);
            var header = new List<string> { "path", "label", "speaker" };
            if (withFace) header.Add("frames_with_face");
            header.AddRange(Enumerable.Range(0, d).Select(i => $"f{i}"));
            if (set.Audio != null) header.AddRange(Enumerable.Range(0, set.AudioShape.Dim).Select(i => $"a{i}"));
            if (withGeometry) header.AddRange(FaceGeometryMeasures.Names);
            if (functionals != null) header.AddRange(AcousticFeatureNames.All);
            w.WriteLine(string.Join(',', header));
            for (var i = 0; i < clips.Count; i++)
            {
                var fields = new List<string> { clips[i].Path, clips[i].Label, clips[i].Speaker };
                if (withFace)
                {
                    var mask = set.FrameMask[i];
                    var real = Math.Max(1, mask.Sum());
                    var mean = new double[d];
                    for (var f = 0; f < set.Frames; f++)
                        if (mask[f] > 0)
                            for (var j = 0; j < d; j++) mean[j] += face[i][f * d + j] / real;
                    fields.Add(set.FramesWithFace[i].ToString(CultureInfo.InvariantCulture));
                    fields.AddRange(mean.Select(v => v.ToString("G6", CultureInfo.InvariantCulture)));
                }
                if (set.Audio != null)
                {
                    var (n, c) = set.AudioShape;
                    var positions = Enumerable.Range(0, n).Where(p => set.AudioMask![i][p] > 0).ToArray();
                    fields.AddRange(Enumerable.Range(0, c).Select(j => (positions.Length == 0 ? 0 : positions.Average(p => set.Audio[i][p * c + j])).ToString("G6", CultureInfo.InvariantCulture)));
                }
                if (withGeometry) fields.AddRange(GeometryMeans(set.Face[FaceVariant.Geometry.Name].Values[i], set.Frames).Select(v => v.ToString("G6", CultureInfo.InvariantCulture)));
                if (functionals != null) fields.AddRange(functionals[clips[i]].Select(v => v.ToString("G9", CultureInfo.InvariantCulture)));
                w.WriteLine(string.Join(',', fields));
            }
            w.Flush();
            var parts = new List<string>();
            if (withFace) parts.Add($"{d}-d face features");
            if (set.Audio != null) parts.Add($"{set.AudioShape.Dim}-d audio features");
            if (functionals != null) parts.Add($"{AcousticFeatureNames.Count} acoustic functionals");
            ctx.Output.WriteLine($"{clips.Count} clips → {parse.GetRequiredValue(output).FullName} ({string.Join(", ", parts)})" + (withFace ? $"; face found in {set.FaceFoundRate:P1} of frames" : ""));
            return ClipFailures.Finish(ctx, set.Failures.Count, all.Count);
        });
        return command;
    }

    /// <summary>The mean of each geometry measure over the frames with a face (the stage writes all zeros for the others); NaN when there is none.</summary>
    internal static double[] GeometryMeans(float[] geometry, int frames)
    {
        var d = FaceGeometryMeasures.Count;
        var faces = Enumerable.Range(0, frames).Where(f => geometry.AsSpan(f * d, d).ContainsAnyExcept(0f)).ToArray();
        return Enumerable.Range(0, d).Select(j => faces.Length == 0 ? double.NaN : faces.Average(f => (double)geometry[f * d + j])).ToArray();
    }
}
