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

    /// <summary>Seeds per configuration: each row is Seeds × Folds runs (seeds <see cref="FirstSeed"/>, +1, …). Default 1 (the tables use 3).</summary>
    public int Seeds { get; set; } = 1;

    /// <summary>The first seed. Default 0.</summary>
    public int FirstSeed { get; set; }

    /// <summary>Frames per clip for the face features. Default 8.</summary>
    public int Frames { get; set; } = 8;

    /// <summary>Backbone of the main face features. Default DenseNet-121 (emotion-pretrained).</summary>
    public FaceBackboneKind Backbone { get; set; } = FaceBackboneKind.FerDenseNet121;

    /// <summary>ONNX file of <see cref="Backbone"/> (e.g. a fine-tuned one); null uses the shipped file. Features are cached per file.</summary>
    public string? BackboneOnnx { get; set; }

    /// <summary>Enhancement of the main face features (the configuration of the Main section). Default Basic.</summary>
    public FeatureEnhancement Enhancement { get; set; } = FeatureEnhancement.Basic;

    /// <summary>Backbone used for the enhancement variants (18 copies per frame). Default DenseNet-121 (the best backbone).</summary>
    public FaceBackboneKind EnhancementBackbone { get; set; } = FaceBackboneKind.FerDenseNet121;

    /// <summary>
    /// Whether the main configuration's face feature uses the 68-landmark geometry measures (<see cref="FaceVariant.Geometry"/>:
    /// mouth opening, brow raise, eye aperture…): joined to the backbone's feature frame by frame, or alone. Default
    /// <see cref="FaceGeometryUse.None"/>. The other sections keep their own features.
    /// </summary>
    public FaceGeometryUse FaceGeometry { get; set; }

    /// <summary>
    /// Whether frames without a face are left out of every configuration: each clip's frame mask becomes the face
    /// alignment's <c>FaceMask</c> (<see cref="FusionExperiment.UseFaceMask"/>), so frame attention, standardisation and
    /// the probes' clip means skip them. Default false: such frames take part as their whole-frame crops (the paper's rule).
    /// </summary>
    public bool SkipFacelessFrames { get; set; }

    /// <summary>
    /// Whether the audio features are the audio CNN's (default <see cref="AcousticFeaturesUse.None"/>), the CNN's with the
    /// clip's acoustic functionals joined to every position, or the functionals alone (<see cref="AcousticFeatureSet"/>;
    /// leave <see cref="AudioCnnOnnx"/> null then). Every section sees the same audio features.
    /// </summary>
    public AcousticFeaturesUse Acoustic { get; set; }

    /// <summary>
    /// Whether every finished (configuration, seed) run of the head is stored on disk and reused when the same run is asked
    /// for again (<see cref="RunResultCache"/>), so a long table that stopped resumes where it was. Default false (the CLI's
    /// <c>--experiments</c> turns it on).
    /// </summary>
    public bool ResumeRuns { get; set; }

    /// <summary>Second backbone of F-AR-Mean. Default mini-Xception (the other emotion-trained backbone; cheap on CPU).</summary>
    public FaceBackboneKind SecondBackbone { get; set; } = FaceBackboneKind.MiniXception;

    /// <summary>Enhancements of the Enhancement section. Default F-Mean, F-MeanStd, F-MeanStd-2, F-NormFFT, F-AR-Mean.</summary>
    public FeatureEnhancement[] Enhancements { get; set; } = [FeatureEnhancement.FMean, FeatureEnhancement.FMeanStd, FeatureEnhancement.FMeanStd2, FeatureEnhancement.FNormFft, FeatureEnhancement.FArMean];

    /// <summary>Clips per resumable part of a face feature extraction (each part is cached on its own). Default 24.</summary>
    public int ExtractionChunk { get; set; } = 24;

    /// <summary>Trained audio CNN (ONNX). Required for every configuration that uses audio.</summary>
    public string? AudioCnnOnnx { get; set; }

    /// <summary>Spectrogram frames. Default 300.</summary>
    public int SpectrogramFrames { get; set; } = 300;

    /// <summary>Which sections to run. Default the main configuration.</summary>
    public ExperimentSections Sections { get; set; } = ExperimentSections.Main;

    /// <summary>Speakers of the training folds held out for early stopping (and for choosing settings). Default 1 (as before).</summary>
    public int ValidationSpeakers { get; set; } = 1;

    /// <summary>Head training settings (per fold; the validation split holds out <see cref="ValidationSpeakers"/> whole training speakers).</summary>
    public TrainerOptions Training { get; set; } = Defaults.Training();

    /// <summary>Head architecture and the main configuration (attention kinds and fusion are set per row in the other sections).</summary>
    public FusionHeadOptions Head { get; set; } = Defaults.Head();

    /// <summary>The main job's settings (unchanged from the release before until a comparison on held-out training speakers picks others), and the ones before.</summary>
    internal static class Defaults
    {
        public static TrainerOptions Training() => new() { MaxEpochs = 40, BatchSize = 16, LearningRate = 1e-3, EarlyStoppingPatience = 6 };

        public static FusionHeadOptions Head() => new() { FbpOutputDim = 128, FbpFactor = 4, TransformerDim = 64, Standardize = false };

        /// <summary>The head and trainer of the release before (no standardisation, one validation speaker).</summary>
        public static (FusionHeadOptions Head, TrainerOptions Training, int ValidationSpeakers) Previous()
            => (new FusionHeadOptions { FbpOutputDim = 128, FbpFactor = 4, TransformerDim = 64, Standardize = false },
                new TrainerOptions { MaxEpochs = 40, BatchSize = 16, LearningRate = 1e-3, EarlyStoppingPatience = 6 }, 1);
    }
}

