using System.Security.Cryptography;
using System.Text;

namespace EmotionML.Experiments;

/// <summary>
/// On-disk cache of per-clip feature arrays for experiments (spectrograms, head inputs), keyed by the clips' paths,
/// sizes and modification times and by a settings string. Written atomically; a damaged file is recomputed.
/// Folder: $EMOTIONML_CACHE or ~/.cache/emotionml.
/// </summary>
internal static class FeatureArrayCache
{
    /// <summary>The cache folder.</summary>
    public static string Directory
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("EMOTIONML_CACHE");
            return string.IsNullOrWhiteSpace(env)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "emotionml")
                : env;
        }
    }

    /// <summary>Returns the cached arrays for (<paramref name="clips"/>, <paramref name="settings"/>), computing and storing them on a miss.</summary>
    public static float[][] GetOrCompute(string kind, IReadOnlyList<ClipRecord> clips, string settings, Func<float[][]> compute)
    {
        if (TryGet(kind, clips, settings) is { } cached) return cached;
        var arrays = compute();
        Put(kind, clips, settings, arrays);
        return arrays;
    }

    /// <summary>The cached arrays, or null on a miss (a damaged entry is deleted).</summary>
    public static float[][]? TryGet(string kind, IReadOnlyList<ClipRecord> clips, string settings) => TryRead(PathOf(kind, clips, settings), clips.Count);

    /// <summary>Stores arrays atomically.</summary>
    public static void Put(string kind, IReadOnlyList<ClipRecord> clips, string settings, float[][] arrays) => Write(PathOf(kind, clips, settings), arrays);

    private static string PathOf(string kind, IReadOnlyList<ClipRecord> clips, string settings)
    {
        var key = new StringBuilder(kind).Append('|').Append(settings);
        foreach (var c in clips)
        {
            var info = new FileInfo(c.Path);
            key.Append('|').Append(c.Path).Append(':').Append(info.Exists ? info.Length : -1).Append(':').Append(info.Exists ? info.LastWriteTimeUtc.Ticks : 0);
        }
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key.ToString())))[..24];
        return Path.Combine(Directory, $"{kind}-{hash}.bin");
    }

    private static float[][]? TryRead(string path, int rows)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var reader = new BinaryReader(File.OpenRead(path));
            var bytes = reader.ReadBytes((int)reader.BaseStream.Length - 32);
            var digest = reader.ReadBytes(32);
            if (!SHA256.HashData(bytes).AsSpan().SequenceEqual(digest)) throw new InvalidDataException("checksum");
            using var r = new BinaryReader(new MemoryStream(bytes));
            var n = r.ReadInt32();
            if (n != rows) throw new InvalidDataException("row count");
            var result = new float[n][];
            for (var i = 0; i < n; i++)
            {
                var len = r.ReadInt32();
                result[i] = new float[len];
                var raw = r.ReadBytes(len * 4);
                Buffer.BlockCopy(raw, 0, result[i], 0, raw.Length);
            }
            return result;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or EndOfStreamException or ArgumentException)
        {
            File.Delete(path);
            return null;
        }
    }

    private static void Write(string path, float[][] arrays)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(arrays.Length);
            foreach (var a in arrays)
            {
                w.Write(a.Length);
                var raw = new byte[a.Length * 4];
                Buffer.BlockCopy(a, 0, raw, 0, raw.Length);
                w.Write(raw);
            }
        }
        var bytes = ms.ToArray();
        var temp = path + $".{Environment.ProcessId}.tmp";
        using (var f = File.Create(temp))
        {
            f.Write(bytes);
            f.Write(SHA256.HashData(bytes));
        }
        File.Move(temp, path, overwrite: true);
    }
}
