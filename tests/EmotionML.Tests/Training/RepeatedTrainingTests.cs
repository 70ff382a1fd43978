using EmotionML.Training;
using EmotionML.Training.Fusion;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace EmotionML.Tests.Training;

/// <summary>
/// Many trainings in one process, as an experiment table runs them. Guards against a use-after-free seen with TorchSharp
/// temporaries: implicit float→Scalar conversions in forward passes (masked_fill, pow) were freed while libtorch read them
/// after a few trainings ("INTERNAL ASSERT FAILED at Scalar.h", then segfaults). With those conversions put back this test
/// fails within its twelve trainings; the forward passes now create none.
/// </summary>
public sealed class RepeatedTrainingTests : Fusion.TorchTestBase
{
    private sealed class Row
    {
        public string Label { get; set; } = "";
        public string Speaker { get; set; } = "";
        public float[] FaceFeatures { get; set; } = [];
        public float[] FrameMask { get; set; } = [];
        public float[] AudioFeatures { get; set; } = [];
        public float[] AudioMask { get; set; } = [];
    }

    [Fact]
    public void TwelveTrainingsOfLargeHeadsInOneProcessStayStable()
    {
        const int frames = 8, dim = 1024, positions = 40, audioDim = 64;
        var ml = new MLContext(seed: 0);
        var rng = new Random(1);
        var rows = Enumerable.Range(0, 126).Select(i => new Row
        {
            Label = $"c{i % 6}",
            Speaker = $"s{i % 5}",
            FaceFeatures = Enumerable.Range(0, frames * dim).Select(_ => (float)rng.NextDouble()).ToArray(),
            FrameMask = Enumerable.Range(0, frames).Select(f => f < 6 ? 1f : 0f).ToArray(),
            AudioFeatures = Enumerable.Range(0, positions * audioDim).Select(_ => (float)rng.NextDouble()).ToArray(),
            AudioMask = Enumerable.Repeat(1f, positions).ToArray(),
        }).ToList();
        var schema = SchemaDefinition.Create(typeof(Row));
        schema["FaceFeatures"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, frames, dim);
        schema["FrameMask"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, frames);
        schema["AudioFeatures"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, positions, audioDim);
        schema["AudioMask"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, positions);
        var raw = ml.Data.LoadFromEnumerable(rows, schema);
        var data = ml.Transforms.Conversion.MapValueToKey("Label").Fit(raw).Transform(raw);
        var kinds = Enum.GetValues<AttentionKind>();
        for (var i = 0; i < 12; i++)
        {
            var trainer = ml.Transforms.EmotionFusionHead(new FusionHeadTrainerOptions
            {
                Head = new FusionHeadOptions { FaceAttention = kinds[i % 3], AudioAttention = kinds[(i / 3) % 3], FbpOutputDim = 128, FbpFactor = 4 },
                // Collect garbage (and run finalizers) after every epoch, so freed temporaries would show up quickly.
                Training = new TrainerOptions { MaxEpochs = 5, GroupColumnName = "Speaker", ValidationFraction = 0.2, Threads = 2, Progress = new CollectingProgress() },
            });
            var scores = trainer.Fit(data).Transform(data).GetColumn<float[]>("Score").ToArray();
            Assert.All(scores, s => Assert.Equal(1, s.Sum(), 3));
        }
    }

    private sealed class CollectingProgress : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }
}
