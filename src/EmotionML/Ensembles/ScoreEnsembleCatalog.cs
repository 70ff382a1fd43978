using EmotionML.Ensembles;

namespace Microsoft.ML;

public static partial class EmotionCatalog
{
    /// <summary>Averages the score columns of several heads (optionally weighted and class re-weighted) into Score and PredictedLabel.</summary>
    public static ScoreEnsembleEstimator EnsembleScores(this TransformsCatalog catalog, ScoreEnsembleOptions options)
        => new(Microsoft.ML.Data.CatalogUtils.GetEnvironment(catalog), options);

    /// <summary>Averages the given score columns equally into Score and PredictedLabel.</summary>
    public static ScoreEnsembleEstimator EnsembleScores(this TransformsCatalog catalog, params string[] scoreColumns)
        => catalog.EnsembleScores(new ScoreEnsembleOptions { InputColumnNames = scoreColumns });
}
