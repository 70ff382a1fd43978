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
    public static SchemaShape OutputShape(SchemaShape inputSchema, string input, OutputColumn output, string validFrames)
    {
        SchemaChecks.Require(inputSchema, input, Role, SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.Single, Expected);
        return SchemaChecks.Add(inputSchema, [output, ValidFramesColumn(validFrames)]);
    }

    /// <summary>The count of real (not padded) frames, Int32.</summary>
    public static OutputColumn ValidFramesColumn(string name) => new(name, NumberDataViewType.Int32);
}

/// <summary>Binds a spectrogram stage to a schema: one float-vector input; a fixed-shape float-vector output and its count of real frames.</summary>
internal sealed class SpectrogramMapper : BoundMapper
{
    private readonly int _input;
    private readonly Func<Func<float[], long, (float[] Values, int ValidFrames)>> _newComputer;

    /// <param name="inputSchema">The schema to bind to.</param>
    /// <param name="inputName">Audio column.</param>
    /// <param name="output">The output column.</param>
    /// <param name="validFrames">The column of real frames (Int32).</param>
    /// <param name="newComputer">Makes a per-cursor function (audio, row) → output values and real frames (extractors are not thread-safe).</param>
    public SpectrogramMapper(DataViewSchema inputSchema, string inputName, OutputColumn output, string validFrames, Func<Func<float[], long, (float[] Values, int ValidFrames)>> newComputer)
        : base(inputSchema)
    {
        _input = FindInput(inputName, SpectrogramSchema.Role, SpectrogramSchema.IsAudio, SpectrogramSchema.Expected);
        Outputs = [output, SpectrogramSchema.ValidFramesColumn(validFrames)];
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

        public override Delegate GetGetter(int outputIndex) => outputIndex == 0
            ? Vector<float>(() => _output.Values)
            : Scalar(() => _output.ValidFrames);
    }
}
