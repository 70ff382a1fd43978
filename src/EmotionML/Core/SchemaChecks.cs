using Microsoft.ML;
using Microsoft.ML.Data;

namespace EmotionML.Core;

/// <summary>Schema-shape checks for estimators' <c>GetOutputSchema</c>.</summary>
internal static class SchemaChecks
{
    /// <summary>
    /// Requires a column of the given item type. <paramref name="kind"/> VariableVector accepts any vector;
    /// Vector requires a known size; Scalar a scalar.
    /// </summary>
    public static SchemaShape.Column Require(SchemaShape schema, string name, string role, SchemaShape.Column.VectorKind kind, DataViewType itemType)
    {
        if (!schema.TryFindColumn(name, out var col))
            throw new ArgumentOutOfRangeException(nameof(schema), $"Input column '{name}' ({role}) not found.");
        var kindOk = kind switch
        {
            SchemaShape.Column.VectorKind.Scalar => col.Kind == SchemaShape.Column.VectorKind.Scalar,
            SchemaShape.Column.VectorKind.Vector => col.Kind == SchemaShape.Column.VectorKind.Vector,
            _ => col.Kind != SchemaShape.Column.VectorKind.Scalar,
        };
        if (!kindOk || !col.ItemType.Equals(itemType))
            throw new ArgumentOutOfRangeException(nameof(schema), $"Input column '{name}' ({role}) must be a {(kind == SchemaShape.Column.VectorKind.Scalar ? "scalar" : "vector")} of {itemType}; it is {col.Kind} of {col.ItemType}.");
        return col;
    }

    public static SchemaShape Add(SchemaShape schema, IEnumerable<OutputColumn> outputs)
    {
        var result = schema.ToDictionary(c => c.Name);
        foreach (var o in outputs)
        {
            var (kind, item) = o.Type switch
            {
                VectorDataViewType v => (v.IsKnownSize ? SchemaShape.Column.VectorKind.Vector : SchemaShape.Column.VectorKind.VariableVector, (DataViewType)v.ItemType),
                _ => (SchemaShape.Column.VectorKind.Scalar, o.Type),
            };
            result[o.Name] = new SchemaShape.Column(o.Name, kind, item, o.Type is KeyDataViewType);
        }
        return new SchemaShape(result.Values);
    }
}
