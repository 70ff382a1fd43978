using EmotionML.Core;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace EmotionML.FaceFeatures;

/// <summary>
/// Estimator of the face-feature stage. <see cref="EmotionEstimatorBase{TTransformer, TOptions}.Fit"/> checks the input schema and
/// loads (and sha256-checks) the backbone ONNX file(s); nothing is learned.
/// </summary>
public sealed class FaceFeatureEstimator : EmotionTrivialEstimator<FaceFeatureTransformer, FaceFeatureOptions>
{
    internal FaceFeatureEstimator(IHostEnvironment env, FaceFeatureOptions options) : base(env, nameof(FaceFeatureEstimator), options)
    {
    }

    /// <summary>The transformer, with the backbone bytes read from <see cref="FaceFeatureOptions.ModelPath"/> (and the second backbone's for F-AR-Mean).</summary>
    private protected override FaceFeatureTransformer CreateTransformer()
    {
        var o = Options;
        var model = FineTunedBackbone.Load(FaceBackbone.Of(o.Backbone), o.ModelPath);
        byte[]? second = o.Enhancement == FeatureEnhancement.FArMean
            ? File.ReadAllBytes(FaceBackbone.Of(o.SecondBackbone).Model.Resolve(o.SecondModelPath))
            : null;
        return new FaceFeatureTransformer(Env, o, model, second);
    }

    private protected override SchemaShape OutputSchema(SchemaShape inputSchema)
    {
        var o = Options;
        SchemaChecks.Require(inputSchema, o.CropsColumnName, "face crops", SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Byte, FaceFeatureTransformer.CropsExpected);
        SchemaChecks.Require(inputSchema, o.MaskColumnName, "frame mask", SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, FaceFeatureTransformer.MaskExpected);
        // The frame count is only known from the bound schema; the shape carries the kind and item type.
        return SchemaChecks.Add(inputSchema, [new OutputColumn(o.OutputColumnName, new VectorDataViewType(NumberDataViewType.Single, 1, o.FeatureDimension))]);
    }
}