/// <summary>How the main configuration uses the landmark geometry (<see cref="ExperimentSuiteOptions.FaceGeometry"/>).</summary>
public enum FaceGeometryUse
{
    /// <summary>Not at all.</summary>
    None,
    /// <summary>Joined to the backbone's frame features.</summary>
    Joined,
    /// <summary>Instead of the backbone's features (what the 11 measures carry on their own).</summary>
    Alone,
}

/// <summary>How the speaker-adaptation protocol uses the acoustic functionals (<see cref="AcousticFeatureSet"/>).</summary>
public enum AcousticFeaturesUse
{
    /// <summary>Not at all.</summary>
    None,
    /// <summary>Joined to the audio CNN's features.</summary>
    Joined,
    /// <summary>Instead of the audio CNN's features (no audio CNN is needed).</summary>
    Alone,
    /// <summary>
    /// Speaker-adaptation probe only: joined, and per fold the probe's audio part — the audio CNN's, the functionals' or
    /// both — chosen with its L2 on the training speakers.
    /// </summary>
    Chosen,
}

/// <summary>Sections of the experiment table.</summary>
[Flags]
internal enum ExperimentSections
{
    /// <summary>Audio only, video only, concatenation vs FBP, with the linear-probe rows.</summary>
    Modalities = 1,
    /// <summary>The 3×3 attention grid with FBP.</summary>
    Grid = 2,
    /// <summary>Feature enhancement variants on the enhancement backbone.</summary>
    Enhancement = 4,
    /// <summary>Score-level ensembles of the grid, per seed.</summary>
    Ensemble = 8,
    /// <summary>Backbone probe on the clips' faces: video-only head on each backbone's Basic features (Table 1 analog).</summary>
    Backbones = 16,
    /// <summary>The configured head (the README main job), its linear probe and the ensemble of its seeds.</summary>
    Main = 32,
    /// <summary>The head's fixes one at a time, from the previous release's settings.</summary>
    Ablation = 64,
    /// <summary>Everything.</summary>
    All = 127,
}

