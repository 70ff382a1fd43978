using System.IO.Compression;
using System.Text.Json;
using EmotionML.AudioCnn;
using EmotionML.Ensembles;
using EmotionML.Fusion;
using EmotionML.Spectrogram;
using EmotionML.Training;
using EmotionML.Training.AudioCnn;
using EmotionML.Training.Fusion;
using EmotionML.VideoInput;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Xunit;

namespace EmotionML.Tests.Persistence;

/// <summary>
/// Model zips of released save formats, kept in Fixtures/ (project-made, about 10 KB each: audio-only video input,
/// both spectrograms, a tiny audio CNN, a tiny head and a score ensemble). Every later build must load each and give the
/// scores it gave when it was written. chain-1: every stage 0x00010002; chain-2: video input 0x00010003. When a stage's
/// format changes, keep the old fixtures, add chain-N+1 (EMOTIONML_WRITE_FIXTURES=dir with
/// <see cref="WriterStillWritesTheNewestFixturesLayout"/> writes it), list it below and make it <see cref="Newest"/>.
/// </summary>
public sealed class FormatFixtureTests : Fusion.TorchTestBase
{
    private const string Newest = "chain-2";

    private sealed class Row
    {
        public string VideoPath { get; set; } = "";
        public string Label { get; set; } = "";
    }

    private sealed record Expected(string[] Clips, string[] Classes, float[][] Scores, float[][] EnsembleScores);

    private static string FixturePath(string ext) => FixturePath(Newest, ext);

