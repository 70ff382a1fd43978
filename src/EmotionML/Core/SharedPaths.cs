namespace EmotionML;

/// <summary>
/// The shared folder: where EmotionML finds the data it reads by path, and the last place it looks for pretrained models
/// (after the application's own <c>models/</c> folder and <c>EMOTIONML_MODELS</c>; see <see cref="KnownModel.Resolve"/>). The root defaults to <c>../shared</c>
/// (relative to the working directory, then to each parent folder of the running program), and can be set with the
/// <c>EMOTIONML_SHARED</c> environment variable or <see cref="Root"/>.
/// </summary>
public static class SharedPaths
{
    private static string? _root;

    /// <summary>The folder that holds <c>models/</c> and <c>data/</c>.</summary>
    public static string Root
    {
        get => _root ??= Discover();
        set => _root = Path.GetFullPath(value);
    }

    /// <summary>A path under <see cref="Root"/>.</summary>
    public static string Combine(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string Discover()
    {
        var env = Environment.GetEnvironmentVariable("EMOTIONML_SHARED");
        if (!string.IsNullOrWhiteSpace(env)) return Path.GetFullPath(env);
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "..", "shared");
                if (Directory.Exists(Path.Combine(candidate, "models"))) return Path.GetFullPath(candidate);
                candidate = Path.Combine(dir.FullName, "shared");
                if (Directory.Exists(Path.Combine(candidate, "models")) && Directory.Exists(Path.Combine(candidate, "data"))) return Path.GetFullPath(candidate);
            }
        }
        return Path.GetFullPath(Path.Combine(Directory.GetCurrentDirectory(), "..", "shared"));
    }
}
