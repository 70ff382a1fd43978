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

    /// <summary>68-point facial landmark CNN (iBUG 300-W layout), for the face-geometry stage.</summary>
    public static readonly KnownModel FaceLandmarks68 = new("face-landmarks68", "models/face-landmarks68/fr_landmark.onnx",
        "f10b0ba1d2a8a099adefede1ebf3733e44fe370715e7303dbeb7f59c02142258");

    /// <summary>Silero VAD v5 voice activity detector, for the speech spectrogram's silence trimming.</summary>
    public static readonly KnownModel SileroVad = new("silero-vad", "models/silero-vad/silero_vad_v5.onnx",
        "2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f");

    /// <summary>Checks bytes (e.g. a model embedded in a zip) against a known model's sha256.</summary>
    internal static void CheckBytes(byte[] bytes, KnownModel model, string what)
    {
        var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (actual != model.Sha256)
            throw new ModelFormatException($"{what}: embedded {model.Name} model has sha256 {actual}, expected {model.Sha256}: the zip is damaged or from another EmotionML version.");
    }

    /// <summary>Every known model.</summary>
    public static IReadOnlyList<KnownModel> All { get; } = [YuNet, FerDenseNet121, MobileFaceNet, MiniXception, FaceLandmarks68, SileroVad];

    /// <summary>The environment variable naming a models folder (laid out like the EmotionML.Models package's <c>models/</c>).</summary>
    public const string ModelsVariable = "EMOTIONML_MODELS";

    /// <summary>One place <see cref="Find"/> looks for a model file.</summary>
    /// <param name="Path">The full path tried, or null when the place is not configured (an unset environment variable).</param>
    /// <param name="Place">What the place is, for the error message.</param>
    internal sealed record Candidate(string? Path, string Place);

    /// <summary>
    /// Where a pretrained model file is looked for, in order: the explicit path (alone, when given); the
    /// <c>models/</c> folder next to the application (what the EmotionML.Models package copies to the output); the folder
    /// named by <c>EMOTIONML_MODELS</c>; the shared folder's <c>models/</c> (<see cref="SharedPaths.Root"/>).
    /// </summary>
    internal static IReadOnlyList<Candidate> Candidates(KnownModel model, string? explicitPath, string appDirectory, string? modelsFolder, string sharedRoot)
    {
        if (explicitPath != null) return [new(Path.GetFullPath(explicitPath), "the path given in the options")];
        return
        [
            new(Path.GetFullPath(Path.Combine(appDirectory, model.RelativePath)), "next to the application (the EmotionML.Models package puts it there)"),
            new(string.IsNullOrWhiteSpace(modelsFolder) ? null : Path.GetFullPath(Path.Combine(modelsFolder, model.FileInModelsFolder)), $"the {ModelsVariable} folder"),
            new(Path.GetFullPath(Path.Combine(sharedRoot, model.RelativePath)), "the shared folder (EMOTIONML_SHARED, or ../shared next to the working folder or the application)"),
        ];
    }

    /// <summary>
    /// Finds <paramref name="model"/> (see <see cref="Candidates"/>), checks its sha256 and returns its full path. Throws one
    /// <see cref="ModelFileException"/> that lists every place tried and how to get the file when it is nowhere, or when
    /// the first file found is not the expected one.
    /// </summary>
    internal static string Find(KnownModel model, string? explicitPath, string appDirectory, string? modelsFolder, string sharedRoot)
    {
        var candidates = Candidates(model, explicitPath, appDirectory, modelsFolder, sharedRoot);
        foreach (var c in candidates)
            if (c.Path != null && File.Exists(c.Path)) return Verify(c.Path, model.Sha256, model.Name);
        var searched = candidates.Where(c => c.Path != null).Select(c => c.Path!).ToList();
        var lines = string.Join("\n", candidates.Select((c, i) => $"  {i + 1}. {c.Path ?? "(not set)"} — {c.Place}"));
        var howTo = explicitPath != null
            ? "Check the path in the options, or leave it null to use the default locations."
            : $"Get it: add the EmotionML.Models package to the application (dotnet add package EmotionML.Models), or set {ModelsVariable} to a folder " +
              $"that holds {model.FileInModelsFolder}, or set EMOTIONML_SHARED to a folder that holds {model.RelativePath}, or give its path in the stage's options.";
        throw new ModelFileException(explicitPath != null ? Path.GetFullPath(explicitPath) : model.RelativePath,
            $"{model.Name} model file not found (sha256 {model.Sha256}). Looked in:\n{lines}\n{howTo} models/manifest.json (`emotionml models`) says where each file comes from.",
            searched);
    }

    /// <summary>
    /// Checks that <paramref name="path"/> exists and has the expected sha256 (cached per path, size and time),
    /// throwing <see cref="ModelFileException"/> that says what to do otherwise. Returns the full path.
    /// </summary>
    public static string Verify(string path, string expectedSha256, string what)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new ModelFileException(full, $"{what} model file not found. Point the option (or EMOTIONML_MODELS, or EMOTIONML_SHARED) at the folder that holds it; models/manifest.json lists where each file comes from.");
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

/// <summary>A pretrained model: a name, its path under a shared root (<c>models/…</c>), and its sha256.</summary>
public sealed record KnownModel(string Name, string RelativePath, string Sha256)
{
    /// <summary>Its location in the shared folder, under <see cref="SharedPaths.Root"/> (one of the places <see cref="Resolve"/> tries).</summary>
    public string DefaultPath => SharedPaths.Combine(RelativePath);

    /// <summary>Its path inside a models folder (the EmotionML.Models package's <c>models/</c>, <c>EMOTIONML_MODELS</c>): <see cref="RelativePath"/> without <c>models/</c>.</summary>
    public string FileInModelsFolder => RelativePath.StartsWith("models/", StringComparison.Ordinal) ? RelativePath["models/".Length..] : RelativePath;

    /// <summary>
    /// The verified full path of this model: <paramref name="path"/> when given, otherwise the first that exists of
    /// <c>models/</c> next to the application (the EmotionML.Models package), the <c>EMOTIONML_MODELS</c> folder and the
    /// shared folder. Its sha256 is checked wherever it is found.
    /// </summary>
    /// <exception cref="ModelFileException">Not found (the message lists every place tried and how to get the file), or not the expected file.</exception>
    public string Resolve(string? path = null)
        => ModelFiles.Find(this, path, AppContext.BaseDirectory, Environment.GetEnvironmentVariable(ModelFiles.ModelsVariable), SharedPaths.Root);
}
