using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace EmotionML.VideoInput;

/// <summary>
/// Estimator of the video input stage: reads a clip path column, outputs sampled frames and 16 kHz mono audio.
/// Nothing is learned; <see cref="Fit"/> only checks the schema.
/// </summary>
public sealed class VideoInputEstimator : IEstimator<VideoInputTransformer>
{
    private readonly IHostEnvironment _env;
    private readonly VideoInputOptions _options;

    internal VideoInputEstimator(IHostEnvironment env, VideoInputOptions options)
    {
        _env = env ?? throw new ArgumentNullException(nameof(env));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _options.Validate();
    }

    /// <summary>Returns the transformer (after checking that the input column exists and is text).</summary>
    public VideoInputTransformer Fit(IDataView input)
    {
        var t = new VideoInputTransformer(_env, _options);
        t.GetOutputSchema(input.Schema);
        return t;
    }

    /// <summary>The schema after this stage.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var o = _options;
        if (!inputSchema.TryFindColumn(o.InputColumnName, out var col))
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Input column '{o.InputColumnName}' (clip path) not found.");
        if (col.Kind != SchemaShape.Column.VectorKind.Scalar || col.ItemType is not TextDataViewType)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Input column '{o.InputColumnName}' must be a text scalar (the clip's path).");
        var result = inputSchema.ToDictionary(c => c.Name);
        void Add(string name, SchemaShape.Column.VectorKind kind, DataViewType type) => result[name] = new SchemaShape.Column(name, kind, type, false);
        if (o.DecodeVideo)
        {
            Add(o.FramesColumnName, SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.Byte);
            Add(o.FrameCountColumnName, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Int32);
            Add(o.FrameWidthColumnName, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Int32);
            Add(o.FrameHeightColumnName, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Int32);
            Add(o.FrameTimesColumnName, SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.Single);
        }
        if (o.DecodeAudio) Add(o.AudioColumnName, SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.Single);
        if (o.OnError == DecodeErrorPolicy.Skip) Add(o.DecodeErrorColumnName, SchemaShape.Column.VectorKind.Scalar, TextDataViewType.Instance);
        return new SchemaShape(result.Values);
    }
}
