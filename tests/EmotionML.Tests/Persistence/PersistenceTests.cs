using System.IO.Compression;
using System.Reflection;
using EmotionML.Core;
using EmotionML.FaceAlignment;
using EmotionML.Spectrogram;
using EmotionML.VideoInput;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace EmotionML.Tests.Persistence;

public sealed class PersistenceTests
{
    private readonly MLContext _ml = new(seed: 1);

    private sealed class Clip { public string VideoPath { get; set; } = ""; }

    private (ITransformer Model, IDataView Data, string Zip) FitAndSave(string name)
    {
        var data = _ml.Data.LoadFromEnumerable(new[] { TestData.Javanese("02-01-03_01.mp4"), TestData.CremadVideo("HAP") }.Select(p => new Clip { VideoPath = p }));
        // Non-default options everywhere, so a lost option shows up as a different output.
        var pipeline = _ml.Transforms.LoadVideo(new VideoInputOptions { FrameCount = 5, MaxFrameSide = 320 })
            .Append(_ml.Transforms.AlignFaces(new FaceAlignmentOptions { MaxFrames = 6, Margin = 0.25f, ScoreThreshold = 0.7f }))
            .Append(_ml.Transforms.SpeechSpectrogram(new SpeechSpectrogramOptions { Frames = 150 }));
        var model = pipeline.Fit(data);
        var zip = Path.Combine(TestData.TempDir(name), "model.zip");
        _ml.Model.Save(model, data.Schema, zip);
        return (model, data, zip);
    }

    [Fact]
    public void ChainSavedHereLoadsInANewProcessWithIdenticalOutputsAndNoTorchSharp()
    {
        var (model, data, zip) = FitAndSave("newprocess");
        var here = ModelProcess.DumpHere(model.Transform(data));
        var there = ModelProcess.DumpInNewProcess(zip, TestData.Javanese("02-01-03_01.mp4"), TestData.CremadVideo("HAP"));
        Assert.Equal(here.Count, there.Rows.Count);
        for (var i = 0; i < here.Count; i++)
        {
            Assert.Equal(here[i].Keys.Order(), there.Rows[i].Keys.Order());
            foreach (var (column, digest) in here[i])
                Assert.True(digest == there.Rows[i][column], $"row {i} column {column} differs after reload");
        }
        Assert.Contains("EmotionML", there.Assemblies);
        Assert.DoesNotContain(there.Assemblies, a => a.StartsWith("TorchSharp", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain("EmotionML.Training", there.Assemblies);
    }

    [Fact]
    public void LoadedChainKeepsEveryOption()
    {
        var (_, _, zip) = FitAndSave("options");
        var loaded = (TransformerChain<ITransformer>)_ml.Model.Load(zip, out var schema);
        Assert.Equal("VideoPath", schema.Single().Name);
        var stages = loaded.ToList();
        var video = Assert.IsType<VideoInputTransformer>(stages[0]);
        Assert.Equal(5, video.Options.FrameCount);
        Assert.Equal(320, video.Options.MaxFrameSide);
        var faces = Assert.IsType<FaceAlignmentTransformer>(stages[1]);
        Assert.Equal(6, faces.Options.MaxFrames);
        Assert.Equal(0.25f, faces.Options.Margin);
        Assert.Equal(0.7f, faces.Options.ScoreThreshold);
        var spec = Assert.IsType<SpeechSpectrogramTransformer>(stages[2]);
        Assert.Equal(150, spec.Options.Frames);
    }

    [Fact]
    public void ZipFromAnotherFormatVersionGivesATypedError()
    {
        var (_, _, zip) = FitAndSave("version");
        var patched = zip.Replace("model.zip", "newer.zip");
        File.Copy(zip, patched);
        // Raise the written/readable format version of the video stage's entry, as a future EmotionML would write it.
        using (var archive = ZipFile.Open(patched, ZipArchiveMode.Update))
        {
            var entry = archive.Entries.Single(e => e.FullName.EndsWith("Model.key") && ReadAll(e).AsSpan().IndexOf("EMLVIDIN"u8) == 64);
            var bytes = ReadAll(entry);
            BitConverter.GetBytes(0x00020001u).CopyTo(bytes, 72);
            BitConverter.GetBytes(0x00020001u).CopyTo(bytes, 76);
            entry.Delete();
            using var s = archive.CreateEntry(entry.FullName).Open();
            s.Write(bytes);
        }
        var e = Assert.ThrowsAny<Exception>(() => _ml.Model.Load(patched, out _));
        var typed = Unwrap<ModelFormatException>(e);
        Assert.NotNull(typed);
        Assert.Contains("newer EmotionML", typed!.Message);
    }

    [Fact]
    public void ZipWithAMissingComponentEntryGivesATypedError()
    {
        var (_, _, zip) = FitAndSave("missing");
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Update))
            archive.Entries.Single(e => e.FullName.EndsWith("Detector.onnx")).Delete();
        var e = Assert.ThrowsAny<Exception>(() => _ml.Model.Load(zip, out _));
        Assert.Contains("incomplete", Unwrap<ModelFormatException>(e)!.Message);
    }

    [Fact]
    public void EveryTypeInTheAssembliesLoadsAndEveryLoadableClassHasACreateMethod()
    {
        // ML.NET calls GetTypes() on an assembly when it loads a model: one type that fails to load breaks every model.
        foreach (var assembly in new[] { typeof(EmotionTransformerBase).Assembly, typeof(EmotionML.Training.Torch.TorchRuntimeMarker).Assembly })
        {
            var types = assembly.GetTypes();
            Assert.NotEmpty(types);
            foreach (var attr in assembly.GetCustomAttributes<LoadableClassAttribute>())
            {
                var create = attr.InstanceType.GetMethod("Create", BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public,
                    [typeof(Microsoft.ML.Runtime.IHostEnvironment), typeof(ModelLoadContext)]);
                Assert.True(create != null, $"{attr.InstanceType.Name} has no static Create(IHostEnvironment, ModelLoadContext)");
            }
        }
        Assert.True(typeof(EmotionTransformerBase).Assembly.GetCustomAttributes<LoadableClassAttribute>().Count() >= 4);
    }

    private static byte[] ReadAll(ZipArchiveEntry e)
    {
        using var s = e.Open();
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    }

    private static T? Unwrap<T>(Exception? e) where T : Exception
    {
        for (; e != null; e = e.InnerException)
            if (e is T t) return t;
        return null;
    }
}
