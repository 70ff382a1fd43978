using System.Globalization;
using System.Text;

namespace EmotionML.Experiments;

/// <summary>Metrics of one held-out fold.</summary>
/// <param name="TestSpeakers">The speakers of the fold.</param>
/// <param name="Accuracy">Micro accuracy on the fold.</param>
/// <param name="MacroF1">Macro-averaged F1 on the fold.</param>
/// <param name="Rows">Clips in the fold.</param>
public sealed record FoldResult(string[] TestSpeakers, double Accuracy, double MacroF1, int Rows)
{
    /// <summary>Accuracy on the held-out speakers of the training folds (early stopping's validation split) at the kept epoch; NaN when there was none.</summary>
    public double ValidationAccuracy { get; init; } = double.NaN;
}

/// <summary>A speaker-independent cross-validation: per-fold metrics, their mean and spread, and the pooled confusion matrix.</summary>
public sealed class CrossValidationResult
{
    /// <summary>Creates the result.</summary>
    public CrossValidationResult(string name, string[] classes, IReadOnlyList<FoldResult> folds, long[,] confusion)
    {
        Name = name;
        Classes = classes;
        Folds = folds;
        Confusion = confusion;
    }

    /// <summary>Configuration name.</summary>
    public string Name { get; }

    /// <summary>Class names (confusion matrix order).</summary>
    public string[] Classes { get; }

    /// <summary>Per-fold metrics.</summary>
    public IReadOnlyList<FoldResult> Folds { get; }

    /// <summary>Pooled confusion matrix over all folds: [true, predicted].</summary>
    public long[,] Confusion { get; }

    /// <summary>Mean of the folds' accuracies.</summary>
    public double MeanAccuracy => Folds.Average(f => f.Accuracy);

    /// <summary>Sample standard deviation of the folds' accuracies.</summary>
    public double StdAccuracy => Std(Folds.Select(f => f.Accuracy).ToArray());

    /// <summary>Mean of the folds' macro-F1.</summary>
    public double MeanMacroF1 => Folds.Average(f => f.MacroF1);

    /// <summary>Sample standard deviation of the folds' macro-F1.</summary>
    public double StdMacroF1 => Std(Folds.Select(f => f.MacroF1).ToArray());

    /// <summary>Per-class score vectors of every test clip (for ensembles), in manifest order of the test clips.</summary>
    public List<(string Path, int Label, float[] Scores)> Scores { get; } = [];

    private static double Std(double[] x) => x.Length < 2 ? 0 : Math.Sqrt(x.Sum(v => (v - x.Average()) * (v - x.Average())) / (x.Length - 1));

    /// <summary>"54.2 ± 3.1" in percent.</summary>
    public string AccuracyText => $"{100 * MeanAccuracy:0.0} ± {100 * StdAccuracy:0.0}";

    /// <summary>The confusion matrix as a markdown table (rows: true class, columns: predicted).</summary>
    public string ConfusionMarkdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| true \\ predicted | " + string.Join(" | ", Classes) + " | recall |");
        sb.AppendLine("|---|" + string.Concat(Enumerable.Repeat("---|", Classes.Length + 1)));
        for (var i = 0; i < Classes.Length; i++)
        {
            var row = Enumerable.Range(0, Classes.Length).Select(j => Confusion[i, j]).ToArray();
            var recall = row.Sum() == 0 ? 0 : (double)row[i] / row.Sum();
            sb.AppendLine($"| {Classes[i]} | " + string.Join(" | ", row) + $" | {recall.ToString("P0", CultureInfo.InvariantCulture)} |");
        }
        return sb.ToString();
    }

    /// <summary>Pooled metrics from a confusion matrix: (accuracy, macro-F1).</summary>
    public static (double Accuracy, double MacroF1) Metrics(long[,] c)
    {
        var k = c.GetLength(0);
        double correct = 0, total = 0, f1 = 0;
        var present = 0;
        for (var i = 0; i < k; i++)
        {
            double tp = c[i, i], row = 0, col = 0;
            for (var j = 0; j < k; j++) { row += c[i, j]; col += c[j, i]; total += c[i, j]; }
            correct += tp;
            if (row == 0) continue;
            present++;
            var p = col == 0 ? 0 : tp / col;
            var r = tp / row;
            f1 += p + r == 0 ? 0 : 2 * p * r / (p + r);
        }
        return (total == 0 ? 0 : correct / total, present == 0 ? 0 : f1 / present);
    }
}