/// <summary>One row of the experiment table.</summary>
/// <param name="Section">Table section.</param>
/// <param name="Result">Its runs (one per seed; one for a deterministic probe).</param>
/// <param name="Seconds">Wall time of its runs.</param>
/// <param name="Key">A stable key of the row for the paired comparisons ("" when none).</param>
internal sealed record ExperimentRow(string Section, SeededResult Result, double Seconds, string Key = "");

/// <summary>
/// The paper's experiment table on real audio-visual data, speaker-independently: modalities, the attention grid, the
/// enhancement variants and ensembles, every row Seeds × Folds runs beside a linear-probe baseline, and the paper's
/// claims as paired per-fold differences. Features come from <see cref="FusionExperiment"/> (cached on disk).
/// </summary>
internal static class ExperimentSuite
{
    /// <summary>Runs the table.</summary>
    public static (List<ExperimentRow> Rows, FusionFeatureSet Features) Run(MLContext ml, IReadOnlyList<ClipRecord> clips, ExperimentSuiteOptions o, IProgress<string>? log = null,
        Func<FusionFeatureSet, FusionFeatureSet>? leaveOut = null)
    {
        var set = new FusionFeatureSet { Clips = clips, Frames = o.Frames, FrameMask = new float[clips.Count][] };
        var (variants, derived) = Variants(o);
        var main = MainVariant(o);
        var clock = Stopwatch.StartNew();
        log?.Report($"face features: {variants.Count} variant(s) × {clips.Count} clips × {o.Frames} frames (cached after the first run, in parts of {o.ExtractionChunk} clips)…");
        FusionExperiment.AddFaceFeatures(ml, set, variants, chunk: o.ExtractionChunk);
        foreach (var (name, build) in derived) set.Face[name] = build(set);
        if (o.FaceGeometry == FaceGeometryUse.Joined) set.ConcatenateFace(main, [BackboneVariant(o), FaceVariant.Geometry.Name]);
        if (o.SkipFacelessFrames)
        {
            log?.Report($"face masks: frames without a face are left out (an alignment-only pass over {clips.Count} clips on the first run, then cached)…");
            FusionExperiment.UseFaceMask(ml, set);
        }
        log?.Report($"face features ready in {clock.Elapsed.TotalSeconds:0} s; face found in {set.FaceFoundRate:P1} of frames");
        if (o.AudioCnnOnnx != null)
        {
            clock.Restart();
            FusionExperiment.AddAudioFeatures(ml, set, o.AudioCnnOnnx, o.SpectrogramFrames);
            log?.Report($"audio features ready in {clock.Elapsed.TotalSeconds:0} s (n = {set.AudioShape.Positions}, C = {set.AudioShape.Dim})");
        }
        if (o.Acoustic != AcousticFeaturesUse.None)
        {
            clock.Restart();
            AcousticFeatureSet.Add(ml, set);
            log?.Report($"acoustic functionals {(o.Acoustic == AcousticFeaturesUse.Joined ? "joined to the audio features" : "as the audio features")} in {clock.Elapsed.TotalSeconds:0} s (n = {set.AudioShape.Positions}, C = {set.AudioShape.Dim})");
        }
        if (leaveOut != null) set = leaveOut(set);
        else if (set.Failures.Count > 0)
        {
            // Bad clips are left out of every row of the table, and said so.
            foreach (var f in set.Failures) log?.Report($"left out {f.Clip.Path}: {f.Error.Message}");
            set = set.WithoutFailures();
        }
        var speakers = set.Clips.Select(c => c.Speaker).Distinct().Count();
        var trainingSpeakers = speakers - (int)Math.Ceiling(speakers / (double)o.Folds);
        // Too few training speakers to hold some out: a fifth of the rows (the trainer then splits clips, stratified by label).
        double Fraction(int validationSpeakers) => validationSpeakers <= 0 ? 0
            : validationSpeakers >= trainingSpeakers ? 0.2 : validationSpeakers / (double)trainingSpeakers;
        var rows = new List<ExperimentRow>();
        var seeds = Enumerable.Range(o.FirstSeed, o.Seeds).ToArray();
        SeededResult Cv(string section, string name, string variant, FusionHeadOptions head, string key = "", TrainerOptions? training = null, int? validationSpeakers = null)
        {
            var sw = Stopwatch.StartNew();
            var runs = seeds.Select(s =>
            {
                var t = AudioCnnExperiment.CopyTraining(training ?? o.Training, "Speaker");
                t.Seed = s;
                t.ValidationFraction = Fraction(validationSpeakers ?? o.ValidationSpeakers);
                return o.ResumeRuns
                    ? RunResultCache.GetOrRun(set, variant, head, t, o.Folds, name, () => FusionExperiment.Run(ml, set, variant, head, t, o.Folds, name))
                    : FusionExperiment.Run(ml, set, variant, head, t, o.Folds, name);
            }).ToList();
            var r = new SeededResult(name, runs);
            rows.Add(new ExperimentRow(section, r, sw.Elapsed.TotalSeconds, key));
            log?.Report($"{section}: {name}: {r.AccuracyText} % over {runs.Count}×{o.Folds} runs (validation {100 * r.MeanValidationAccuracy:0.0} %) [{sw.Elapsed.TotalSeconds:0} s]");
            return r;
        }
        SeededResult Probe(string section, string? variant, bool audio, string key = "")
        {
            var sw = Stopwatch.StartNew();
            var what = variant == null ? "audio" : audio ? $"{variant} + audio" : variant;
            var name = $"linear probe: {what} (clip means, standardised, L-BFGS max-entropy)";
            var r = new SeededResult(name, [FusionExperiment.Probe(ml, set, variant, audio, o.Folds, name, Fraction(o.ValidationSpeakers), o.FirstSeed)]);
            rows.Add(new ExperimentRow(section, r, sw.Elapsed.TotalSeconds, key));
            log?.Report($"{section}: {name}: {r.AccuracyText} % (validation {100 * r.MeanValidationAccuracy:0.0} %)");
            return r;
        }
        SeededResult SeedEnsemble(string section, SeededResult member, string key = "")
        {
            var name = $"{member.Name}, mean scores of its {member.Runs.Count} seeds";
            var r = new SeededResult(name, [FusionExperiment.Ensemble(name, member.Runs, set.Clips, null, o.Folds)]);
            rows.Add(new ExperimentRow(section, r, 0, key));
            log?.Report($"{section}: {name}: {r.AccuracyText} %");
            return r;
        }
        FusionHeadOptions H(AttentionKind f, AttentionKind a, FusionKind fusion = FusionKind.Fbp, Modalities m = Modalities.Both)
            => o.Head with { FaceAttention = f, AudioAttention = a, Fusion = fusion, Modalities = m };
        var hasAudio = set.Audio != null;
        var T = AttentionKind.Transformer;
        var basic = $"basic-{Short(o.Backbone)}";
        if (o.Sections.HasFlag(ExperimentSections.Main))
        {
            var h = o.Head;
            var head = Cv("main", FusionHeadTrainer.Describe(h) + $" ({main})", main, h, "main");
            if (o.Seeds > 1) SeedEnsemble("main", head, "main-ensemble");
            Probe("main", h.UsesFace ? main : null, h.UsesAudio && hasAudio, "main-probe");
        }
        if (o.Sections.HasFlag(ExperimentSections.Ablation) && hasAudio)
        {
            var (prevHead, prevTraining, prevValidation) = ExperimentSuiteOptions.Defaults.Previous();
            var fbp = prevHead with { FaceAttention = T, AudioAttention = T, Fusion = FusionKind.Fbp, Modalities = Modalities.Both };
            Cv("ablation", "previous release: no standardisation, 1 validation speaker", basic, fbp, "ablation-previous", prevTraining, prevValidation);
            Cv("ablation", "+ 2 validation speakers", basic, fbp, "ablation-val2", prevTraining, 2);
            Cv("ablation", "+ standardisation in the head", basic, fbp with { Standardize = true }, "", prevTraining, 2);
            Cv("ablation", "audio only, previous release", basic, fbp with { Modalities = Modalities.AudioOnly }, "", prevTraining, prevValidation);
            Cv("ablation", "audio only, + standardisation, 2 validation speakers", basic, fbp with { Modalities = Modalities.AudioOnly, Standardize = true }, "", prevTraining, 2);
        }
        if (o.Sections.HasFlag(ExperimentSections.Modalities))
        {
            if (hasAudio)
            {
                Cv("modalities", "audio only (transformer attention)", basic, H(T, T, m: Modalities.AudioOnly), "audio");
                Probe("modalities", null, true, "probe-audio");
            }
            Cv("modalities", $"video only ({basic}, transformer attention)", basic, H(T, T, m: Modalities.FaceOnly), "video");
            Probe("modalities", basic, false, "probe-video");
            if (hasAudio)
            {
                Cv("modalities", "audio + video, concatenation (transformer × transformer)", basic, H(T, T, FusionKind.Concat), "concat");
                Cv("modalities", "audio + video, FBP (transformer × transformer)", basic, H(T, T), "fbp");
                Probe("modalities", basic, true, "probe-both");
            }
        }
        if (o.Sections.HasFlag(ExperimentSections.Backbones))
            foreach (var b in Enum.GetValues<FaceBackboneKind>())
            {
                Cv("backbones (video only, transformer attention)", $"{b} Basic features", $"basic-{Short(b)}", H(T, T, m: Modalities.FaceOnly));
                Probe("backbones (video only, transformer attention)", $"basic-{Short(b)}", false);
            }
        var grid = new List<SeededResult>();
        if (hasAudio && o.Sections.HasFlag(ExperimentSections.Grid))
            foreach (var f in Enum.GetValues<AttentionKind>())
                foreach (var a in Enum.GetValues<AttentionKind>())
                    grid.Add(Cv("grid", $"visual {f.ToString().ToLowerInvariant()} × audio {a.ToString().ToLowerInvariant()}, FBP", basic, H(f, a), $"grid-{f}-{a}"));
        if (o.Sections.HasFlag(ExperimentSections.Enhancement))
        {
            var eb = Short(o.EnhancementBackbone);
            var baseline = $"basic-{eb}";
            var head = hasAudio ? H(T, T) : H(T, T, m: Modalities.FaceOnly);
            var mode = hasAudio ? "FBP" : "video only";
            if (!rows.Any(r => r.Key == "fbp") || baseline != basic) Cv("enhancement", $"{baseline} (transformer × transformer, {mode})", baseline, head, $"enh-{FeatureEnhancement.Basic}");
            foreach (var e in o.Enhancements)
            {
                var v = EnhancementVariant(e, o);
                if (!set.Face.ContainsKey(v)) continue;
                Cv("enhancement", $"{v} (transformer × transformer, {mode})", v, head, $"enh-{e}");
                Probe("enhancement", v, hasAudio);
            }
        }
        if (o.Sections.HasFlag(ExperimentSections.Ensemble) && grid.Count >= 2)
        {
            // Members fixed in advance (never chosen by test accuracy): the whole grid, one ensemble per seed.
            var sw = Stopwatch.StartNew();
            var name = $"ensemble of the {grid.Count} grid heads, mean scores (per seed)";
            var runs = Enumerable.Range(0, o.Seeds).Select(s => FusionExperiment.Ensemble(name, grid.Select(g => g.Runs[s]).ToList(), set.Clips, null, o.Folds)).ToList();
            var r = new SeededResult(name, runs);
            rows.Add(new ExperimentRow("ensemble", r, sw.Elapsed.TotalSeconds, "grid-ensemble"));
            log?.Report($"ensemble: {name}: {r.AccuracyText} %");
        }
        return (rows, set);
    }

