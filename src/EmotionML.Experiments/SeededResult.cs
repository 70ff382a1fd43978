using System.Globalization;

namespace EmotionML.Experiments;

/// <summary>
/// One configuration run with several seeds, each a full speaker-independent cross-validation over the same folds.
/// Means and spreads are over all (seed, fold) runs.
/// </summary>
public sealed class SeededResult
{
    /// <summary>Creates the result from one cross-validation per seed (same clips and folds in each).</summary>
    public SeededResult(string name, IReadOnlyList<CrossValidationResult> runs)
    {
        if (runs.Count == 0) throw new ArgumentException("A seeded result needs at least one run.", nameof(runs));
        if (runs.Any(r => r.Folds.Count != runs[0].Folds.Count)) throw new ArgumentException("Every run must have the same folds.", nameof(runs));
        Name = name;
        Runs = runs;
    }

    /// <summary>Configuration name.</summary>
    public string Name { get; }

    /// <summary>The cross-validation of each seed.</summary>
    public IReadOnlyList<CrossValidationResult> Runs { get; }

    /// <summary>Every (seed, fold) accuracy.</summary>
    public double[] Accuracies => Runs.SelectMany(r => r.Folds.Select(f => f.Accuracy)).ToArray();

    /// <summary>Mean accuracy over all runs.</summary>
    public double MeanAccuracy => Accuracies.Average();

    /// <summary>Sample standard deviation of the accuracy over all runs.</summary>
    public double StdAccuracy => Std(Accuracies);

    /// <summary>Mean macro-F1 over all runs.</summary>
    public double MeanMacroF1 => Runs.SelectMany(r => r.Folds).Average(f => f.MacroF1);

    /// <summary>Sample standard deviation of macro-F1 over all runs.</summary>
    public double StdMacroF1 => Std(Runs.SelectMany(r => r.Folds.Select(f => f.MacroF1)).ToArray());

    /// <summary>Mean validation accuracy (held-out training speakers) over all runs; NaN when there was none.</summary>
    public double MeanValidationAccuracy
    {
        get
        {
            var v = Runs.SelectMany(r => r.Folds).Select(f => f.ValidationAccuracy).Where(double.IsFinite).ToArray();
            return v.Length == 0 ? double.NaN : v.Average();
        }
    }

    /// <summary>Per fold, the accuracy averaged over the seeds.</summary>
    public double[] FoldMeans => Enumerable.Range(0, Runs[0].Folds.Count).Select(k => Runs.Average(r => r.Folds[k].Accuracy)).ToArray();

    /// <summary>"54.2 ± 3.1" in percent.</summary>
    public string AccuracyText => Percent(MeanAccuracy, StdAccuracy);

    internal static string Percent(double mean, double std) => string.Create(CultureInfo.InvariantCulture, $"{100 * mean:0.0} ± {100 * std:0.0}");

    internal static double Std(IReadOnlyList<double> x)
    {
        if (x.Count < 2) return 0;
        var m = x.Average();
        return Math.Sqrt(x.Sum(v => (v - m) * (v - m)) / (x.Count - 1));
    }
}

/// <summary>How a paired comparison of two configurations came out.</summary>
public enum PairedVerdict
{
    /// <summary>A is better: the mean per-fold difference is more than t₀.₉₇₅ standard errors above 0.</summary>
    Confirmed,
    /// <summary>B is better by the same rule.</summary>
    Contradicted,
    /// <summary>Neither: the difference is within the folds' spread.</summary>
    NotSeparable,
}

/// <summary>
/// The paired per-fold difference A − B of two seeded results on the same folds: per (seed, fold) run and per fold
/// (averaged over seeds). The verdict is a two-sided paired t test at 5 % over the folds (the seed-averaged per-fold
/// differences; folds are the independent units, seeds are not).
/// </summary>
/// <param name="A">Name of A.</param>
/// <param name="B">Name of B.</param>
/// <param name="Mean">Mean of the differences (accuracy, 0–1).</param>
/// <param name="Std">Sample std of the (seed, fold) differences.</param>
/// <param name="FoldDifferences">Per fold, the seed-averaged difference.</param>
/// <param name="StandardError">Standard error of the mean over the folds.</param>
/// <param name="Verdict">Confirmed / contradicted / not separable.</param>
public sealed record PairedDifference(string A, string B, double Mean, double Std, double[] FoldDifferences, double StandardError, PairedVerdict Verdict)
{
    /// <summary>Compares A with B: runs of the same seed are paired; a result with one run (a deterministic baseline, a seed ensemble) is paired with every run of the other.</summary>
    public static PairedDifference Of(SeededResult a, SeededResult b)
    {
        var folds = a.Runs[0].Folds.Count;
        if (b.Runs[0].Folds.Count != folds) throw new ArgumentException("Both results must have the same folds.");
        for (var k = 0; k < folds; k++)
            if (!a.Runs[0].Folds[k].TestSpeakers.SequenceEqual(b.Runs[0].Folds[k].TestSpeakers))
                throw new ArgumentException($"Fold {k + 1} holds out different speakers in {a.Name} and {b.Name}.");
        var seeds = Math.Max(a.Runs.Count, b.Runs.Count);
        if ((a.Runs.Count != 1 && a.Runs.Count != seeds) || (b.Runs.Count != 1 && b.Runs.Count != seeds))
            throw new ArgumentException("Each result must have one run (a deterministic baseline) or as many as the other.");
        CrossValidationResult A(int s) => a.Runs.Count == 1 ? a.Runs[0] : a.Runs[s];
        CrossValidationResult B(int s) => b.Runs.Count == 1 ? b.Runs[0] : b.Runs[s];
        var runs = Enumerable.Range(0, seeds).SelectMany(s => Enumerable.Range(0, folds).Select(k => A(s).Folds[k].Accuracy - B(s).Folds[k].Accuracy)).ToArray();
        var perFold = Enumerable.Range(0, folds).Select(k => Enumerable.Range(0, seeds).Average(s => A(s).Folds[k].Accuracy - B(s).Folds[k].Accuracy)).ToArray();
        var mean = perFold.Average();
        var se = folds < 2 ? double.PositiveInfinity : SeededResult.Std(perFold) / Math.Sqrt(folds);
        var t = TCritical(folds - 1);
        var verdict = se == 0 ? (mean > 0 ? PairedVerdict.Confirmed : mean < 0 ? PairedVerdict.Contradicted : PairedVerdict.NotSeparable)
            : mean > t * se ? PairedVerdict.Confirmed : mean < -t * se ? PairedVerdict.Contradicted : PairedVerdict.NotSeparable;
        return new PairedDifference(a.Name, b.Name, mean, SeededResult.Std(runs), perFold, se, verdict);
    }

    /// <summary>Two-sided 95 % critical value of Student's t with <paramref name="df"/> degrees of freedom.</summary>
    internal static double TCritical(int df) => df switch
    {
        <= 0 => double.PositiveInfinity,
        1 => 12.706, 2 => 4.303, 3 => 3.182, 4 => 2.776, 5 => 2.571, 6 => 2.447, 7 => 2.365, 8 => 2.306, 9 => 2.262,
        <= 14 => 2.145, <= 19 => 2.093, <= 29 => 2.045, _ => 1.96,
    };

    /// <summary>"+3.1 ± 7.2 (folds: +2 −1 …)" in points.</summary>
    public string Text => string.Create(CultureInfo.InvariantCulture, $"{100 * Mean:+0.0;−0.0;0.0} ± {100 * Std:0.0}");
}
