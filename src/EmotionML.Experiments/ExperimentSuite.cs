using System.Diagnostics;
using System.Globalization;
using System.Text;
using EmotionML.FaceFeatures;
using EmotionML.Training;
using EmotionML.Training.Fusion;
using Microsoft.ML;

namespace EmotionML.Experiments;

/// <summary>What <see cref="ExperimentSuite.Run"/> runs.</summary>
internal sealed class ExperimentSuiteOptions
{
    /// <summary>Speaker-independent folds (leave-one-speaker-out when equal to the number of speakers). Default 7.</summary>
    public int Folds { get; set; } = 7;

    /// <summary>Frames per clip for the face features. Default 16.</summary>
    public int Frames { get; set; } = 16;

    /// <summary>Backbone of the main (Basic) face features. Default DenseNet-121 (emotion-pretrained).</summary>
    public FaceBackboneKind Backbone { get; set; } = FaceBackboneKind.FerDenseNet121;

    /// <summary>Backbone used for the enhancement variants (18 copies per frame). Default mini-Xception (cheap on CPU).</summary>
    public FaceBackboneKind EnhancementBackbone { get; set; } = FaceBackboneKind.MiniXception;

    /// <summary>Second backbone of F-AR-Mean. Default MobileFaceNet (DenseNet-121's 18 copies per frame take hours on 2 CPU cores).</summary>
    public FaceBackboneKind SecondBackbone { get; set; } = FaceBackboneKind.MobileFaceNet;

    /// <summary>Include F-AR-Mean (needs the second backbone's 18 copies per frame: the costliest variant). Default true.</summary>
    public bool IncludeArMean { get; set; } = true;

    /// <summary>Trained audio CNN (ONNX). Required for every configuration that uses audio.</summary>
    public string? AudioCnnOnnx { get; set; }

    /// <summary>Spectrogram frames. Default 300.</summary>
    public int SpectrogramFrames { get; set; } = 300;

    /// <summary>Which sections to run. Default all.</summary>
    public ExperimentSections Sections { get; set; } = ExperimentSections.All;

    /// <summary>Head training settings (per fold; the validation split holds out whole speakers of the training folds).</summary>
    public TrainerOptions Training { get; set; } = new() { MaxEpochs = 40, BatchSize = 16, LearningRate = 1e-3, EarlyStoppingPatience = 6, ValidationFraction = 0.2 };

    /// <summary>Head architecture defaults (attention kinds and fusion are set per configuration).</summary>
    public FusionHeadOptions Head { get; set; } = new() { FbpOutputDim = 128, FbpFactor = 4, TransformerDim = 64 };
}

/// <summary>Sections of the experiment table.</summary>
[Flags]
internal enum ExperimentSections
{
    /// <summary>Audio only, video only, concatenation vs FBP.</summary>
    Modalities = 1,
    /// <summary>The 3×3 attention grid with FBP.</summary>
    Grid = 2,
    /// <summary>Feature enhancement variants.</summary>
    Enhancement = 4,
    /// <summary>Score-level ensembles.</summary>
    Ensemble = 8,
    /// <summary>Backbone probe on the clips' faces: video-only head on each backbone's Basic features (Table 1 analog).</summary>
    Backbones = 16,
    /// <summary>Everything.</summary>
    All = 31,
}

/// <summary>One row of the experiment table.</summary>
/// <param name="Section">Table section.</param>
/// <param name="Result">Its cross-validation result.</param>
/// <param name="Seconds">Wall time of its CV (head training and evaluation).</param>
internal sealed record ExperimentRow(string Section, CrossValidationResult Result, double Seconds);

