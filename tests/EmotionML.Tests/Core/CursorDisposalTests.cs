using EmotionML.Spectrogram;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace EmotionML.Tests.Core;

public sealed class CursorDisposalTests
{
    /// <summary>A source view that counts the cursors it opens and the cursors that are disposed.</summary>
    private sealed class CountingView(IDataView inner) : IDataView
    {
        public int Opened;
        public int Disposed;

        public bool CanShuffle => inner.CanShuffle;
        public DataViewSchema Schema => inner.Schema;
        public long? GetRowCount() => inner.GetRowCount();

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
        {
            Interlocked.Increment(ref Opened);
            return new Counting(this, inner.GetRowCursor(columnsNeeded, rand));
        }

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
            => [GetRowCursor(columnsNeeded, rand)];

        private sealed class Counting(CountingView owner, DataViewRowCursor inner) : DataViewRowCursor
        {
            private bool _disposed;
            public override DataViewSchema Schema => inner.Schema;
            public override long Position => inner.Position;
            public override long Batch => inner.Batch;
            public override bool MoveNext() => inner.MoveNext();
            public override ValueGetter<DataViewRowId> GetIdGetter() => inner.GetIdGetter();
            public override bool IsColumnActive(DataViewSchema.Column column) => inner.IsColumnActive(column);
            public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => inner.GetGetter<TValue>(column);

            protected override void Dispose(bool disposing)
            {
                if (disposing && !_disposed)
                {
                    _disposed = true;
                    Interlocked.Increment(ref owner.Disposed);
                    inner.Dispose();
                }
                base.Dispose(disposing);
            }
        }
    }

    private sealed class Row
    {
        [VectorType]
        public float[] Audio { get; set; } = [];
    }

    [Fact]
    public void EveryUpstreamCursorIsDisposedOverRepeatedTransformsAndEnumerations()
    {
        var ml = new MLContext(seed: 1);
        var rows = Enumerable.Range(0, 3).Select(i => new Row { Audio = Enumerable.Range(0, 1600).Select(k => MathF.Sin(k * 0.01f * (i + 1))).ToArray() }).ToList();
        var source = new CountingView(ml.Data.LoadFromEnumerable(rows));
        var model = ml.Transforms.SpeechSpectrogram(frames: 4).Append(ml.Transforms.LogMelSpectrogram(frames: 4)).Fit(source);
        for (var round = 0; round < 5; round++)
        {
            var output = model.Transform(source);
            using (var cursor = output.GetRowCursor(output.Schema))
            {
                var getter = cursor.GetGetter<VBuffer<float>>(output.Schema["LogMel"]);
                VBuffer<float> value = default;
                while (cursor.MoveNext()) getter(ref value);
            }
            // A cursor abandoned part-way, as a caller that stops early does.
            using (var cursor = output.GetRowCursor(output.Schema))
                cursor.MoveNext();
            Assert.Equal(3, output.GetColumn<float[]>("Spectrogram").Count());
        }
        Assert.True(source.Opened >= 15, $"only {source.Opened} cursors opened");
        Assert.Equal(source.Opened, source.Disposed);
    }
}
