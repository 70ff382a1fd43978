using EmotionML.Core;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace EmotionML.AudioCnn;

/// <summary>Estimator that loads a trained audio CNN ONNX file; nothing is learned in <see cref="Fit"/>.</summary>
public sealed class AudioFeatureEstimator : IEstimator<AudioFeatureTransformer>
{
    private readonly IHostEnvironment _env;
    private readonly string _path;
    private readonly AudioFeatureOptions _options;

    internal AudioFeatureEstimator(IHostEnvironment env, string onnxPath, AudioFeatureOptions options)
    {
        _env = env;
        _path = onnxPath;
        _options = options;
    }

    /// <summary>Loads the graph and checks the input column's shape.</summary>
    public AudioFeatureTransformer Fit(IDataView input)
    {
        var t = AudioFeatureTransformer.FromOnnxFile(_env, _path, _options);
        t.GetOutputSchema(input.Schema);
        return t;
    }

    /// <summary>The schema after the stage.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        SchemaChecks.Require(inputSchema, _options.InputColumnName, "spectrogram", SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single);
        var result = inputSchema.ToDictionary(x => x.Name);
        result[_options.OutputColumnName] = new SchemaShape.Column(_options.OutputColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
        result[_options.MaskColumnName] = new SchemaShape.Column(_options.MaskColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false);
        return new SchemaShape(result.Values);
    }
}