/// <summary>
/// The paper's experiment table on real audio-visual data, speaker-independently: modalities, the attention grid, the
/// enhancement variants and ensembles. Features come from <see cref="FusionExperiment"/> (cached on disk).
/// </summary>
internal static class ExperimentSuite
{
    /// <summary>Runs the table.</summary>
    public static (List<ExperimentRow> Rows, FusionFeatureSet Features) Run(MLContext ml, IReadOnlyList<ClipRecord> clips, ExperimentSuiteOptions o, IProgress<string>? log = null)
    {
        var set = new FusionFeatureSet { Clips = clips, Frames = o.Frames, FrameMask = new float[clips.Count][] };
        var variants = Variants(o);
        var basic = variants[0].Name;
        var clock = Stopwatch.StartNew();
        log?.Report($"face features: {variants.Count} variant(s) × {clips.Count} clips × {o.Frames} frames (cached after the first run)…");
        FusionExperiment.AddFaceFeatures(ml, set, variants);
        log?.Report($"face features ready in {clock.Elapsed.TotalSeconds:0} s; face found in {set.FaceFoundRate:P1} of frames");
        if (o.AudioCnnOnnx != null)
        {
            clock.Restart();
            FusionExperiment.AddAudioFeatures(ml, set, o.AudioCnnOnnx, o.SpectrogramFrames);
            log?.Report($"audio features ready in {clock.Elapsed.TotalSeconds:0} s (n = {set.AudioShape.Positions}, C = {set.AudioShape.Dim})");
        }
        if (set.Failures.Count > 0)
        {
            // Bad clips are left out of every row of the table, and said so.
            foreach (var f in set.Failures) log?.Report($"left out {f.Clip.Path}: {f.Error.Message}");
            set = set.WithoutFailures();
        }
        var rows = new List<ExperimentRow>();
        CrossValidationResult Cv(string section, string name, string variant, FusionHeadOptions head)
        {
            var sw = Stopwatch.StartNew();
            var r = FusionExperiment.Run(ml, set, variant, head, o.Training, o.Folds, name);
            rows.Add(new ExperimentRow(section, r, sw.Elapsed.TotalSeconds));
            log?.Report($"{section}: {name}: {r.AccuracyText} % (macro-F1 {100 * r.MeanMacroF1:0.0}) [{sw.Elapsed.TotalSeconds:0} s]");
            return r;
        }
        FusionHeadOptions H(AttentionKind f, AttentionKind a, FusionKind fusion = FusionKind.Fbp, Modalities m = Modalities.Both)
            => o.Head with { FaceAttention = f, AudioAttention = a, Fusion = fusion, Modalities = m };
        var hasAudio = set.Audio != null;
        var T = AttentionKind.Transformer;
        if (o.Sections.HasFlag(ExperimentSections.Modalities))
        {
            if (hasAudio) Cv("modalities", "audio only (transformer attention)", basic, H(T, T, m: Modalities.AudioOnly));
            Cv("modalities", $"video only ({basic}, transformer attention)", basic, H(T, T, m: Modalities.FaceOnly));
            if (hasAudio)
            {
                Cv("modalities", "audio + video, concatenation (transformer × transformer)", basic, H(T, T, FusionKind.Concat));
                Cv("modalities", "audio + video, FBP (transformer × transformer)", basic, H(T, T));
            }
        }
        if (o.Sections.HasFlag(ExperimentSections.Backbones))
            foreach (var b in Enum.GetValues<FaceBackboneKind>())
                Cv("backbones (video only, transformer attention)", $"{b} Basic features", $"basic-{Short(b)}", H(T, T, m: Modalities.FaceOnly));
        var grid = new List<CrossValidationResult>();
        if (hasAudio && o.Sections.HasFlag(ExperimentSections.Grid))
            foreach (var f in Enum.GetValues<AttentionKind>())
                foreach (var a in Enum.GetValues<AttentionKind>())
                    grid.Add(Cv("grid", $"visual {f.ToString().ToLowerInvariant()} × audio {a.ToString().ToLowerInvariant()}, FBP", basic, H(f, a)));
        var enhanced = new List<CrossValidationResult>();
        if (o.Sections.HasFlag(ExperimentSections.Enhancement))
            foreach (var v in variants.Skip(1).Where(v => v.Name.EndsWith(Short(o.EnhancementBackbone)) || v.Name.StartsWith("farmean")))
                enhanced.Add(Cv("enhancement", $"{v.Name} (transformer × transformer, {(hasAudio ? "FBP" : "video only")})", v.Name, hasAudio ? H(T, T) : H(T, T, m: Modalities.FaceOnly)));
        if (o.Sections.HasFlag(ExperimentSections.Ensemble))
        {
            // Members fixed in advance (never chosen by test accuracy): the grid, and the enhancement variants.
            var members = grid.Concat(enhanced).ToList();
            if (members.Count >= 2)
            {
                var counts = set.Clips.GroupBy(c => c.Label).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Count()).ToArray();
                var weights = Ensembles.ScoreEnsembleOptions.ClassWeightsFromCounts(counts);
                foreach (var (name, m) in new[] { ("grid", grid), ("enhancement variants", enhanced), ("grid + enhancement variants", members) })
                {
                    if (m.Count < 2) continue;
                    var sw = Stopwatch.StartNew();
                    var plain = FusionExperiment.Ensemble($"ensemble of {m.Count}: {name}, mean scores", m, set.Clips, null, o.Folds);
                    rows.Add(new ExperimentRow("ensemble", plain, sw.Elapsed.TotalSeconds));
                    var reweighted = FusionExperiment.Ensemble($"ensemble of {m.Count}: {name}, √count class weights", m, set.Clips, weights, o.Folds);
                    rows.Add(new ExperimentRow("ensemble", reweighted, sw.Elapsed.TotalSeconds));
                    log?.Report($"ensemble: {name}: {plain.AccuracyText} % (class-weighted {reweighted.AccuracyText} %)");
                }
            }
        }
        return (rows, set);
    }

    /// <summary>The face feature variants the table needs (the first is the main Basic one).</summary>
    public static List<FaceVariant> Variants(ExperimentSuiteOptions o)
    {
        var basic = $"basic-{Short(o.Backbone)}";
        var variants = new List<FaceVariant> { new(basic, new FaceFeatureOptions { Backbone = o.Backbone, Enhancement = FeatureEnhancement.Basic }) };
        if (o.Sections.HasFlag(ExperimentSections.Enhancement))
        {
            var b = o.EnhancementBackbone;
            variants.Add(new($"basic-{Short(b)}", new FaceFeatureOptions { Backbone = b, Enhancement = FeatureEnhancement.Basic }));
            variants.Add(new($"fmean-{Short(b)}", new FaceFeatureOptions { Backbone = b, Enhancement = FeatureEnhancement.FMean }));
            variants.Add(new($"fmeanstd-{Short(b)}", new FaceFeatureOptions { Backbone = b, Enhancement = FeatureEnhancement.FMeanStd }));
            variants.Add(new($"fmeanstd2-{Short(b)}", new FaceFeatureOptions { Backbone = b, Enhancement = FeatureEnhancement.FMeanStd2 }));
            variants.Add(new($"fnormfft-{Short(b)}", new FaceFeatureOptions { Backbone = b, Enhancement = FeatureEnhancement.FNormFft }));
            if (o.IncludeArMean) variants.Add(new($"farmean-{Short(b)}+{Short(o.SecondBackbone)}", new FaceFeatureOptions { Backbone = b, SecondBackbone = o.SecondBackbone, Enhancement = FeatureEnhancement.FArMean }));
        }
        if (o.Sections.HasFlag(ExperimentSections.Backbones))
            foreach (var b in Enum.GetValues<FaceBackboneKind>())
                if (variants.All(v => v.Name != $"basic-{Short(b)}"))
                    variants.Add(new($"basic-{Short(b)}", new FaceFeatureOptions { Backbone = b, Enhancement = FeatureEnhancement.Basic }));
        return variants;
    }

    /// <summary>Short backbone name.</summary>
    public static string Short(FaceBackboneKind b) => b switch
    {
        FaceBackboneKind.FerDenseNet121 => "densenet",
        FaceBackboneKind.MobileFaceNet => "mobilefacenet",
        _ => "minixception",
    };

    /// <summary>The table as JSON (for notebooks): per row the section, name, fold accuracies, means, classes and confusion matrix.</summary>
    public static string Json(IReadOnlyList<ExperimentRow> rows, string command, FusionFeatureSet set)
    {
        var doc = new
        {
            command,
            clips = set.Clips.Count,
            speakers = set.Clips.Select(c => c.Speaker).Distinct().Count(),
            faceFoundRate = set.FaceFoundRate,
            rows = rows.Select(r => new
            {
                section = r.Section,
                name = r.Result.Name,
                accuracy = r.Result.MeanAccuracy,
                accuracyStd = r.Result.StdAccuracy,
                macroF1 = r.Result.MeanMacroF1,
                macroF1Std = r.Result.StdMacroF1,
                folds = r.Result.Folds.Select(f => new { speakers = f.TestSpeakers, accuracy = f.Accuracy, macroF1 = f.MacroF1, rows = f.Rows }),
                classes = r.Result.Classes,
                confusion = Enumerable.Range(0, r.Result.Classes.Length).Select(i => Enumerable.Range(0, r.Result.Classes.Length).Select(j => r.Result.Confusion[i, j]).ToArray()),
                seconds = r.Seconds,
            }),
        };
        return System.Text.Json.JsonSerializer.Serialize(doc, new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>The table as markdown, with the command that produced it.</summary>
    public static string Markdown(IReadOnlyList<ExperimentRow> rows, string command, FusionFeatureSet set, ExperimentSuiteOptions o)
    {
        var sb = new StringBuilder();
        var speakers = set.Clips.Select(c => c.Speaker).Distinct().Count();
        sb.AppendLine($"Command: `{command}`  ");
        sb.AppendLine($"Data: {set.Clips.Count} clips, {speakers} speakers, {o.Folds}-fold speaker-independent CV (folds hold out whole speakers; early stopping on held-out training speakers). " +
            $"{o.Frames} frames per clip, face found in {set.FaceFoundRate.ToString("P1", CultureInfo.InvariantCulture)} of frames. Accuracy and macro-F1: mean ± sample std over folds, in %.");
        sb.AppendLine();
        foreach (var section in rows.GroupBy(r => r.Section))
        {
            sb.AppendLine($"| {section.Key} | accuracy | macro-F1 | per-fold accuracy | time |");
            sb.AppendLine("|---|---|---|---|---|");
            foreach (var r in section)
            {
                var folds = string.Join(" ", r.Result.Folds.Select(f => (100 * f.Accuracy).ToString("0", CultureInfo.InvariantCulture)));
                sb.AppendLine($"| {r.Result.Name} | {r.Result.AccuracyText} | {(100 * r.Result.MeanMacroF1).ToString("0.0", CultureInfo.InvariantCulture)} ± {(100 * r.Result.StdMacroF1).ToString("0.0", CultureInfo.InvariantCulture)} | {folds} | {r.Seconds.ToString("0", CultureInfo.InvariantCulture)} s |");
            }
            sb.AppendLine();
        }
        return sb.ToString();
    }
}
