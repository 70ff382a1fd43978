using EmotionML.Core;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace EmotionML.SpeakerAdaptation;

/// <summary>
/// Estimator of <see cref="SpeakerNormalizationTransformer"/>: <c>Fit</c> reads the sizes of the feature sets and the
/// statistics of every speaker in the data (no labels). Made by <c>mlContext.Transforms.NormalizeBySpeaker</c>.
/// </summary>
public sealed class SpeakerNormalizationEstimator : EmotionEstimatorBase<SpeakerNormalizationTransformer, SpeakerNormalizationOptions>
{
    internal SpeakerNormalizationEstimator(IHostEnvironment env, SpeakerNormalizationOptions options) : base(env, nameof(SpeakerNormalizationEstimator), options)
    {
    }

    private protected override SchemaShape OutputSchema(SchemaShape inputSchema)
    {
        var o = Options;
        SchemaChecks.Require(inputSchema, o.SpeakerColumnName, SpeakerNormalizationTransformer.SpeakerRole, SchemaShape.Column.VectorKind.Scalar, TextDataViewType.Instance);
        var outputs = new List<OutputColumn>();
        // The output has the input's type; a SchemaShape knows no vector sizes, so any known size describes it.
        var vector = new VectorDataViewType(NumberDataViewType.Single, 1);
        if (o.FaceFeaturesColumnName != null)
        {
            SchemaChecks.Require(inputSchema, o.FaceFeaturesColumnName, SpeakerNormalizationTransformer.FaceRole, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single);
            SchemaChecks.Require(inputSchema, o.FaceMaskColumnName, SpeakerNormalizationTransformer.FaceMaskRole, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single);
            outputs.Add(new(o.FaceOutput!, vector));
        }
        if (o.AudioFeaturesColumnName != null)
        {
            SchemaChecks.Require(inputSchema, o.AudioFeaturesColumnName, SpeakerNormalizationTransformer.AudioRole, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single);
            SchemaChecks.Require(inputSchema, o.AudioMaskColumnName, SpeakerNormalizationTransformer.AudioMaskRole, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single);
            outputs.Add(new(o.AudioOutput!, vector));
        }
        return SchemaChecks.Add(inputSchema, outputs);
    }

    private protected override SpeakerNormalizationTransformer FitChecked(IDataView input)
    {
        var o = Options;
        var shape = new SpeakerFeatureShape();
        (int Items, int Dim) Sizes(string features, string mask, string role)
        {
            var n = ((VectorDataViewType)input.Schema[mask].Type).Size;
            var total = ((VectorDataViewType)input.Schema[features].Type).Size;
            if (n == 0 || total == 0 || total % n != 0)
                throw new ArgumentOutOfRangeException(nameof(input), $"Column '{features}' ({role}) has {total} values, not a whole number of items for the {n} slots of '{mask}'.");
            return (n, total / n);
        }
        if (o.FaceFeaturesColumnName != null) (shape.FaceFrames, shape.FaceDim) = Sizes(o.FaceFeaturesColumnName, o.FaceMaskColumnName, SpeakerNormalizationTransformer.FaceRole);
        if (o.AudioFeaturesColumnName != null) (shape.AudioPositions, shape.AudioDim) = Sizes(o.AudioFeaturesColumnName, o.AudioMaskColumnName, SpeakerNormalizationTransformer.AudioRole);
        var columns = SpeakerNormalizationTransformer.FindColumns(input.Schema, o, shape);
        var statistics = SpeakerStatisticsReader.Compute(input, columns, shape, o);
        if (statistics.Count == 0) throw new InvalidInputException("Speaker normalisation was fitted on no clips.");
        return new SpeakerNormalizationTransformer(Env, o, shape, statistics.Values);
    }
}
