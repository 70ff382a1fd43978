using EmotionML.AcousticFeatures;
using EmotionML.AudioCnn;
using EmotionML.Ensembles;
using EmotionML.FaceAlignment;
using EmotionML.FaceFeatures;
using EmotionML.FaceGeometry;
using EmotionML.Spectrogram;
using EmotionML.Training;
using EmotionML.Training.Fusion;
using EmotionML.VideoInput;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace EmotionML.Tests.Persistence;

/// <summary>
/// One contract check for every stage (like ML.NET's TestEstimatorCore): the estimator's predicted schema is the
/// transformer's real one; a missing or mistyped input column fails for the estimator and the transformer with the one
/// wording; save → load in memory gives identical values.
/// </summary>
public sealed class StageConformanceTests : Fusion.TorchTestBase
{
    private sealed class Row
    {
        public string VideoPath { get; set; } = "";
        public string Label { get; set; } = "";
        public string Other { get; set; } = "x";
        public float Number { get; set; } = 1;
    }

    private readonly MLContext _ml = new(seed: 1);

    /// <summary>The checks. <paramref name="column"/> is an input the stage reads; <paramref name="wrongSource"/> a column of another type.</summary>
    private void Conforms<T>(IEstimator<T> estimator, IDataView input, string column, string role, string wrongSource) where T : class, ITransformer
    {
        var transformer = estimator.Fit(input);

        // Predicted schema = real schema.
        var predicted = estimator.GetOutputSchema(SchemaShape.Create(input.Schema)).Select(Describe).Order(StringComparer.Ordinal).ToList();
        var real = SchemaShape.Create(transformer.GetOutputSchema(input.Schema)).Select(Describe).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(real, predicted);
        Assert.Equal(real, SchemaShape.Create(transformer.Transform(input).Schema).Select(Describe).Order(StringComparer.Ordinal).ToList());

        // Bad input: the same wording from the estimator and from the transformer.
        var prefix = $"Schema mismatch for input column '{column}' ({role}): expected ";
        var missing = _ml.Transforms.DropColumns(column).Fit(input).Transform(input);
        var e1 = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(missing));
        var t1 = Assert.Throws<ArgumentOutOfRangeException>(() => transformer.Transform(missing));
        foreach (var e in new[] { e1, t1 })
        {
            Assert.StartsWith(prefix, e.Message);
            Assert.Contains(", got no such column.", e.Message);
        }
        var wrong = _ml.Transforms.DropColumns(column).Append(_ml.Transforms.CopyColumns(column, wrongSource)).Fit(input).Transform(input);
        var e2 = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(wrong));
        var t2 = Assert.Throws<ArgumentOutOfRangeException>(() => transformer.GetOutputSchema(wrong.Schema));
        foreach (var e in new[] { e2, t2 })
        {
            Assert.StartsWith(prefix, e.Message);
            Assert.Contains(", got a ", e.Message);
        }

        // Save → load in memory → identical values.
        using var stream = new MemoryStream();
        _ml.Model.Save(transformer, input.Schema, stream);
        stream.Position = 0;
        var loaded = _ml.Model.Load(stream, out var savedSchema);
        Assert.Equal(input.Schema.Select(c => c.Name), savedSchema.Select(c => c.Name));
        var before = ModelProcess.DumpHere(transformer.Transform(input));
        var after = ModelProcess.DumpHere(loaded.Transform(input));
        Assert.NotEmpty(before);
        Assert.Equal(before, after);
    }

    private static string Describe(SchemaShape.Column c) => $"{c.Name}:{c.Kind}:{c.ItemType}:{(c.IsKey ? "key" : "")}";

    private IDataView Cached(IDataView view) => _ml.Data.Cache(view);

    private IDataView Clip() => _ml.Data.LoadFromEnumerable(new[] { new Row { VideoPath = TestData.Javanese("01-01-03_01.mp4") } });

    private IDataView Video() => Cached(_ml.Transforms.LoadVideo(new VideoInputOptions { FrameCount = 2, MaxFrameSide = 160 }).Fit(Clip()).Transform(Clip()));

    private IDataView Aligned() => Cached(_ml.Transforms.AlignFaces(2).Fit(Video()).Transform(Video()));

    [Fact]
    public void VideoInput() => Conforms(_ml.Transforms.LoadVideo(new VideoInputOptions { FrameCount = 2, MaxFrameSide = 160 }), Clip(), "VideoPath", "clip path", nameof(Row.Number));

    [Fact]
    public void AlignFaces() => Conforms(_ml.Transforms.AlignFaces(new FaceAlignmentOptions { MaxFrames = 2, Margin = 0.2f }), Video(), "FrameCount", "frame count", "FrameTimes");

    [Fact]
    public void ExtractFaceFeatures() => Conforms(_ml.Transforms.ExtractFaceFeatures(FaceBackboneKind.MiniXception, FeatureEnhancement.FMean), Aligned(), "FrameMask", "frame mask", "FaceFound");

    [Fact]
    public void ExtractFaceGeometry() => Conforms(_ml.Transforms.ExtractFaceGeometry(new FaceGeometryOptions { LandmarksColumnName = "Landmarks68" }), Aligned(), "FaceFound", "face found", "FrameMask");

    [Fact]
    public void SpeechSpectrogram() => Conforms(_ml.Transforms.SpeechSpectrogram(frames: 50), Video(), "Audio", "audio", "FrameCount");

    [Fact]
    public void LogMelSpectrogram() => Conforms(_ml.Transforms.LogMelSpectrogram(new LogMelSpectrogramOptions { Frames = 40, Bands = 20, Padding = SpectrogramPadding.Edge }), Video(), "Audio", "audio", "FrameCount");

    [Fact]
    public void ExtractAcousticFeatures() => Conforms(_ml.Transforms.ExtractAcousticFeatures(new AcousticFeaturesOptions { PitchCeiling = 400 }), Video(), "Audio", "audio", "FrameCount");

    // The audio stages use the format fixture's tiny audio CNN (trained on 64 × 200 spectrograms).
    private (IDataView Spectrograms, string CnnPath) FixtureAudio()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(dir!.FullName, "EmotionML.sln"))) dir = dir.Parent;
        var chain = (TransformerChain<ITransformer>)_ml.Model.Load(Path.Combine(dir.FullName, "tests", "EmotionML.Tests", "Fixtures", "chain-1.zip"), out _);
        var cnn = Path.Combine(TestData.TempDir("conformance"), "audio-cnn.onnx");
        File.WriteAllBytes(cnn, ((AudioFeatureTransformer)chain.ElementAt(3)).OnnxBytes);
        var rows = _ml.Data.LoadFromEnumerable(new[] { ("03-01-01-01-01-01-02", "neutral"), ("03-01-05-01-01-01-02", "angry"), ("03-01-01-01-02-01-02", "neutral"), ("03-01-05-01-02-01-02", "angry") }
            .Select(c => new Row { VideoPath = TestData.Ravdess($"Actor_02/{c.Item1}.flac"), Label = c.Item2 }).ToList());
        var spectrograms = new TransformerChain<ITransformer>(chain.Take(2).ToArray()).Transform(rows);
        return (Cached(spectrograms), cnn);
    }

    [Fact]
    public void ExtractAudioFeatures()
    {
        var (spectrograms, cnn) = FixtureAudio();
        Conforms(_ml.Transforms.ExtractAudioFeatures(cnn), spectrograms, "Spectrogram", "spectrogram", nameof(Row.Other));
    }

    private IDataView AudioFeatures()
    {
        var (spectrograms, cnn) = FixtureAudio();
        var features = _ml.Transforms.ExtractAudioFeatures(cnn).Append(_ml.Transforms.Conversion.MapValueToKey("Label")).Fit(spectrograms).Transform(spectrograms);
        return Cached(features);
    }

    private static FusionHeadTrainerOptions TinyHead() => new()
    {
        Head = new FusionHeadOptions { Modalities = Modalities.AudioOnly },
        Training = new TrainerOptions { MaxEpochs = 1, BatchSize = 2, ValidationFraction = 0, Seed = 1 },
    };

    [Fact]
    public void FusionHead() => Conforms(_ml.Transforms.EmotionFusionHead(TinyHead()), AudioFeatures(), "AudioMask", "audio mask", nameof(Row.Other));

    [Fact]
    public void EnsembleScores()
    {
        var features = AudioFeatures();
        var scored = Cached(_ml.Transforms.EmotionFusionHead(TinyHead()).Fit(features).Transform(features));
        Conforms(_ml.Transforms.EnsembleScores(new ScoreEnsembleOptions { InputColumnNames = ["Score"], ClassWeights = [1, 3], ScoreColumnName = "Mean", PredictedLabelColumnName = "MeanLabel" }),
            scored, "Score", "member score", nameof(Row.Other));
    }

    [Fact]
    public void NormalizeBySpeaker()
    {
        var clips = SpeakerAdaptation.SpeakerNormalizationTests.Clips("A", 3, 0).Concat(SpeakerAdaptation.SpeakerNormalizationTests.Clips("B", 4, 2));
        Conforms(_ml.Transforms.NormalizeBySpeaker(), _ml.Data.LoadFromEnumerable(clips.ToList()), "Speaker", "speaker", nameof(Row.Number));
    }
}