    /// <summary>The name of the main configuration's face variant.</summary>
    public static string MainVariant(ExperimentSuiteOptions o) => o.FaceGeometry switch
    {
        FaceGeometryUse.Joined => BackboneVariant(o) + "+" + FaceVariant.Geometry.Name,
        FaceGeometryUse.Alone => FaceVariant.Geometry.Name,
        _ => BackboneVariant(o),
    };

    private static string BackboneVariant(ExperimentSuiteOptions o)
        => o.Enhancement == FeatureEnhancement.Basic ? $"basic-{Short(o.Backbone)}" : $"{Name(o.Enhancement)}-{Short(o.Backbone)}";

    private static string EnhancementVariant(FeatureEnhancement e, ExperimentSuiteOptions o)
        => e == FeatureEnhancement.FArMean ? $"farmean-{Short(o.EnhancementBackbone)}+{Short(o.SecondBackbone)}" : $"{Name(e)}-{Short(o.EnhancementBackbone)}";

    private static string Name(FeatureEnhancement e) => e.ToString().ToLowerInvariant();

    /// <summary>
    /// The face feature variants the table needs (computed ones, the main one first) and the ones derived from them
    /// without another backbone pass: F-Mean is the first half of F-MeanStd (same 18 copies), F-AR-Mean is F-Mean of the
    /// enhancement backbone beside F-Mean of the second backbone.
    /// </summary>
    public static (List<FaceVariant> Computed, List<(string Name, Func<FusionFeatureSet, (float[][] Values, int Dim)> Build)> Derived) Variants(ExperimentSuiteOptions o)
    {
        var computed = new List<FaceVariant>();
        var derived = new List<(string, Func<FusionFeatureSet, (float[][], int)>)>();
        void Add(string name, FaceBackboneKind b, FeatureEnhancement e)
        {
            if (computed.Any(v => v.Name == name)) return;
            computed.Add(new(name, new FaceFeatureOptions { Backbone = b, Enhancement = e, ModelPath = b == o.Backbone ? o.BackboneOnnx : null }));
        }
        var needed = new List<(FaceBackboneKind Backbone, FeatureEnhancement Enhancement)> { (o.Backbone, o.Enhancement) };
        if (o.Sections.HasFlag(ExperimentSections.Enhancement))
        {
            needed.Add((o.EnhancementBackbone, FeatureEnhancement.Basic));
            needed.AddRange(o.Enhancements.Select(e => (o.EnhancementBackbone, e)));
        }
        if (o.Sections.HasFlag(ExperimentSections.Ablation) || o.Sections.HasFlag(ExperimentSections.Modalities) || o.Sections.HasFlag(ExperimentSections.Grid))
            needed.Add((o.Backbone, FeatureEnhancement.Basic));
        if (o.Sections.HasFlag(ExperimentSections.Backbones))
            needed.AddRange(Enum.GetValues<FaceBackboneKind>().Select(b => (b, FeatureEnhancement.Basic)));
        foreach (var (b, e) in needed)
        {
            switch (e)
            {
                case FeatureEnhancement.FMean:
                    Add($"fmeanstd-{Short(b)}", b, FeatureEnhancement.FMeanStd);
                    Derive($"fmean-{Short(b)}", $"fmeanstd-{Short(b)}", null);
                    break;
                case FeatureEnhancement.FArMean:
                    Add($"fmeanstd-{Short(b)}", b, FeatureEnhancement.FMeanStd);
                    Add($"fmean-{Short(o.SecondBackbone)}", o.SecondBackbone, FeatureEnhancement.FMean);
                    Derive($"farmean-{Short(b)}+{Short(o.SecondBackbone)}", $"fmeanstd-{Short(b)}", $"fmean-{Short(o.SecondBackbone)}");
                    break;
                default:
                    Add(e == FeatureEnhancement.Basic ? $"basic-{Short(b)}" : $"{Name(e)}-{Short(b)}", b, e);
                    break;
            }
        }
        if (o.FaceGeometry != FaceGeometryUse.None) computed.Add(FaceVariant.Geometry);
        return (computed, derived);

        void Derive(string name, string meanStd, string? second)
        {
            if (derived.Any(d => d.Item1 == name)) return;
            derived.Add((name, set =>
            {
                var (values, dim2) = set.Face[meanStd];
                var d = dim2 / 2;
                var frames = set.Frames;
                var (other, od) = second == null ? (null, 0) : set.Face[second];
                var result = values.Select((row, i) =>
                {
                    var dst = new float[frames * (d + od)];
                    for (var f = 0; f < frames; f++)
                    {
                        row.AsSpan(f * dim2, d).CopyTo(dst.AsSpan(f * (d + od), d));
                        if (other != null) other[i].AsSpan(f * od, od).CopyTo(dst.AsSpan(f * (d + od) + d, od));
                    }
                    return dst;
                }).ToArray();
                return (result, d + od);
            }));
        }
    }

