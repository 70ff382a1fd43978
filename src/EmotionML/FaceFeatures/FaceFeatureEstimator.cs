using EmotionML.Core;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace EmotionML.FaceFeatures;

/// <summary>
/// Estimator of the face-feature stage. <see cref="Fit"/> checks the input schema and loads (and sha256-checks) the backbone
/// ONNX file(s); nothing is learned.
/// </summary>
public sealed class FaceFeatureEstimator : IEstimator<FaceFeatureTransformer>
{
    private readonly IHostEnvironment _env;
    private readonly FaceFeatureOptions _options;

    internal FaceFeatureEstimator(IHostEnvironment env, FaceFeatureOptions options)
    {
        _env = env ?? throw new ArgumentNullException(nameof(env));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _options.Validate();
    }

    /// <summary>Returns the transformer, with the backbone bytes read from <see cref="FaceFeatureOptions.ModelPath"/> (and the second backbone's for F-AR-Mean).</summary>
    public FaceFeatureTransformer Fit(IDataView input)
    {
        var o = _options;
        var model = File.ReadAllBytes(FaceBackbone.Of(o.Backbone).Model.Resolve(o.ModelPath));
        byte[]? second = o.Enhancement == FeatureEnhancement.FArMean
            ? File.ReadAllBytes(FaceBackbone.Of(o.SecondBackbone).Model.Resolve(o.SecondModelPath))
            : null;
        var t = new FaceFeatureTransformer(_env, o, model, second);
        t.GetOutputSchema(input.Schema);
        return t;
    }

    /// <summary>The schema after this stage.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var o = _options;
        SchemaChecks.Require(inputSchema, o.CropsColumnName, "face crops", SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Byte);
        SchemaChecks.Require(inputSchema, o.MaskColumnName, "frame mask", SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single);
        // The frame count is only known from the bound schema; the shape carries the kind and item type.
        return SchemaChecks.Add(inputSchema, [new OutputColumn(o.OutputColumnName, new VectorDataViewType(NumberDataViewType.Single, 1, o.FeatureDimension))]);
    }
}
