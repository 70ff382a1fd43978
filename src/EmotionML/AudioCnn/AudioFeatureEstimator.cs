using EmotionML.Core;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace EmotionML.AudioCnn;

/// <summary>
/// Estimator that loads a trained audio CNN ONNX file (<see cref="AudioFeatureOptions.ModelPath"/>); nothing is learned
/// in <see cref="EmotionTrivialEstimator{TTransformer}.Fit"/>.
/// </summary>
public sealed class AudioFeatureEstimator : EmotionTrivialEstimator<AudioFeatureTransformer>
{
    private readonly AudioFeatureOptions _options;

    internal AudioFeatureEstimator(IHostEnvironment env, AudioFeatureOptions options) : base(env, nameof(AudioFeatureEstimator))
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (string.IsNullOrWhiteSpace(options.ModelPath)) throw new ArgumentException("ModelPath must name the audio CNN's ONNX file.", nameof(options));
        _options = options.Clone();
    }

    private protected override AudioFeatureTransformer CreateTransformer() => AudioFeatureTransformer.FromOnnxFile(Env, _options.ModelPath!, _options);

    private protected override SchemaShape OutputSchema(SchemaShape inputSchema)
    {
        SchemaChecks.Require(inputSchema, _options.InputColumnName, AudioFeatureTransformer.InputRole, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, AudioFeatureTransformer.InputExpected);
        var result = inputSchema.ToDictionary(x => x.Name);
        result[_options.OutputColumnName] = new SchemaShape.Column(_options.OutputColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
        result[_options.MaskColumnName] = new SchemaShape.Column(_options.MaskColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
        return new SchemaShape(result.Values);
    }
}
