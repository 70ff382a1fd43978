using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace EmotionML;

/// <summary>Pretrained model files EmotionML knows, each with the sha256 it was built and tested against.</summary>
public static class ModelFiles
{
    private static readonly ConcurrentDictionary<string, string> Verified = new();

    /// <summary>YuNet face detector (face_detection_yunet_2023mar).</summary>
    public static readonly KnownModel YuNet = new("yunet", "models/yunet/face_detection_yunet_2023mar.onnx",
        "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4");

    /// <summary>DenseNet-121 facial expression CNN (1024-d penultimate feature).</summary>
    public static readonly KnownModel FerDenseNet121 = new("fer-densenet121", "models/fer-densenet121/fr_expression.onnx",
        "88959314d9dc14d6c968cca31dc068e4350bf1944154e3bdd2eece5d0f318d05");

    /// <summary>MobileFaceNet-style face-recognition embedder (512-d).</summary>
    public static readonly KnownModel MobileFaceNet = new("mobilefacenet", "models/mobilefacenet/fr_feature.onnx",
        "87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581");

    /// <summary>mini-Xception FER2013 expression CNN.</summary>
    public static readonly KnownModel MiniXception = new("mini-xception-fer2013", "models/mini-xception-fer2013/fer2013_mini_XCEPTION.102-0.66.onnx",
        "dffde1be72e51aceab643bb25fe28923ed951f6ad0f85a8e921bf866cf204406");

    /// <summary>Checks bytes (e.g. a model embedded in a zip) against a known model's sha256.</summary>
    internal static void CheckBytes(byte[] bytes, KnownModel model, string what)
    {
        var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (actual != model.Sha256)
            throw new ModelFormatException($"{what}: embedded {model.Name} model has sha256 {actual}, expected {model.Sha256}: the zip is damaged or from another EmotionML version.");
    }

    /// <summary>Every known model.</summary>
    public static IReadOnlyList<KnownModel> All { get; } = [YuNet, FerDenseNet121, MobileFaceNet, MiniXception];

    /// <summary>
    /// Checks that <paramref name="path"/> exists and has the expected sha256 (cached per path, size and time),
    /// throwing <see cref="ModelFileException"/> that says what to do otherwise. Returns the full path.
    /// </summary>
    public static string Verify(string path, string expectedSha256, string what)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new ModelFileException(full, $"{what} model file not found. Point the option (or EMOTIONML_SHARED) at the folder that holds it; models/manifest.json lists where each file comes from.");
        var info = new FileInfo(full);
        var key = $"{full}|{info.Length}|{info.LastWriteTimeUtc.Ticks}";
        if (Verified.TryGetValue(key, out var known) && known == expectedSha256) return full;
        string actual;
        using (var stream = File.OpenRead(full))
            actual = Convert.ToHexStringLower(SHA256.HashData(stream));
        if (!string.Equals(actual, expectedSha256, StringComparison.OrdinalIgnoreCase))
            throw new ModelFileException(full, $"{what} model file has sha256 {actual}, expected {expectedSha256}: it is not the file EmotionML was built for.");
        Verified[key] = expectedSha256;
        return full;
    }
}

/// <summary>A pretrained model: a name, its path under the shared root, and its sha256.</summary>
public sealed record KnownModel(string Name, string RelativePath, string Sha256)
{
    /// <summary>The default location, under <see cref="SharedPaths.Root"/>.</summary>
    public string DefaultPath => SharedPaths.Combine(RelativePath);

    /// <summary>Verifies <paramref name="path"/> (or the default path) and returns its full path.</summary>
    public string Resolve(string? path = null) => ModelFiles.Verify(path ?? DefaultPath, Sha256, Name);
}