    /// <summary>Short backbone name.</summary>
    public static string Short(FaceBackboneKind b) => b switch
    {
        FaceBackboneKind.FerDenseNet121 => "densenet",
        FaceBackboneKind.MobileFaceNet => "mobilefacenet",
        _ => "minixception",
    };

    /// <summary>The paper's claims as (claim, A key, B key) pairs: A should beat B.</summary>
    private static readonly (string Claim, string A, string B)[] Claims =
    [
        ("transformer ≥ relation attention (visual × audio, FBP)", "grid-Transformer-Transformer", "grid-Relation-Relation"),
        ("relation ≥ self attention (visual × audio, FBP)", "grid-Relation-Relation", "grid-Self-Self"),
        ("FBP > concatenation (transformer × transformer)", "fbp", "concat"),
        ("F-MeanStd > Basic (enhancement backbone, FBP)", "enh-FMeanStd", "enh-Basic"),
        ("F-MeanStd > Basic (enhancement backbone, FBP)", "enh-FMeanStd", "fbp"),
        ("fusion (FBP) > audio only", "fbp", "audio"),
        ("fusion (FBP) > video only", "fbp", "video"),
        ("head > its linear probe (audio + video)", "fbp", "probe-both"),
        ("head > its linear probe (audio only)", "audio", "probe-audio"),
        ("head > its linear probe (video only)", "video", "probe-video"),
        ("main job > its linear probe", "main", "main-probe"),
        ("main job, seed ensemble > single seeds", "main-ensemble", "main"),
        ("main job > previous release's head", "main", "ablation-previous"),
    ];

