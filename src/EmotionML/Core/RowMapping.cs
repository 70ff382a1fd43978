using Microsoft.ML;
using Microsoft.ML.Data;

namespace EmotionML.Core;

/// <summary>A column that a stage adds to its input.</summary>
internal sealed record OutputColumn(string Name, DataViewType Type, DataViewSchema.Annotations? Annotations = null);

/// <summary>
/// A stage bound to one input schema: the columns it adds, the input columns it reads, and a factory of per-cursor
/// state that computes one row's outputs lazily (once per row, whichever output getter asks first).
/// </summary>
internal abstract class BoundMapper
{
    protected BoundMapper(DataViewSchema inputSchema) => InputSchema = inputSchema;

    public DataViewSchema InputSchema { get; }

    public abstract IReadOnlyList<OutputColumn> Outputs { get; }

    /// <summary>Indices of the input columns the outputs depend on.</summary>
    public abstract IReadOnlyList<int> Dependencies { get; }

    public abstract RowState CreateState(DataViewRow input);

    public DataViewSchema BuildOutputSchema()
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(InputSchema);
        foreach (var c in Outputs)
            builder.AddColumn(c.Name, c.Type, c.Annotations);
        return builder.ToSchema();
    }

    /// <summary>The index of an input column; a missing or mistyped column throws with <see cref="SchemaError"/>'s wording.</summary>
    protected int FindInput(string name, string role, Func<DataViewType, bool> typeOk, string expected)
    {
        var col = InputSchema.GetColumnOrNull(name) ?? throw SchemaError.Mismatch(name, role, expected, SchemaError.Missing);
        if (!typeOk(col.Type)) throw SchemaError.Mismatch(name, role, expected, SchemaError.Describe(col.Type));
        return col.Index;
    }
}

/// <summary>Per-cursor state: computes the current row's outputs on demand and hands out getters.</summary>
internal abstract class RowState : IDisposable
{
    private long _computedPosition = -1;

    protected RowState(DataViewRow input) => Input = input;

    protected DataViewRow Input { get; }

    /// <summary>Computes the outputs of the current input row.</summary>
    protected abstract void Compute();

    /// <summary>A <see cref="ValueGetter{TValue}"/> for output <paramref name="outputIndex"/>.</summary>
    public abstract Delegate GetGetter(int outputIndex);

    protected void Ensure()
    {
        if (Input.Position < 0) throw new InvalidOperationException("The cursor is not on a row.");
        if (_computedPosition == Input.Position) return;
        Compute();
        _computedPosition = Input.Position;
    }

    protected ValueGetter<T> Scalar<T>(Func<T> value) => (ref T dst) => { Ensure(); dst = value(); };

    protected ValueGetter<VBuffer<T>> Vector<T>(Func<ReadOnlyMemory<T>> values) => (ref VBuffer<T> dst) =>
    {
        Ensure();
        var src = values().Span;
        var editor = VBufferEditor.Create(ref dst, src.Length);
        src.CopyTo(editor.Values);
        dst = editor.Commit();
    };

    protected static ValueGetter<T> InputGetter<T>(DataViewRow row, int index) => row.GetGetter<T>(row.Schema[index]);

    public virtual void Dispose() { }
}

internal static class Getters
{
    public static T[] ReadVector<T>(ValueGetter<VBuffer<T>> getter, ref VBuffer<T> buffer)
    {
        getter(ref buffer);
        var result = new T[buffer.Length];
        buffer.CopyTo(result);
        return result;
    }

    public static string ReadText(ValueGetter<ReadOnlyMemory<char>> getter)
    {
        ReadOnlyMemory<char> value = default;
        getter(ref value);
        return value.ToString();
    }
}

/// <summary>The <see cref="IDataView"/> a stage returns from <c>Transform</c>: the input plus the stage's columns, computed lazily.</summary>
internal sealed class MappedDataView : IDataView
{
    private readonly IDataView _source;
    private readonly BoundMapper _mapper;

