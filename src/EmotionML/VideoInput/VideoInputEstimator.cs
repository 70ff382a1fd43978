using EmotionML.Core;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace EmotionML.VideoInput;

/// <summary>
/// Estimator of the video input stage: reads a clip path column, outputs sampled frames and 16 kHz mono audio.
/// Nothing is learned; <see cref="EmotionTrivialEstimator{TTransformer}.Fit"/> only checks the schema.
/// </summary>
public sealed class VideoInputEstimator : EmotionTrivialEstimator<VideoInputTransformer>
{
    private readonly VideoInputOptions _options;

    internal VideoInputEstimator(IHostEnvironment env, VideoInputOptions options) : base(env, nameof(VideoInputEstimator))
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options.Clone();
    }

    private protected override VideoInputTransformer CreateTransformer() => new(Env, _options);

    private protected override SchemaShape OutputSchema(SchemaShape inputSchema)
    {
        SchemaChecks.Require(inputSchema, _options.InputColumnName, VideoInputTransformer.InputRole, SchemaShape.Column.VectorKind.Scalar, TextDataViewType.Instance, VideoInputTransformer.InputExpected);
        return SchemaChecks.Add(inputSchema, VideoInputTransformer.OutputColumns(_options));
    }
}
