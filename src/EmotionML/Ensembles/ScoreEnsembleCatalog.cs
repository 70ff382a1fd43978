using EmotionML.Ensembles;
using Microsoft.ML.Data;

namespace Microsoft.ML;

public static partial class EmotionCatalog
{
    /// <summary>Averages the given score columns equally into Score and PredictedLabel.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="scoreColumns">The members' score columns (same classes in the same order).</param>
    /// <example>
    /// <code>
    /// var ensemble = mlContext.Transforms.EnsembleScores("FaceScore", "AudioScore");
    /// </code>
    /// </example>
    public static ScoreEnsembleEstimator EnsembleScores(this TransformsCatalog catalog, params string[] scoreColumns)
        => catalog.EnsembleScores(new ScoreEnsembleOptions { InputColumnNames = scoreColumns });

    /// <summary>Averages the score columns of several heads (optionally weighted and class re-weighted) into Score and PredictedLabel.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="options">The options; copied.</param>
    /// <example>
    /// <code>
    /// var ensemble = mlContext.Transforms.EnsembleScores(new ScoreEnsembleOptions
    /// {
    ///     InputColumnNames = ["FaceScore", "AudioScore"],
    ///     MemberWeights = [2, 1],
    ///     ClassWeights = ScoreEnsembleOptions.ClassWeightsFromCounts(trainingCounts),
    /// });
    /// </code>
    /// </example>
    public static ScoreEnsembleEstimator EnsembleScores(this TransformsCatalog catalog, ScoreEnsembleOptions options)
        => new(CatalogUtils.GetEnvironment(catalog ?? throw new ArgumentNullException(nameof(catalog))), options);
}
