using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EmotionML.Cli;

/// <summary>models/manifest.json: the pretrained models EmotionML reads and the models the project trains itself.</summary>
internal sealed class ModelManifest
{
    /// <summary>Third-party pretrained files, read by path under the shared root.</summary>
    [JsonPropertyName("pretrained")]
    public List<PretrainedModel> Pretrained { get; set; } = [];

    /// <summary>Models the project produces with <c>emotionml train</c>.</summary>
    [JsonPropertyName("trained")]
    public List<TrainedModel> Trained { get; set; } = [];

    private static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = true, ReadCommentHandling = JsonCommentHandling.Skip };

    /// <summary>The manifest embedded in the tool (a copy of models/manifest.json at build time).</summary>
    public static ModelManifest Embedded()
    {
        using var stream = typeof(ModelManifest).Assembly.GetManifestResourceStream("EmotionML.Cli.manifest.json")
            ?? throw new EmotionMLException("models/manifest.json is not embedded in this build of emotionml.");
        return Parse(stream, "embedded models/manifest.json");
    }

    /// <summary>Reads a manifest file.</summary>
    public static ModelManifest Load(string path)
    {
        using var stream = File.OpenRead(path);
        return Parse(stream, path);
    }

    private static ModelManifest Parse(Stream stream, string what)
    {
        try
        {
            return JsonSerializer.Deserialize<ModelManifest>(stream, Json) ?? throw new EmotionMLException($"{what}: empty.");
        }
        catch (JsonException e)
        {
            throw new EmotionMLException($"{what}: not valid JSON ({e.Message}).", e);
        }
    }
}

/// <summary>A pretrained model file.</summary>
internal sealed class PretrainedModel
{
    /// <summary>Short name.</summary>
    public string Name { get; set; } = "";

    /// <summary>Name in <see cref="ModelFiles.All"/>, or null when the library does not use it (yet).</summary>
    public string? KnownModel { get; set; }

    /// <summary>Path relative to the shared root.</summary>
    public string File { get; set; } = "";

    /// <summary>Expected sha256 (lower-case hex).</summary>
    public string Sha256 { get; set; } = "";

    /// <summary>What it does.</summary>
    public string Task { get; set; } = "";

    /// <summary>Where it comes from (how to get it when missing).</summary>
    public string Source { get; set; } = "";

    /// <summary>Licence.</summary>
    public string Licence { get; set; } = "";

    /// <summary>Input tensor(s) and preprocessing.</summary>
    public string Input { get; set; } = "";

    /// <summary>The output EmotionML uses.</summary>
    public string OutputUsed { get; set; } = "";

    /// <summary>The stage that uses it.</summary>
    public string? UsedBy { get; set; }
}

/// <summary>A model the project trains itself (files are not committed).</summary>
internal sealed class TrainedModel
{
    /// <summary>Short name.</summary>
    public string Name { get; set; } = "";

    /// <summary>What it is.</summary>
    public string Description { get; set; } = "";

    /// <summary>Training data (and its licence).</summary>
    public string Data { get; set; } = "";

    /// <summary>The commands that produce it.</summary>
    public string Produce { get; set; } = "";

    /// <summary>What the produced file contains.</summary>
    public string Output { get; set; } = "";
}

/// <summary>State of a pretrained model file in a folder.</summary>
internal enum ModelFileState
{
    /// <summary>Present with the expected sha256.</summary>
    Present,
    /// <summary>Not there.</summary>
    Missing,
    /// <summary>There, with another sha256.</summary>
    ShaMismatch,
}

/// <summary>Checks manifest entries against a folder.</summary>
internal static class ModelCheck
{
    public static (ModelFileState State, string Path, string? ActualSha256) Check(PretrainedModel model, string root)
    {
        var path = System.IO.Path.GetFullPath(System.IO.Path.Combine(root, model.File));
        if (!System.IO.File.Exists(path)) return (ModelFileState.Missing, path, null);
        using var stream = System.IO.File.OpenRead(path);
        var sha = Convert.ToHexStringLower(SHA256.HashData(stream));
        return (string.Equals(sha, model.Sha256, StringComparison.OrdinalIgnoreCase) ? ModelFileState.Present : ModelFileState.ShaMismatch, path, sha);
    }
}
