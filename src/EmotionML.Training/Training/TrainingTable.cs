using Microsoft.ML;
using Microsoft.ML.Data;

namespace EmotionML.Training;

/// <summary>Columns of an <see cref="IDataView"/> read into memory for training.</summary>
internal sealed class TrainingTable
{
    public required int Rows { get; init; }
    public required int[] Labels { get; init; }
    public required string[] ClassNames { get; init; }
    public required string[] Groups { get; init; }
    public required Dictionary<string, float[][]> Vectors { get; init; }

    /// <summary>Reads the label (key), optional group, and float vector columns.</summary>
    public static TrainingTable Read(IDataView data, string labelColumn, string? groupColumn, params string[] vectorColumns)
    {
        var schema = data.Schema;
        var label = schema.GetColumnOrNull(labelColumn)
            ?? throw new ArgumentOutOfRangeException(nameof(labelColumn), $"Label column '{labelColumn}' not found.");
        if (label.Type is not KeyDataViewType key)
            throw new ArgumentOutOfRangeException(nameof(labelColumn), $"Label column '{labelColumn}' must be a key (use mlContext.Transforms.Conversion.MapValueToKey(\"{labelColumn}\") first); it is {label.Type}.");
        var k = (int)key.Count;
        VBuffer<ReadOnlyMemory<char>> names = default;
        string[] classNames;
        if (label.HasKeyValues())
        {
            label.GetKeyValues(ref names);
            classNames = names.DenseValues().Select(n => n.ToString()).ToArray();
        }
        else classNames = Enumerable.Range(0, k).Select(i => i.ToString()).ToArray();
        DataViewSchema.Column? group = groupColumn == null ? null : schema.GetColumnOrNull(groupColumn)
            ?? throw new ArgumentOutOfRangeException(nameof(groupColumn), $"Group column '{groupColumn}' not found.");
        var cols = vectorColumns.Select(n => schema.GetColumnOrNull(n) ?? throw new ArgumentOutOfRangeException(nameof(vectorColumns), $"Column '{n}' not found.")).ToList();
        foreach (var c in cols)
            if (c.Type is not VectorDataViewType { ItemType: var it, IsKnownSize: true } || it != NumberDataViewType.Single)
                throw new ArgumentOutOfRangeException(nameof(vectorColumns), $"Column '{c.Name}' must be a known-size float vector; it is {c.Type}.");

        var needed = new List<DataViewSchema.Column> { label };
        if (group is { } gcol) needed.Add(gcol);
        needed.AddRange(cols);
        var labels = new List<int>();
        var groups = new List<string>();
        var vectors = vectorColumns.ToDictionary(n => n, _ => new List<float[]>());
        using var cursor = data.GetRowCursor(needed);
        var labelGetter = cursor.GetGetter<uint>(label);
        Func<string>? groupGetter = group is { } g ? MakeGroupGetter(cursor, g) : null;
        var getters = cols.Select(c => (c.Name, Getter: cursor.GetGetter<VBuffer<float>>(c))).ToList();
        VBuffer<float> buffer = default;
        uint l = 0;
        while (cursor.MoveNext())
        {
            labelGetter(ref l);
            if (l == 0 || l > k) throw new InvalidInputException($"Row {cursor.Position} has a missing or unknown label.");
            labels.Add((int)l - 1);
            groups.Add(groupGetter?.Invoke() ?? "");
            foreach (var (name, getter) in getters)
            {
                getter(ref buffer);
                var values = buffer.DenseValues().ToArray();
                for (var i = 0; i < values.Length; i++)
                    if (!float.IsFinite(values[i]))
                        throw new InvalidInputException($"Column '{name}' of row {cursor.Position} holds {values[i]} at index {i}: features must be finite.");
                vectors[name].Add(values);
            }
        }
        if (labels.Count == 0) throw new InvalidInputException("The training data has no rows.");
        return new TrainingTable
        {
            Rows = labels.Count,
            Labels = labels.ToArray(),
            ClassNames = classNames,
            Groups = groups.ToArray(),
            Vectors = vectors.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()),
        };
    }

    private static Func<string> MakeGroupGetter(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        switch (column.Type)
        {
            case TextDataViewType:
            {
                var g = cursor.GetGetter<ReadOnlyMemory<char>>(column);
                ReadOnlyMemory<char> v = default;
                return () => { g(ref v); return v.ToString(); };
            }
            case KeyDataViewType:
            {
                var g = cursor.GetGetter<uint>(column);
                uint v = 0;
                return () => { g(ref v); return v.ToString(); };
            }
            case var t when t == NumberDataViewType.Single:
            {
                var g = cursor.GetGetter<float>(column);
                float v = 0;
                return () => { g(ref v); return v.ToString(System.Globalization.CultureInfo.InvariantCulture); };
            }
            case var t when t == NumberDataViewType.Int32:
            {
                var g = cursor.GetGetter<int>(column);
                int v = 0;
                return () => { g(ref v); return v.ToString(); };
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(column), $"Group column '{column.Name}' must be text, key, int or float; it is {column.Type}.");
        }
    }

    /// <summary>Splits row indices into train and validation: whole groups when groups exist, else stratified by label.</summary>
    public (int[] Train, int[] Validation) Split(double fraction, int seed)
    {
        var all = Enumerable.Range(0, Rows).ToArray();
        if (fraction <= 0) return (all, []);
        var rng = new Random(seed);
        var distinctGroups = Groups.Distinct().OrderBy(g => g, StringComparer.Ordinal).ToArray();
        HashSet<int> validation;
        if (distinctGroups.Length >= 2 && Groups.Any(g => g.Length > 0))
        {
            var shuffled = distinctGroups.OrderBy(_ => rng.Next()).ToArray();
            var count = Math.Clamp((int)Math.Round(shuffled.Length * fraction), 1, shuffled.Length - 1);
            var held = shuffled.Take(count).ToHashSet();
            validation = all.Where(i => held.Contains(Groups[i])).ToHashSet();
        }
        else
        {
            validation = [];
            foreach (var byLabel in all.GroupBy(i => Labels[i]))
            {
                var items = byLabel.OrderBy(_ => rng.Next()).ToArray();
                var count = items.Length < 2 ? 0 : Math.Max(1, (int)Math.Round(items.Length * fraction));
                foreach (var i in items.Take(count)) validation.Add(i);
            }
        }
        return (all.Where(i => !validation.Contains(i)).ToArray(), all.Where(validation.Contains).ToArray());
    }

    /// <summary>Loss weights per class (mean 1 over classes present).</summary>
    public float[] ClassWeights(ClassWeighting weighting, IEnumerable<int> rows)
    {
        var counts = new double[ClassNames.Length];
        foreach (var i in rows) counts[Labels[i]]++;
        var w = counts.Select(c => weighting switch
        {
            ClassWeighting.Inverse => c > 0 ? 1 / c : 0,
            ClassWeighting.InverseSqrt => c > 0 ? 1 / Math.Sqrt(c) : 0,
            _ => 1.0,
        }).ToArray();
        var present = w.Where((_, i) => counts[i] > 0).ToArray();
        var mean = present.Length == 0 ? 1 : present.Average();
        return w.Select(x => (float)(x / mean)).ToArray();
    }
}
