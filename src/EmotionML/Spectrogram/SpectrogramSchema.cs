using EmotionML.Core;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EmotionML.Spectrogram;

/// <summary>Schema checks shared by the two spectrogram stages.</summary>
internal static class SpectrogramSchema
{
    public const string Role = "audio";
    public const string Expected = "a vector of Single (mono audio samples, 16 kHz unless SampleRate says otherwise)";

    public static bool IsAudio(DataViewType type) => type is VectorDataViewType v && v.ItemType == NumberDataViewType.Single;

    /// <summary>Estimator-side check: the audio column exists and is a float vector. Returns the output shape.</summary>
    public static SchemaShape OutputShape(SchemaShape inputSchema, string input, OutputColumn output, string validFrames, string? mask = null)
    {
        SchemaChecks.Require(inputSchema, input, Role, SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.Single, Expected);
        return SchemaChecks.Add(inputSchema, mask == null ? [output, ValidFramesColumn(validFrames)] : [output, ValidFramesColumn(validFrames), MaskColumn(mask)]);
    }

    /// <summary>A one-position mask, Single vector [1]: 1 when the clip has a real frame, else 0.</summary>
    public static OutputColumn MaskColumn(string name) => new(name, new VectorDataViewType(NumberDataViewType.Single, 1));

    /// <summary>The count of real (not padded) frames, Int32.</summary>
    public static OutputColumn ValidFramesColumn(string name) => new(name, NumberDataViewType.Int32);
}

/// <summary>
/// Binds an audio stage to a schema: one float-vector input; a fixed-shape float-vector output, its count of real
/// frames and, when named, a one-position mask (1 when that count is above 0).
/// </summary>
internal sealed class SpectrogramMapper : BoundMapper
{
    private readonly int _input;
    private readonly Func<Func<float[], long, (float[] Values, int ValidFrames)>> _newComputer;

    /// <param name="inputSchema">The schema to bind to.</param>
    /// <param name="inputName">Audio column.</param>
    /// <param name="output">The output column.</param>
    /// <param name="validFrames">The column of real frames (Int32).</param>
    /// <param name="newComputer">Makes a per-cursor function (audio, row) → output values and real frames (extractors are not thread-safe).</param>
    /// <param name="mask">The one-position mask column, or null for none.</param>
    public SpectrogramMapper(DataViewSchema inputSchema, string inputName, OutputColumn output, string validFrames, Func<Func<float[], long, (float[] Values, int ValidFrames)>> newComputer,
        string? mask = null)
        : base(inputSchema)
    {
        _input = FindInput(inputName, SpectrogramSchema.Role, SpectrogramSchema.IsAudio, SpectrogramSchema.Expected);
        Outputs = mask == null
            ? [output, SpectrogramSchema.ValidFramesColumn(validFrames)]
            : [output, SpectrogramSchema.ValidFramesColumn(validFrames), SpectrogramSchema.MaskColumn(mask)];
        Dependencies = [_input];
        _newComputer = newComputer;
    }

    public override IReadOnlyList<OutputColumn> Outputs { get; }

    public override IReadOnlyList<int> Dependencies { get; }

    public override RowState CreateState(DataViewRow input) => new State(input, _input, _newComputer());

    private sealed class State : RowState
    {
        private readonly ValueGetter<VBuffer<float>> _audio;
        private readonly Func<float[], long, (float[] Values, int ValidFrames)> _compute;
        private VBuffer<float> _buffer;
        private (float[] Values, int ValidFrames) _output = ([], 0);

        public State(DataViewRow input, int column, Func<float[], long, (float[] Values, int ValidFrames)> compute) : base(input)
        {
            _audio = InputGetter<VBuffer<float>>(input, column);
            _compute = compute;
        }

        protected override void Compute() => _output = _compute(Getters.ReadVector(_audio, ref _buffer), Input.Position);

        public override Delegate GetGetter(int outputIndex) => outputIndex switch
        {
            0 => Vector<float>(() => _output.Values),
            1 => Scalar(() => _output.ValidFrames),
            _ => Vector<float>(() => new[] { _output.ValidFrames > 0 ? 1f : 0f }),
        };
    }
}