    /// <summary>The claims whose two rows were run, as paired per-fold differences.</summary>
    public static List<(string Claim, PairedDifference Difference)> PairedClaims(IReadOnlyList<ExperimentRow> rows)
    {
        var byKey = rows.Where(r => r.Key.Length > 0).GroupBy(r => r.Key).ToDictionary(g => g.Key, g => g.First().Result);
        var list = new List<(string, PairedDifference)>();
        foreach (var (claim, a, b) in Claims)
        {
            if (!byKey.TryGetValue(a, out var ra) || !byKey.TryGetValue(b, out var rb) || list.Any(l => l.Item1 == claim)) continue;
            list.Add((claim, PairedDifference.Of(ra, rb)));
        }
        return list;
    }

    /// <summary>The table as JSON (for notebooks): per row the section, name, per-seed fold accuracies, means, classes and confusion matrix of the first seed.</summary>
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
                key = r.Key,
                name = r.Result.Name,
                accuracy = r.Result.MeanAccuracy,
                accuracyStd = r.Result.StdAccuracy,
                macroF1 = r.Result.MeanMacroF1,
                macroF1Std = r.Result.StdMacroF1,
                validationAccuracy = double.IsFinite(r.Result.MeanValidationAccuracy) ? r.Result.MeanValidationAccuracy : (double?)null,
                seeds = r.Result.Runs.Select(run => run.Folds.Select(f => new { speakers = f.TestSpeakers, accuracy = f.Accuracy, macroF1 = f.MacroF1, rows = f.Rows })),
                classes = r.Result.Runs[0].Classes,
                confusion = Enumerable.Range(0, r.Result.Runs[0].Classes.Length).Select(i => Enumerable.Range(0, r.Result.Runs[0].Classes.Length).Select(j => r.Result.Runs.Sum(x => x.Confusion[i, j])).ToArray()),
                seconds = r.Seconds,
            }),
            claims = PairedClaims(rows).Select(c => new { claim = c.Claim, a = c.Difference.A, b = c.Difference.B, mean = c.Difference.Mean, std = c.Difference.Std, folds = c.Difference.FoldDifferences, standardError = c.Difference.StandardError, verdict = c.Difference.Verdict.ToString() }),
        };
        return System.Text.Json.JsonSerializer.Serialize(doc, new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>The table as markdown, with the command that produced it, and the paired differences of the paper's claims.</summary>
    public static string Markdown(IReadOnlyList<ExperimentRow> rows, string command, FusionFeatureSet set, ExperimentSuiteOptions o)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        var speakers = set.Clips.Select(c => c.Speaker).Distinct().Count();
        sb.AppendLine($"Command: `{command}`  ");
        sb.AppendLine($"Data: {set.Clips.Count} clips, {speakers} speakers, {o.Folds}-fold speaker-independent CV (folds hold out whole speakers), " +
            $"{o.Seeds} seed(s) per head row; early stopping on {o.ValidationSpeakers} held-out training speakers. {o.Frames} frames per clip, face found in " +
            $"{set.FaceFoundRate.ToString("P1", inv)} of frames. Accuracy and macro-F1: mean ± sample std over all (seed, fold) runs, in %; " +
            "validation: accuracy on the held-out training speakers (what settings are chosen by); per-fold: seed-averaged accuracy per held-out speaker.");
        sb.AppendLine();
        foreach (var section in rows.GroupBy(r => r.Section))
        {
            sb.AppendLine($"| {section.Key} | runs | accuracy | macro-F1 | validation | per-fold accuracy | time |");
            sb.AppendLine("|---|---|---|---|---|---|---|");
            foreach (var r in section)
            {
                var x = r.Result;
                var folds = string.Join(" ", x.FoldMeans.Select(f => (100 * f).ToString("0", inv)));
                var validation = double.IsFinite(x.MeanValidationAccuracy) ? (100 * x.MeanValidationAccuracy).ToString("0.0", inv) : "–";
                sb.AppendLine($"| {x.Name} | {x.Runs.Count}×{x.Runs[0].Folds.Count} | {x.AccuracyText} | {SeededResult.Percent(x.MeanMacroF1, x.StdMacroF1)} | {validation} | {folds} | {r.Seconds.ToString("0", inv)} s |");
            }
            sb.AppendLine();
        }
        var claims = PairedClaims(rows);
        if (claims.Count > 0)
        {
            sb.AppendLine("Paired per-fold differences A − B (accuracy points; mean over folds ± std over the (seed, fold) runs; per fold seed-averaged). " +
                "Verdict: a two-sided paired t test over the folds at 5 % (|mean| > t₀.₉₇₅ · standard error).");
            sb.AppendLine();
            sb.AppendLine("| claim | A − B | per fold | standard error | verdict |");
            sb.AppendLine("|---|---|---|---|---|");
            foreach (var (claim, d) in claims)
            {
                var folds = string.Join(" ", d.FoldDifferences.Select(f => (100 * f).ToString("+0;−0;0", inv)));
                var verdict = d.Verdict switch { PairedVerdict.Confirmed => "confirmed", PairedVerdict.Contradicted => "contradicted (B better)", _ => "not separable" };
                sb.AppendLine($"| {claim} | {d.Text} | {folds} | {(100 * d.StandardError).ToString("0.0", inv)} | {verdict} |");
            }
            sb.AppendLine();
        }
        return sb.ToString();
    }
}