    public MappedDataView(IDataView source, BoundMapper mapper)
    {
        _source = source;
        _mapper = mapper;
        Schema = mapper.BuildOutputSchema();
    }

    public bool CanShuffle => _source.CanShuffle;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var (inputColumns, active) = MappedRow.Plan(_mapper, Schema, columnsNeeded);
        var cursor = _source.GetRowCursor(inputColumns, rand);
        return new MappedCursor(new MappedRow(_mapper, Schema, cursor, active), cursor);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        => [GetRowCursor(columnsNeeded, rand)];

    private sealed class MappedCursor : DataViewRowCursor
    {
        private readonly MappedRow _row;
        private readonly DataViewRowCursor _input;

        public MappedCursor(MappedRow row, DataViewRowCursor input)
        {
            _row = row;
            _input = input;
        }

        public override DataViewSchema Schema => _row.Schema;
        public override long Position => _input.Position;
        public override long Batch => _input.Batch;
        public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();
        public override bool IsColumnActive(DataViewSchema.Column column) => _row.IsColumnActive(column);
        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => _row.GetGetter<TValue>(column);
        public override bool MoveNext() => _input.MoveNext();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _row.Dispose();
                // The cursor owns its input cursor: without this the whole upstream chain (text readers, caches) stays open.
                _input.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}

/// <summary>A row of a stage's output over one input row.</summary>
internal sealed class MappedRow : DataViewRow
{
    private readonly DataViewRow _input;
    private readonly bool[] _active;
    private readonly RowState? _state;
    private readonly int _inputCount;

    public MappedRow(BoundMapper mapper, DataViewSchema schema, DataViewRow input, bool[] active)
    {
        Schema = schema;
        _input = input;
        _active = active;
        _inputCount = mapper.InputSchema.Count;
        if (active.Skip(_inputCount).Any(a => a))
            _state = mapper.CreateState(input);
    }

    public static (List<DataViewSchema.Column> Inputs, bool[] Active) Plan(BoundMapper mapper, DataViewSchema outputSchema,
        IEnumerable<DataViewSchema.Column> columnsNeeded)
    {
        var active = new bool[outputSchema.Count];
        foreach (var c in columnsNeeded) active[c.Index] = true;
        var inputs = new HashSet<int>();
        for (var i = 0; i < mapper.InputSchema.Count; i++)
            if (active[i]) inputs.Add(i);
        if (active.Skip(mapper.InputSchema.Count).Any(a => a))
            foreach (var d in mapper.Dependencies) inputs.Add(d);
        return (inputs.OrderBy(i => i).Select(i => mapper.InputSchema[i]).ToList(), active);
    }

    public override DataViewSchema Schema { get; }
    public override long Position => _input.Position;
    public override long Batch => _input.Batch;
    public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

    public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
    {
        if (!_active[column.Index])
            throw new InvalidOperationException($"Column '{column.Name}' was not requested from this cursor.");
        if (column.Index < _inputCount)
            return _input.GetGetter<TValue>(_input.Schema[column.Index]);
        var getter = _state!.GetGetter(column.Index - _inputCount);
        return getter as ValueGetter<TValue>
            ?? throw new InvalidOperationException($"Column '{column.Name}' is of type {column.Type}; cannot read it as {typeof(TValue).Name}.");
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _state?.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>The <see cref="IRowToRowMapper"/> behind prediction engines.</summary>
internal sealed class MappedRowToRowMapper : IRowToRowMapper
{
    private readonly BoundMapper _mapper;

    public MappedRowToRowMapper(BoundMapper mapper)
    {
        _mapper = mapper;
        OutputSchema = mapper.BuildOutputSchema();
    }

    public DataViewSchema InputSchema => _mapper.InputSchema;

    public DataViewSchema OutputSchema { get; }

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
        => MappedRow.Plan(_mapper, OutputSchema, dependingColumns).Inputs;

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
        => new MappedRow(_mapper, OutputSchema, input, MappedRow.Plan(_mapper, OutputSchema, activeColumns).Active);
}
