using Microsoft.ML;
using Microsoft.ML.Data;

namespace EmotionML.Core;

/// <summary>
/// The one wording of a schema error, for estimators (on a <see cref="SchemaShape"/>) and transformers (on a
/// <see cref="DataViewSchema"/>) alike: <c>Schema mismatch for input column 'Audio' (audio): expected a vector of
/// Single, got a scalar of String.</c> (like ML.NET's <c>ExceptSchemaMismatch</c>).
/// </summary>
internal static class SchemaError
{
    /// <summary>What "got" says when the column does not exist.</summary>
    public const string Missing = "no such column";

    public static ArgumentOutOfRangeException Mismatch(string column, string role, string expected, string actual)
        => new("inputSchema", $"Schema mismatch for input column '{column}' ({role}): expected {expected}, got {actual}.");

    /// <summary>"a scalar of Int32", "a vector of Single", "a key".</summary>
    public static string Describe(SchemaShape.Column column) => column.IsKey && column.Kind == SchemaShape.Column.VectorKind.Scalar
        ? $"a key of {column.ItemType}"
        : column.Kind switch
        {
            SchemaShape.Column.VectorKind.Scalar => $"a scalar of {column.ItemType}",
            SchemaShape.Column.VectorKind.Vector => $"a vector of {column.ItemType}",
            _ => $"a variable-size vector of {column.ItemType}",
        };

    /// <summary>"a scalar of Int32", "a vector of Single [16]", "a variable-size vector of Byte", "a key of UInt32".</summary>
    public static string Describe(DataViewType type) => type switch
    {
        KeyDataViewType k => $"a key of {k.RawType.Name} [{k.Count}]",
        VectorDataViewType { IsKnownSize: true } v => $"a vector of {v.ItemType} [{v.Size}]",
        VectorDataViewType v => $"a variable-size vector of {v.ItemType}",
        _ => $"a scalar of {type}",
    };

    /// <summary>The default "expected" text of a column kind and item type.</summary>
    public static string Expected(SchemaShape.Column.VectorKind kind, DataViewType itemType) => kind switch
    {
        SchemaShape.Column.VectorKind.Scalar => $"a scalar of {itemType}",
        SchemaShape.Column.VectorKind.Vector => $"a vector of {itemType}",
        _ => $"a vector of {itemType}",
    };
}
