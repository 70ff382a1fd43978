using EmotionML.Core;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace EmotionML.VideoInput;

/// <summary>
/// Estimator of the video input stage: reads a clip path column, outputs sampled frames and 16 kHz mono audio.
/// Nothing is learned; <see cref="EmotionEstimatorBase{TTransformer, TOptions}.Fit"/> only checks the schema.
/// </summary>
public sealed class VideoInputEstimator : EmotionTrivialEstimator<VideoInputTransformer, VideoInputOptions>
{
    internal VideoInputEstimator(IHostEnvironment env, VideoInputOptions options) : base(env, nameof(VideoInputEstimator), options)
    {
    }

    private protected override VideoInputTransformer CreateTransformer() => new(Env, Options);

    private protected override SchemaShape OutputSchema(SchemaShape inputSchema)
    {
        SchemaChecks.Require(inputSchema, Options.InputColumnName, VideoInputTransformer.InputRole, SchemaShape.Column.VectorKind.Scalar, TextDataViewType.Instance, VideoInputTransformer.InputExpected);
        return SchemaChecks.Add(inputSchema, VideoInputTransformer.OutputColumns(Options));
    }
}
