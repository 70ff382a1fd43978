using Microsoft.ML;
using Microsoft.ML.Data;

namespace EmotionML.Core;

/// <summary>
/// Adds float vector columns held in memory to a data view whose rows carry an int row index (e.g. cached features
/// joined back to a manifest). Used by experiments and tools that compute features once and train many heads.
/// </summary>
internal static class InMemoryColumns
{
    /// <summary>A vector column: one array per row index, and its dimensions.</summary>
    public sealed record Column(string Name, float[][] Values, int[] Dimensions);

    public static IDataView Add(IDataView source, string indexColumn, params Column[] columns)
        => new MappedDataView(source, new Mapper(source.Schema, indexColumn, columns));

    private sealed class Mapper : BoundMapper
    {
        private readonly int _index;
        private readonly Column[] _columns;

        public Mapper(DataViewSchema schema, string indexColumn, Column[] columns) : base(schema)
        {
            _index = FindInput(indexColumn, "row index", t => t == NumberDataViewType.Int32, "int");
            _columns = columns;
            Outputs = columns.Select(c => new OutputColumn(c.Name, new VectorDataViewType(NumberDataViewType.Single, c.Dimensions))).ToList();
        }

        public override IReadOnlyList<OutputColumn> Outputs { get; }

        public override IReadOnlyList<int> Dependencies => [_index];

        public override RowState CreateState(DataViewRow input) => new State(this, input);

        private sealed class State : RowState
        {
            private readonly Mapper _m;
            private readonly ValueGetter<int> _getter;
            private int _row;

            public State(Mapper m, DataViewRow input) : base(input)
            {
                _m = m;
                _getter = InputGetter<int>(input, m._index);
            }

            protected override void Compute() => _getter(ref _row);

            public override Delegate GetGetter(int outputIndex)
            {
                var column = _m._columns[outputIndex];
                return Vector(() => (ReadOnlyMemory<float>)column.Values[_row]);
            }
        }
    }
}
