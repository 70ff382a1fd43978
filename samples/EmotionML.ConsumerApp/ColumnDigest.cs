using System.Security.Cryptography;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EmotionML.ConsumerApp;

/// <summary>
/// sha256 digests of every visible column of a data view, row by row. Used by the consumer app's "dump" mode and,
/// compiled into the tests as well, to compare a model's outputs in the test process with those of a fresh process.
/// </summary>
internal static class ColumnDigest
{
    /// <summary>One dictionary per row: column name → sha256 of its values' bytes.</summary>
    public static List<Dictionary<string, string>> Rows(IDataView view)
    {
        var rows = new List<Dictionary<string, string>>();
        using var cursor = view.GetRowCursor(view.Schema);
        var readers = view.Schema.Where(c => !c.IsHidden).Select(c => (c.Name, Read: Reader(cursor, c))).ToList();
        while (cursor.MoveNext()) rows.Add(readers.ToDictionary(r => r.Name, r => r.Read()));
        return rows;
    }

    private static Func<string> Reader(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        Func<string> Vec<T>(Func<T, byte[]> bytes)
        {
            var getter = cursor.GetGetter<VBuffer<T>>(column);
            VBuffer<T> buffer = default;
            return () => { getter(ref buffer); return Hash(buffer.DenseValues().SelectMany(bytes)); };
        }
        Func<string> Scalar<T>(Func<T, byte[]> bytes)
        {
            var getter = cursor.GetGetter<T>(column);
            T value = default!;
            return () => { getter(ref value); return Hash(bytes(value)); };
        }
        return column.Type switch
        {
            VectorDataViewType { ItemType: var t } when t == NumberDataViewType.Single => Vec<float>(BitConverter.GetBytes),
            VectorDataViewType { ItemType: var t } when t == NumberDataViewType.Byte => Vec<byte>(b => [b]),
            VectorDataViewType { ItemType: BooleanDataViewType } => Vec<bool>(BitConverter.GetBytes),
            VectorDataViewType { ItemType: TextDataViewType } => Vec<ReadOnlyMemory<char>>(s => System.Text.Encoding.UTF8.GetBytes(s.ToString())),
            var t when t == NumberDataViewType.Single => Scalar<float>(BitConverter.GetBytes),
            var t when t == NumberDataViewType.Int32 => Scalar<int>(BitConverter.GetBytes),
            KeyDataViewType => Scalar<uint>(BitConverter.GetBytes),
            TextDataViewType => Scalar<ReadOnlyMemory<char>>(s => System.Text.Encoding.UTF8.GetBytes(s.ToString())),
            BooleanDataViewType => Scalar<bool>(BitConverter.GetBytes),
            // An unknown type must not compare equal on both sides by accident.
            _ => throw new NotSupportedException($"Column '{column.Name}' of type {column.Type} has no digest."),
        };
    }

    private static string Hash(IEnumerable<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes.ToArray()));
}