    private static string FixturePath(string name, string ext)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "EmotionML.sln"))) dir = dir.Parent;
        return Path.Combine(dir!.FullName, "tests", "EmotionML.Tests", "Fixtures", name + ext);
    }

    private static readonly string[] TrainClips =
    [
        "Actor_01/03-01-01-01-01-01-01.flac", "Actor_01/03-01-01-01-01-02-01.flac",
        "Actor_01/03-01-05-01-01-01-01.flac", "Actor_01/03-01-05-01-01-02-01.flac",
    ];

    private static readonly string[] ScoredClips = ["Actor_02/03-01-01-01-01-01-02.flac", "Actor_02/03-01-05-01-01-01-02.flac"];

    private static IDataView Clips(MLContext ml, IEnumerable<string> clips)
        => ml.Data.LoadFromEnumerable(clips.Select(c => new Row { VideoPath = TestData.Ravdess(c), Label = c.Contains("-01-01-01-01-") || c.Contains("-01-01-01-02-") ? "neutral" : "angry" }).ToList());

    /// <summary>Writes the fixture chain with today's code; returns the zip path and what it scores.</summary>
    private static (string Zip, Expected Expected) Write(string dir)
    {
        var ml = new MLContext(seed: 5);
        var train = Clips(ml, TrainClips);
        var toKey = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(train);
        var fast = new TrainerOptions { MaxEpochs = 2, BatchSize = 2, ValidationFraction = 0, Seed = 1 };
        var pipeline = ml.Transforms.LoadVideo(new VideoInputOptions { DecodeVideo = false, Sampling = FrameSampling.Rate })
            .Append(ml.Transforms.SpeechSpectrogram(new SpeechSpectrogramOptions { Frames = 64, Padding = SpectrogramPadding.Edge }))
            .Append(ml.Transforms.LogMelSpectrogram(new LogMelSpectrogramOptions { Frames = 32, Bands = 16 }))
            .Append(ml.Transforms.TrainAudioCnn(new AudioCnnTrainerOptions { Network = new AudioCnnOptions { Channels = [2, 2, 2, 2, 2] }, Training = fast }))
            .Append(ml.Transforms.EmotionFusionHead(new FusionHeadTrainerOptions
            {
                Head = new FusionHeadOptions { Modalities = Modalities.AudioOnly, AudioAttention = AttentionKind.Self },
                Training = fast,
            }))
            .Append(ml.Transforms.EnsembleScores(new ScoreEnsembleOptions { InputColumnNames = ["Score"], ClassWeights = [1, 2], ScoreColumnName = "EnsembleScore", PredictedLabelColumnName = "EnsemblePredictedLabel" }));
        var model = pipeline.Fit(toKey.Transform(train));
        var zip = Path.Combine(dir, Newest + ".zip");
        ml.Model.Save(model, Clips(ml, []).Schema, zip);
        var scored = model.Transform(Clips(ml, ScoredClips));
        var classes = SlotNames(scored.Schema["Score"]);
        return (zip, new Expected(ScoredClips, classes, scored.GetColumn<float[]>("Score").ToArray(), scored.GetColumn<float[]>("EnsembleScore").ToArray()));
    }

    private static string[] SlotNames(DataViewSchema.Column column)
    {
        VBuffer<ReadOnlyMemory<char>> names = default;
        column.GetSlotNames(ref names);
        return names.DenseValues().Select(n => n.ToString()).ToArray();
    }

    /// <summary>
    /// The committed fixtures are project-made and small: no entry of any chain-N.zip is byte-equal (sha256) to a
    /// pretrained model listed in models/manifest.json (those stay in ../shared), and every ONNX entry is a few KB.
    /// </summary>
    [Fact]
    public void FixturesHoldNoSharedModelAndOnlySmallProjectMadeGraphs()
    {
        var root = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(FixturePath(".zip")))))!;
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "models", "manifest.json")));
        var shared = manifest.RootElement.GetProperty("pretrained").EnumerateArray()
            .Select(m => m.GetProperty("sha256").GetString()!.ToLowerInvariant()).ToHashSet();
        Assert.NotEmpty(shared);
        var zips = Directory.GetFiles(Path.GetDirectoryName(FixturePath(".zip"))!, "chain-*.zip");
        Assert.True(zips.Length >= 2, $"{zips.Length} fixtures");
        var graphs = 0;
        foreach (var zip in zips)
        {
            Assert.True(new FileInfo(zip).Length < 16 * 1024, $"{zip}: {new FileInfo(zip).Length} bytes");
            using var archive = ZipFile.OpenRead(zip);
            foreach (var entry in archive.Entries)
            {
                using var stream = entry.Open();
                var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
                Assert.DoesNotContain(sha, shared);
                if (entry.FullName.EndsWith(".onnx", StringComparison.Ordinal))
                {
                    graphs++;
                    Assert.True(entry.Length < 8 * 1024, $"{zip}:{entry.FullName} is {entry.Length} bytes");
                }
            }
        }
        Assert.Equal(2 * zips.Length, graphs); // the audio CNN and the fusion head of each chain
    }

    [Theory]
    [InlineData("chain-1")]
    [InlineData("chain-2")]
    public void FixtureLoadsAndScoresAsWhenWritten(string name)
    {
        var expected = JsonSerializer.Deserialize<Expected>(File.ReadAllText(FixturePath(name, ".json")))!;
        Assert.True(new FileInfo(FixturePath(name, ".zip")).Length < 200_000, "the fixture must stay small");
        var ml = new MLContext(seed: 1);
        var model = (TransformerChain<ITransformer>)ml.Model.Load(FixturePath(name, ".zip"), out _);
        var stages = model.ToList();
        var video = Assert.IsType<VideoInputTransformer>(stages[0]);
        Assert.False(video.Options.DecodeVideo);
        Assert.Equal(FrameSampling.Rate, video.Options.Sampling);
        var speech = Assert.IsType<SpeechSpectrogramTransformer>(stages[1]);
        Assert.Equal((64, SpectrogramPadding.Edge), (speech.Options.Frames, speech.Options.Padding));
        var mel = Assert.IsType<LogMelSpectrogramTransformer>(stages[2]);
        Assert.Equal((32, 16), (mel.Options.Frames, mel.Options.Bands));
        Assert.IsType<AudioFeatureTransformer>(stages[3]);
        var head = Assert.IsType<FusionHeadTransformer>(stages[4]);
        Assert.Equal(expected.Classes, head.Signature.Classes);
        var ensemble = Assert.IsType<ScoreEnsembleTransformer>(stages[5]);
        Assert.Equal([1.0, 2.0], ensemble.Options.ClassWeights!);

        var scored = model.Transform(Clips(ml, expected.Clips));
        Assert.Equal(expected.Classes, SlotNames(scored.Schema["Score"]));
        var scores = scored.GetColumn<float[]>("Score").ToArray();
        var ensembleScores = scored.GetColumn<float[]>("EnsembleScore").ToArray();
        for (var i = 0; i < expected.Clips.Length; i++)
            for (var k = 0; k < expected.Classes.Length; k++)
            {
                Assert.Equal(expected.Scores[i][k], scores[i][k], 1e-4f);
                Assert.Equal(expected.EnsembleScores[i][k], ensembleScores[i][k], 1e-4f);
            }
    }

    [Fact]
    public void WriterStillWritesTheNewestFixturesLayout()
    {
        var dir = Environment.GetEnvironmentVariable("EMOTIONML_WRITE_FIXTURES") is { Length: > 0 } target ? target : TestData.TempDir("fixture");
        Directory.CreateDirectory(dir);
        var (zip, expected) = Write(dir);
        File.WriteAllText(Path.Combine(dir, Newest + ".json"), JsonSerializer.Serialize(expected));
        // Same entries, and the same stored options (the JSON strings in each Model.key), as the committed fixture.
        Assert.Equal(Layout(FixturePath(".zip")), Layout(zip));
    }

    /// <summary>Entry names with, for each Model.key, its version header and the JSON options it stores (not the learned weights).</summary>
    private static List<string> Layout(string zip)
    {
        using var archive = ZipFile.OpenRead(zip);
        var layout = new List<string>();
        foreach (var entry in archive.Entries.OrderBy(e => e.FullName, StringComparer.Ordinal))
        {
            layout.Add(entry.FullName);
            if (!entry.FullName.EndsWith("Model.key", StringComparison.Ordinal)) continue;
            using var stream = entry.Open();
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            var bytes = memory.ToArray();
            layout.Add($"signature {System.Text.Encoding.ASCII.GetString(bytes, 64, 8)} written 0x{BitConverter.ToUInt32(bytes, 72):X8} readable 0x{BitConverter.ToUInt32(bytes, 76):X8}");
            var text = System.Text.Encoding.UTF8.GetString(bytes);
            foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(text, "\\{\"[A-Za-z]+\":[^\\x00-\\x08]*?\\}(?=[\\x00-\\x1f]|$)"))
                layout.Add(m.Value);
        }
        return layout;
    }
}
