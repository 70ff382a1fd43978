using EmotionML.Cli;
using Xunit;

namespace EmotionML.Tests.Cli;

public sealed class ModelManifestTests
{
    private static string RepoManifestPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "models", "manifest.json");
            if (File.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "EmotionML.sln"))) return candidate;
        }
        throw new FileNotFoundException("models/manifest.json not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void EveryKnownModelIsInTheManifestWithTheSameFileAndSha256AndViceVersa()
    {
        var manifest = ModelManifest.Load(RepoManifestPath());
        foreach (var known in ModelFiles.All)
        {
            var entry = Assert.Single(manifest.Pretrained, m => m.KnownModel == known.Name);
            Assert.Equal(known.Name, entry.Name);
            Assert.Equal(known.RelativePath, entry.File);
            Assert.Equal(known.Sha256, entry.Sha256);
        }
        foreach (var entry in manifest.Pretrained.Where(m => m.KnownModel != null))
        {
            var known = Assert.Single(ModelFiles.All, k => k.Name == entry.KnownModel);
            Assert.Equal(known.Sha256, entry.Sha256);
        }
    }

    [Fact]
    public void EveryPretrainedEntryIsCompleteAndMatchesItsProvenanceFile()
    {
        var manifest = ModelManifest.Load(RepoManifestPath());
        Assert.Equal(manifest.Pretrained.Count, manifest.Pretrained.Select(m => m.Name).Distinct().Count());
        foreach (var m in manifest.Pretrained)
        {
            foreach (var (field, value) in new[] { ("file", m.File), ("sha256", m.Sha256), ("source", m.Source), ("licence", m.Licence), ("input", m.Input), ("outputUsed", m.OutputUsed) })
                Assert.False(string.IsNullOrWhiteSpace(value), $"{m.Name}: {field} is empty");
            Assert.Matches("^[0-9a-f]{64}$", m.Sha256);
            var provenance = Path.Combine(SharedPaths.Root, Path.GetDirectoryName(m.File)!, "PROVENANCE.txt");
            Assert.Contains($"{m.Sha256}  {Path.GetFileName(m.File)}", File.ReadAllText(provenance));
        }
        Assert.NotEmpty(manifest.Trained);
        Assert.All(manifest.Trained, t => Assert.Contains("emotionml train", t.Produce));
    }

    [Fact]
    public void TheToolEmbedsTheRepositoryManifest()
    {
        var file = ModelManifest.Load(RepoManifestPath());
        var embedded = ModelManifest.Embedded();
        Assert.Equal(file.Pretrained.Select(m => (m.Name, m.File, m.Sha256)), embedded.Pretrained.Select(m => (m.Name, m.File, m.Sha256)));
        Assert.Equal(file.Trained.Select(t => t.Name), embedded.Trained.Select(t => t.Name));
    }
}
