using Microsoft.ML;
using Microsoft.ML.Data;

namespace EmotionML.Core;

/// <summary>Schema-shape checks for estimators' <c>GetOutputSchema</c>; errors worded by <see cref="SchemaError"/>.</summary>
internal static class SchemaChecks
{
    /// <summary>
    /// Requires a column of the given item type. <paramref name="kind"/> VariableVector accepts any vector;
    /// Vector requires a known size; Scalar a scalar. <paramref name="expected"/> (default: from kind and item type) is
    /// the text the error shows, the same text the transformer's check shows.
    /// </summary>
    public static SchemaShape.Column Require(SchemaShape schema, string name, string role, SchemaShape.Column.VectorKind kind, DataViewType itemType, string? expected = null)
    {
        ArgumentNullException.ThrowIfNull(schema);
        expected ??= SchemaError.Expected(kind, itemType);
        if (!schema.TryFindColumn(name, out var col))
            throw SchemaError.Mismatch(name, role, expected, SchemaError.Missing);
        var kindOk = kind switch
        {
            SchemaShape.Column.VectorKind.Scalar => col.Kind == SchemaShape.Column.VectorKind.Scalar,
            SchemaShape.Column.VectorKind.Vector => col.Kind == SchemaShape.Column.VectorKind.Vector,
            _ => col.Kind != SchemaShape.Column.VectorKind.Scalar,
        };
        if (!kindOk || !col.ItemType.Equals(itemType) || (col.IsKey && kind != SchemaShape.Column.VectorKind.Scalar))
            throw SchemaError.Mismatch(name, role, expected, SchemaError.Describe(col));
        return col;
    }

    /// <summary>Requires a key column (a label from <c>MapValueToKey</c>).</summary>
    public static SchemaShape.Column RequireKey(SchemaShape schema, string name, string role)
    {
        const string expected = "a key (use MapValueToKey)";
        if (!schema.TryFindColumn(name, out var col)) throw SchemaError.Mismatch(name, role, expected, SchemaError.Missing);
        if (!col.IsKey) throw SchemaError.Mismatch(name, role, expected, SchemaError.Describe(col));
        return col;
    }

    public static SchemaShape Add(SchemaShape schema, IEnumerable<OutputColumn> outputs)
    {
        var result = schema.ToDictionary(c => c.Name);
        foreach (var o in outputs)
            result[o.Name] = ShapeOf(o);
        return new SchemaShape(result.Values);
    }

    /// <summary>The shape of an output column, as <see cref="SchemaShape.Create"/> would give it.</summary>
    public static SchemaShape.Column ShapeOf(OutputColumn o) => SchemaShape.Create(
        new DataViewSchema.Builder().With(b => b.AddColumn(o.Name, o.Type, o.Annotations)).ToSchema()).Single();

    private static DataViewSchema.Builder With(this DataViewSchema.Builder b, Action<DataViewSchema.Builder> add)
    {
        add(b);
        return b;
    }
}
