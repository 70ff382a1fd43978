using EmotionML.Core;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace EmotionML.FaceAlignment;

/// <summary>
/// Estimator of the face alignment stage. <see cref="Fit"/> checks the input schema and loads (and sha256-checks) the
/// YuNet detector; nothing is learned.
/// </summary>
public sealed class FaceAlignmentEstimator : IEstimator<FaceAlignmentTransformer>
{
    private readonly IHostEnvironment _env;
    private readonly FaceAlignmentOptions _options;

    internal FaceAlignmentEstimator(IHostEnvironment env, FaceAlignmentOptions options)
    {
        _env = env ?? throw new ArgumentNullException(nameof(env));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _options.Validate();
    }

    /// <summary>Returns the transformer, with the detector's bytes loaded from <see cref="FaceAlignmentOptions.DetectorModelPath"/>.</summary>
    public FaceAlignmentTransformer Fit(IDataView input)
    {
        var path = ModelFiles.YuNet.Resolve(_options.DetectorModelPath);
        var t = new FaceAlignmentTransformer(_env, _options, File.ReadAllBytes(path));
        t.GetOutputSchema(input.Schema);
        return t;
    }

    /// <summary>The schema after this stage.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var o = _options;
        SchemaChecks.Require(inputSchema, o.FramesColumnName, "frames", SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.Byte);
        SchemaChecks.Require(inputSchema, o.FrameCountColumnName, "frame count", SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Int32);
        SchemaChecks.Require(inputSchema, o.FrameWidthColumnName, "frame width", SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Int32);
        SchemaChecks.Require(inputSchema, o.FrameHeightColumnName, "frame height", SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Int32);
        return SchemaChecks.Add(inputSchema, FaceAlignmentTransformer.OutputColumns(o));
    }
}
