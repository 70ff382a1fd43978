using Xunit;

namespace EmotionML.Tests.Core;

/// <summary>Where a pretrained model file is looked for, in which order, and the one error when it is nowhere.</summary>
public sealed class ModelFilesTests
{
    private static readonly KnownModel YuNet = ModelFiles.YuNet;

    /// <summary>Three places (application folder, EMOTIONML_MODELS folder, shared root), each with a good copy of YuNet.</summary>
    private sealed class Places
    {
        public string App { get; } = TestData.TempDir("modelfiles-app");
        public string Models { get; } = TestData.TempDir("modelfiles-models");
        public string Shared { get; } = TestData.TempDir("modelfiles-shared");

        public string InApp => Path.Combine(App, "models", "yunet", "face_detection_yunet_2023mar.onnx");
        public string InModels => Path.Combine(Models, "yunet", "face_detection_yunet_2023mar.onnx");
        public string InShared => Path.Combine(Shared, "models", "yunet", "face_detection_yunet_2023mar.onnx");

        public Places(bool fill = true)
        {
            if (!fill) return;
            foreach (var p in new[] { InApp, InModels, InShared }) Put(p, File.ReadAllBytes(YuNet.DefaultPath));
        }

        public static void Put(string path, byte[] bytes)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, bytes);
        }

        public string Find(string? explicitPath = null, bool modelsSet = true) => ModelFiles.Find(YuNet, explicitPath, App, modelsSet ? Models : null, Shared);
    }

    [Fact]
    public void Order_is_explicit_path_then_application_folder_then_EMOTIONML_MODELS_then_shared_folder()
    {
        var p = new Places();
        var explicitCopy = Path.Combine(TestData.TempDir("modelfiles-explicit"), "yunet.onnx");
        Places.Put(explicitCopy, File.ReadAllBytes(YuNet.DefaultPath));

        Assert.Equal(explicitCopy, p.Find(explicitCopy));
        Assert.Equal(p.InApp, p.Find());
        File.Delete(p.InApp);
        Assert.Equal(p.InModels, p.Find());
        Assert.Equal(p.InShared, p.Find(modelsSet: false));
        File.Delete(p.InModels);
        Assert.Equal(p.InShared, p.Find());
    }

    [Fact]
    public void Missing_everywhere_is_one_error_that_lists_every_place_in_order_and_how_to_get_the_file()
    {
        var p = new Places(fill: false);
        var e = Assert.Throws<ModelFileException>(() => p.Find());
        Assert.Equal("models/yunet/face_detection_yunet_2023mar.onnx", e.Path);
        Assert.Equal([p.InApp, p.InModels, p.InShared], e.Searched);
        Assert.Equal(
            "models/yunet/face_detection_yunet_2023mar.onnx: yunet model file not found (sha256 8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4). Looked in:\n" +
            $"  1. {p.InApp} — next to the application (the EmotionML.Models package puts it there)\n" +
            $"  2. {p.InModels} — the EMOTIONML_MODELS folder\n" +
            $"  3. {p.InShared} — the shared folder (EMOTIONML_SHARED, or ../shared next to the working folder or the application)\n" +
            "Get it: add the EmotionML.Models package to the application (dotnet add package EmotionML.Models), or set EMOTIONML_MODELS to a folder " +
            "that holds yunet/face_detection_yunet_2023mar.onnx, or set EMOTIONML_SHARED to a folder that holds models/yunet/face_detection_yunet_2023mar.onnx, " +
            "or give its path in the stage's options. models/manifest.json (`emotionml models`) says where each file comes from.",
            e.Message);
    }

    [Fact]
    public void An_unset_EMOTIONML_MODELS_is_listed_as_not_set()
    {
        var p = new Places(fill: false);
        var e = Assert.Throws<ModelFileException>(() => p.Find(modelsSet: false));
        Assert.Equal([p.InApp, p.InShared], e.Searched);
        Assert.Contains("\n  2. (not set) — the EMOTIONML_MODELS folder\n", e.Message);
    }

    [Fact]
    public void The_sha256_is_checked_where_the_file_is_found_and_a_wrong_file_does_not_fall_through_to_a_good_one()
    {
        var p = new Places();
        Places.Put(p.InModels, File.ReadAllBytes(YuNet.DefaultPath).AsSpan(0, 1000).ToArray());
        File.Delete(p.InApp);
        var e = Assert.Throws<ModelFileException>(() => p.Find());
        Assert.Equal(p.InModels, e.Path);
        Assert.StartsWith($"{p.InModels}: yunet model file has sha256 ", e.Message);
        Assert.EndsWith(", expected 8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4: it is not the file EmotionML was built for.", e.Message);
    }

    [Fact]
    public void An_explicit_path_that_does_not_exist_is_an_error_even_when_a_default_location_has_the_file()
    {
        var p = new Places();
        var missing = Path.Combine(p.App, "nope.onnx");
        var e = Assert.Throws<ModelFileException>(() => p.Find(missing));
        Assert.Equal([missing], e.Searched);
        Assert.Contains($"  1. {missing} — the path given in the options\nCheck the path in the options, or leave it null to use the default locations.", e.Message);
    }

    [Fact]
    public void Resolve_without_a_path_finds_the_shared_copy_in_the_test_run()
    {
        // The test output folder has no models/ folder and the tests do not set EMOTIONML_MODELS, so the shared folder serves.
        Assert.False(Directory.Exists(Path.Combine(AppContext.BaseDirectory, "models")));
        Assert.Null(Environment.GetEnvironmentVariable(ModelFiles.ModelsVariable));
        Assert.Equal(Path.GetFullPath(YuNet.DefaultPath), YuNet.Resolve());
    }
}
