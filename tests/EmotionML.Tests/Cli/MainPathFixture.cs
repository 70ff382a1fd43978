using EmotionML.Cli;
using EmotionML.Experiments;
using Xunit;

namespace EmotionML.Tests.Cli;

/// <summary>
/// What the main-path tests share, made once through the command line itself: small manifests of real clips, an audio
/// CNN trained by <c>train-audio</c> (1 epoch, 8 channels) and a whole-chain model trained by <c>train</c> (2 frames,
/// mini-Xception, 1 epoch). Features are cached in a fresh folder (EMOTIONML_CACHE) that is removed afterwards.
/// </summary>
public sealed class MainPathFixture : IDisposable
{
    /// <summary>The test collection that shares one fixture.</summary>
    public const string Collection = "main path";

    /// <summary>Frames per clip of every command here.</summary>
    public const int Frames = 2;

    /// <summary>The audio CNN's positions for the default 300 × 200 spectrogram (8 × 5).</summary>
    public const int AudioPositions = 40;

    private readonly string? _previousCache;

    public MainPathFixture()
    {
        Dir = TestData.TempDir("cli-main-path");
        _previousCache = Environment.GetEnvironmentVariable("EMOTIONML_CACHE");
        Environment.SetEnvironmentVariable("EMOTIONML_CACHE", Path.Combine(Dir, "cache"));
        // Javanese actors 01 and 02, sentence 01, four emotions: 8 clips, 2 speakers (2 folds).
        string[] codes = ["01", "03", "05", "06"];
        var javanese = ClipManifest.FromShared("javanese-av");
        Clips = javanese.Where(c => (c.Speaker is "01" or "02") && codes.Any(e => Path.GetFileName(c.Path) == $"{c.Speaker}-01-{e}_01.mp4")).ToList();
        Assert.Equal(8, Clips.Count);
        Manifest = Path.Combine(Dir, "javanese.csv");
        ClipManifest.Write(Manifest, Clips, relative: false);
        TestClips = javanese.Where(c => c.Speaker == "03" && codes.Any(e => Path.GetFileName(c.Path) == $"03-01-{e}_01.mp4")).ToList();
        // RAVDESS actors 01 and 02, four clips each (different emotions).
        Speech = ClipManifest.FromShared("ravdess-speech-16k").Where(c => c.Speaker is "01" or "02")
            .GroupBy(c => (c.Speaker, c.Label)).Select(g => g.First()).GroupBy(c => c.Speaker).SelectMany(g => g.Take(4)).ToList();
        SpeechManifest = Path.Combine(Dir, "ravdess.csv");
        ClipManifest.Write(SpeechManifest, Speech, relative: false);

        AudioCnn = Path.Combine(Dir, "cnn.onnx");
        var cnn = CliRunner.RunShared("--threads", "1", "train-audio", "--manifest", SpeechManifest, "--epochs", "1", "--channels", "8-8-8-8-8", "--out", AudioCnn);
        Assert.True(cnn.ExitCode == 0, cnn.Error);
        Model = Path.Combine(Dir, "model.zip");
        var train = CliRunner.RunShared("--threads", "1", "train", "--manifest", Manifest, "--audio-cnn", AudioCnn, "--frames", $"{Frames}", "--backbone", "minixception", "--epochs", "1", "--out", Model);
        Assert.True(train.ExitCode == 0, train.Error);
        Broken = Path.Combine(Dir, "broken.mp4");
        File.WriteAllBytes(Broken, Enumerable.Range(0, 4096).Select(i => (byte)(i * 7919 % 251)).ToArray());
    }

    public string Dir { get; }

    /// <summary>The 8 training clips.</summary>
    internal List<ClipRecord> Clips { get; }

    /// <summary>Their manifest.</summary>
    public string Manifest { get; }

    /// <summary>Four clips of a speaker not trained on.</summary>
    internal List<ClipRecord> TestClips { get; }

    /// <summary>The 8 speech clips.</summary>
    internal List<ClipRecord> Speech { get; }

    /// <summary>Their manifest.</summary>
    public string SpeechManifest { get; }

    /// <summary>The trained audio CNN (ONNX).</summary>
    public string AudioCnn { get; }

    /// <summary>The trained whole-chain model.</summary>
    public string Model { get; }

    /// <summary>4 KiB of bytes named .mp4: not a media file.</summary>
    public string Broken { get; }

    /// <summary>Runs with a fresh, empty feature cache (so that nothing is read back from an earlier run).</summary>
    internal CliRunner.Result RunFresh(params string[] args)
    {
        var cache = Environment.GetEnvironmentVariable("EMOTIONML_CACHE");
        Environment.SetEnvironmentVariable("EMOTIONML_CACHE", Path.Combine(Dir, "cache-" + Guid.NewGuid().ToString("N")));
        try
        {
            return CliRunner.RunShared(args);
        }
        finally
        {
            Environment.SetEnvironmentVariable("EMOTIONML_CACHE", cache);
        }
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("EMOTIONML_CACHE", _previousCache);
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>The test classes that share <see cref="MainPathFixture"/>.</summary>
[CollectionDefinition(MainPathFixture.Collection)]
public sealed class MainPathCollection : ICollectionFixture<MainPathFixture>;
