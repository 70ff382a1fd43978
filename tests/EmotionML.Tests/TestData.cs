using System.Runtime.CompilerServices;

namespace EmotionML.Tests;

/// <summary>Paths of the real data the tests read (under <see cref="SharedPaths.Root"/>) and scratch folders.</summary>
internal static class TestData
{
    [ModuleInitializer]
    internal static void Init()
    {
        // Tests run single-threaded numerics: two shared cores make default threading erratic.
        Environment.SetEnvironmentVariable("OMP_NUM_THREADS", "1");
        Environment.SetEnvironmentVariable("MKL_NUM_THREADS", "1");
    }

    public static string Javanese(string file) => SharedPaths.Combine("data", "javanese-av", "clips", file);

    public static string JavaneseDir => SharedPaths.Combine("data", "javanese-av");

    public static string CremadVideo(string emo) => SharedPaths.Combine("data", "cremad-av-sample", "VideoFlash", $"1001_DFA_{emo}_XX.flv");

    public static string CremadAudio(string emo) => SharedPaths.Combine("data", "cremad-av-sample", "AudioMP3", $"1002_DFA_{emo}_XX.mp3");

    public static string Ravdess(string relative) => SharedPaths.Combine("data", "ravdess-speech-16k", relative);

    public static string Fer(string relative) => SharedPaths.Combine("data", "fer2013", relative);

    /// <summary>A fresh scratch folder under the system temp directory.</summary>
    public static string TempDir(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), "emotionml-tests", $"{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}
