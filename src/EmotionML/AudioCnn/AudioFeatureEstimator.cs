using EmotionML.Core;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace EmotionML.AudioCnn;

/// <summary>
/// Estimator that loads a trained audio CNN ONNX file (<see cref="AudioFeatureOptions.ModelPath"/>); nothing is learned
/// in <see cref="EmotionEstimatorBase{TTransformer, TOptions}.Fit"/>.
/// </summary>
public sealed class AudioFeatureEstimator : EmotionTrivialEstimator<AudioFeatureTransformer, AudioFeatureOptions>
{
    internal AudioFeatureEstimator(IHostEnvironment env, AudioFeatureOptions options) : base(env, nameof(AudioFeatureEstimator), options)
    {
        if (string.IsNullOrWhiteSpace(Options.ModelPath)) throw new ArgumentException("ModelPath must name the audio CNN's ONNX file.", nameof(options));
    }

    private protected override AudioFeatureTransformer CreateTransformer() => AudioFeatureTransformer.FromOnnxFile(Env, Options.ModelPath!, Options);

    private protected override SchemaShape OutputSchema(SchemaShape inputSchema)
    {
        SchemaChecks.Require(inputSchema, Options.InputColumnName, AudioFeatureTransformer.InputRole, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, AudioFeatureTransformer.InputExpected);
        var result = inputSchema.ToDictionary(x => x.Name);
        result[Options.OutputColumnName] = new SchemaShape.Column(Options.OutputColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
        result[Options.MaskColumnName] = new SchemaShape.Column(Options.MaskColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
        return new SchemaShape(result.Values);
    }
}
