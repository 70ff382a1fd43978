using EmotionML.Core;
using EmotionML.FaceFeatures;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace EmotionML.FaceGeometry;

/// <summary>
/// Estimator of the face-geometry stage. <see cref="EmotionEstimatorBase{TTransformer, TOptions}.Fit"/> checks the input
/// schema and loads (and sha256-checks) the landmark CNN; nothing is learned.
/// </summary>
public sealed class FaceGeometryEstimator : EmotionTrivialEstimator<FaceGeometryTransformer, FaceGeometryOptions>
{
    internal FaceGeometryEstimator(IHostEnvironment env, FaceGeometryOptions options) : base(env, nameof(FaceGeometryEstimator), options)
    {
    }

    /// <summary>The transformer, with the landmark CNN's bytes read from <see cref="FaceGeometryOptions.ModelPath"/> (or the known places).</summary>
    private protected override FaceGeometryTransformer CreateTransformer()
        => new(Env, Options, File.ReadAllBytes(ModelFiles.FaceLandmarks68.Resolve(Options.ModelPath)));

    private protected override SchemaShape OutputSchema(SchemaShape inputSchema)
    {
        var o = Options;
        SchemaChecks.Require(inputSchema, o.CropsColumnName, "face crops", SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Byte, FaceFeatureTransformer.CropsExpected);
        SchemaChecks.Require(inputSchema, o.FaceFoundColumnName, "face found", SchemaShape.Column.VectorKind.Vector, BooleanDataViewType.Instance,
            "a vector of Boolean [MaxFrames] (face found per frame)");
        var outputs = new List<OutputColumn> { new(o.OutputColumnName, new VectorDataViewType(NumberDataViewType.Single, 1, FaceGeometryMeasures.Count)) };
        if (o.LandmarksColumnName != null) outputs.Add(new(o.LandmarksColumnName, new VectorDataViewType(NumberDataViewType.Single, 1, 68, 2)));
        return SchemaChecks.Add(inputSchema, outputs);
    }
}
