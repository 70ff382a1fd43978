namespace EmotionML.Ensembles;

/// <summary>Options of the score ensemble stage (<see cref="ScoreEnsembleTransformer"/>).</summary>
public sealed class ScoreEnsembleOptions
{
    /// <summary>Score columns of the members (class probabilities of equal length and class order). At least one.</summary>
    public string[] InputColumnNames { get; set; } = [];

    /// <summary>Weight of each member (default: equal). Scores are averaged with these weights.</summary>
    public double[]? MemberWeights { get; set; }

    /// <summary>
    /// Per-class multipliers applied to the averaged scores before the arg-max (then renormalised), e.g. from
    /// <see cref="ClassWeightsFromCounts"/>. Default: none.
    /// </summary>
    public double[]? ClassWeights { get; set; }

    /// <summary>Output: averaged, re-weighted probabilities. Default "Score".</summary>
    public string ScoreColumnName { get; set; } = "Score";

    /// <summary>Output: arg-max as a key with the class names. Default "PredictedLabel".</summary>
    public string PredictedLabelColumnName { get; set; } = "PredictedLabel";

    /// <summary>
    /// The paper's class re-weighting: weight_c ∝ √(count_c) of the training set, normalised to mean 1 (a prior that
    /// favours frequent classes in proportion to the square root of their frequency).
    /// </summary>
    public static double[] ClassWeightsFromCounts(IReadOnlyList<int> trainingCounts)
    {
        var w = trainingCounts.Select(c => Math.Sqrt(Math.Max(0, c))).ToArray();
        var mean = w.Average();
        return w.Select(x => mean == 0 ? 1 : x / mean).ToArray();
    }

    internal ScoreEnsembleOptions Clone()
    {
        var copy = (ScoreEnsembleOptions)MemberwiseClone();
        copy.InputColumnNames = (string[])InputColumnNames.Clone();
        copy.MemberWeights = (double[]?)MemberWeights?.Clone();
        copy.ClassWeights = (double[]?)ClassWeights?.Clone();
        return copy;
    }

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(ScoreColumnName)) throw new ArgumentException("ScoreColumnName must be set.", nameof(ScoreColumnName));
        if (string.IsNullOrWhiteSpace(PredictedLabelColumnName)) throw new ArgumentException("PredictedLabelColumnName must be set.", nameof(PredictedLabelColumnName));
        if (InputColumnNames is null || InputColumnNames.Length == 0) throw new ArgumentException("ScoreEnsembleOptions.InputColumnNames must name at least one score column.");
        if (MemberWeights != null && (MemberWeights.Length != InputColumnNames.Length || MemberWeights.Any(w => !(w >= 0)) || MemberWeights.Sum() <= 0))
            throw new ArgumentException("ScoreEnsembleOptions.MemberWeights must have one non-negative weight per member, not all zero.");
        if (ClassWeights != null && ClassWeights.Any(w => !(w >= 0)))
            throw new ArgumentException("ScoreEnsembleOptions.ClassWeights must be non-negative.");
    }
}
