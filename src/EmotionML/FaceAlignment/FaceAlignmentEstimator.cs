using EmotionML.Core;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace EmotionML.FaceAlignment;

/// <summary>
/// Estimator of the face alignment stage. <see cref="EmotionEstimatorBase{TTransformer, TOptions}.Fit"/> checks the input schema and
/// loads (and sha256-checks) the YuNet detector; nothing is learned.
/// </summary>
public sealed class FaceAlignmentEstimator : EmotionTrivialEstimator<FaceAlignmentTransformer, FaceAlignmentOptions>
{
    internal FaceAlignmentEstimator(IHostEnvironment env, FaceAlignmentOptions options) : base(env, nameof(FaceAlignmentEstimator), options)
    {
    }

    /// <summary>The transformer, with the detector's bytes loaded from <see cref="FaceAlignmentOptions.DetectorModelPath"/>.</summary>
    private protected override FaceAlignmentTransformer CreateTransformer()
        => new(Env, Options, File.ReadAllBytes(ModelFiles.YuNet.Resolve(Options.DetectorModelPath)));

    private protected override SchemaShape OutputSchema(SchemaShape inputSchema)
    {
        var o = Options;
        SchemaChecks.Require(inputSchema, o.FramesColumnName, "frames", SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.Byte, FaceAlignmentTransformer.FramesExpected);
        SchemaChecks.Require(inputSchema, o.FrameCountColumnName, "frame count", SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Int32);
        SchemaChecks.Require(inputSchema, o.FrameWidthColumnName, "frame width", SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Int32);
        SchemaChecks.Require(inputSchema, o.FrameHeightColumnName, "frame height", SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Int32);
        return SchemaChecks.Add(inputSchema, FaceAlignmentTransformer.OutputColumns(o));
    }
}
