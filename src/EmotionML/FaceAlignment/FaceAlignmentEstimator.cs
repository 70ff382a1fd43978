using EmotionML.Core;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace EmotionML.FaceAlignment;

/// <summary>
/// Estimator of the face alignment stage. <see cref="EmotionTrivialEstimator{TTransformer}.Fit"/> checks the input schema and
/// loads (and sha256-checks) the YuNet detector; nothing is learned.
/// </summary>
public sealed class FaceAlignmentEstimator : EmotionTrivialEstimator<FaceAlignmentTransformer>
{
    private readonly FaceAlignmentOptions _options;

    internal FaceAlignmentEstimator(IHostEnvironment env, FaceAlignmentOptions options) : base(env, nameof(FaceAlignmentEstimator))
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options.Clone();
    }

    /// <summary>The transformer, with the detector's bytes loaded from <see cref="FaceAlignmentOptions.DetectorModelPath"/>.</summary>
    private protected override FaceAlignmentTransformer CreateTransformer()
        => new(Env, _options, File.ReadAllBytes(ModelFiles.YuNet.Resolve(_options.DetectorModelPath)));

    private protected override SchemaShape OutputSchema(SchemaShape inputSchema)
    {
        var o = _options;
        SchemaChecks.Require(inputSchema, o.FramesColumnName, "frames", SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.Byte, FaceAlignmentTransformer.FramesExpected);
        SchemaChecks.Require(inputSchema, o.FrameCountColumnName, "frame count", SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Int32);
        SchemaChecks.Require(inputSchema, o.FrameWidthColumnName, "frame width", SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Int32);
        SchemaChecks.Require(inputSchema, o.FrameHeightColumnName, "frame height", SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Int32);
        return SchemaChecks.Add(inputSchema, FaceAlignmentTransformer.OutputColumns(o));
    }
}
