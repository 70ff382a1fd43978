using EmotionML.Experiments;
using EmotionML.FaceFeatures;
using Microsoft.ML;

namespace EmotionML.Cli.Commands;

/// <summary>
/// <c>emotionml evaluate --speaker-adaptation</c>: the speaker-adaptation protocol (<see cref="SpeakerAdaptationExperiment"/>),
/// leave-one-speaker-out over 3 seeds, with the plain speaker-independent rows beside the adapted ones.
/// </summary>
internal static class SpeakerAdaptationEvaluation
{
    /// <summary>
    /// The probe's candidate inputs when the functionals are joined to the audio CNN's features: the face part with the
    /// CNN's part, with the functionals' part, or with both (the probe's input is [face mean; CNN mean; functionals]).
    /// </summary>
    internal static IReadOnlyList<(string Name, int[] Columns)> AudioSubsets(FusionFeatureSet set, string faceVariant)
    {
        var face = set.Face.TryGetValue(faceVariant, out var f) ? f.Dim : 0;
        var audio = set.AudioShape.Dim;
        var functionals = EmotionML.AcousticFeatures.AcousticFeatureNames.Count;
        if (audio <= functionals) throw new InvalidOperationException("--acoustic chosen needs the audio CNN's features joined with the functionals.");
        var cnn = Enumerable.Range(0, face + audio - functionals).ToArray();
        var acousticOnly = Enumerable.Range(0, face).Concat(Enumerable.Range(face + audio - functionals, functionals)).ToArray();
        return [("CNN + functionals", Enumerable.Range(0, face + audio).ToArray()), ("CNN", cnn), ("functionals", acousticOnly)];
    }

    /// <summary>Runs the protocol on <c>clips</c> with the face backbone <c>backbone</c> (null: audio only, no face
    /// features), the acoustic functionals as <c>acoustic</c> says, and <c>folds</c> folds by speaker (0: one per speaker).</summary>
    public static int Run(CliContext ctx, IReadOnlyList<ClipRecord> clips, FaceBackboneKind? backbone, string? backboneOnnx, IReadOnlyList<FaceBackboneKind> extraBackbones, FaceGeometryUse geometry,
        int frames, int epochs, int seed, int calibrationClips, bool probeOnly, string? audioCnnOnnx, AcousticFeaturesUse acoustic, int folds, bool lateFusion, string? markdownPath)
    {
        var ml = ctx.CreateMLContext(seed);
        var log = new SyncProgress<string>(ctx.Error.WriteLine);
        var set = new FusionFeatureSet { Clips = clips, Frames = frames, FrameMask = new float[clips.Count][] };
        var variants = new List<FaceVariant>();
        if (backbone is { } b0)
        {
            var main = $"basic-{ExperimentSuite.Short(b0)}{(backboneOnnx == null ? "" : "-file")}";
            variants.Add(new(main, new FaceFeatureOptions { Backbone = b0, ModelPath = backboneOnnx }));
            variants.AddRange(extraBackbones.Where(b => b != b0 || backboneOnnx != null).Distinct()
                .Select(b => new FaceVariant($"basic-{ExperimentSuite.Short(b)}", new FaceFeatureOptions { Backbone = b })));
            if (geometry == FaceGeometryUse.Alone) variants.Clear();
            if (geometry != FaceGeometryUse.None) variants.Add(FaceVariant.Geometry);
            ctx.WithProgress("face features", clips.Count, step => FusionExperiment.AddFaceFeatures(ml, set, variants, new SyncProgress<int>(_ => step(null))));
        }
        var variant = variants.Count > 0 ? variants[0].Name : "none";
        if (variants.Count > 1)
        {
            // The backbones' frame features side by side: one face feature of D1 + D2 + … per frame.
            variant = string.Join("+", variants.Select(v => v.Name));
            set.ConcatenateFace(variant, variants.Select(v => v.Name).ToList());
        }
        if (audioCnnOnnx != null && acoustic != AcousticFeaturesUse.Alone) FusionExperiment.AddAudioFeatures(ml, set, audioCnnOnnx, 300);
        if (acoustic != AcousticFeaturesUse.None)
            ctx.WithProgress("acoustic features", clips.Count, step => AcousticFeatureSet.Add(ml, set, new SyncProgress<int>(_ => step(null))));
        set = ClipFailures.Report(ctx, set);
        var o = new SpeakerAdaptationOptions { Seeds = [seed, seed + 1, seed + 2], CalibrationClips = calibrationClips, IncludeHead = !probeOnly, Folds = folds, LateFusion = lateFusion };
        o.Training.MaxEpochs = epochs;
        o.Training.Threads = ctx.Threads > 0 ? ctx.Threads : 1;
        o.Training.Device = ctx.Device;
        if (acoustic == AcousticFeaturesUse.Chosen) o.FeatureSubsets = AudioSubsets(set, variant);
        var rows = SpeakerAdaptationExperiment.Run(ml, set, variant, o, log);
        var table = SpeakerAdaptationExperiment.Markdown(rows, ctx.CommandLine, set, o);
        ctx.Output.WriteLine(table);
        if (markdownPath != null) File.WriteAllText(markdownPath, table);
        return ClipFailures.Finish(ctx, set.Failures.Count, clips.Count);
    }
}
