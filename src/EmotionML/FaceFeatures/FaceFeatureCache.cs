using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace EmotionML.FaceFeatures;

/// <summary>
/// On-disk cache of a clip's face features. The key is the sha256 of the clip's crop bytes, its mask and every setting
/// that changes the features (backbone(s) and their model sha256, enhancement, rotation/scale sets, mirroring, the format
/// version). An entry is <c>&lt;dir&gt;/&lt;key[0..2]&gt;/&lt;key&gt;.emlff</c>: magic, version, float count, the floats
/// (little-endian) and the sha256 of everything before it. Entries are written to a unique temp file in the same folder
/// and renamed into place, so readers in other processes see either no entry or a complete one; an entry whose checksum or
/// length does not match is deleted and recomputed. Two processes computing the same entry both write the same bytes.
/// </summary>
public sealed class FaceFeatureCache
{
    /// <summary>Bumped whenever the feature computation or the file layout changes, which invalidates every entry.</summary>
    internal const int FormatVersion = 1;
    private static readonly byte[] Magic = "EMLFFC\0\0"u8.ToArray();

    /// <summary>Creates a cache in <paramref name="directory"/> (created if missing).</summary>
    public FaceFeatureCache(string directory)
    {
        Directory = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(Directory);
    }

    /// <summary>The cache folder.</summary>
    public string Directory { get; }

    /// <summary><c>$EMOTIONML_CACHE/face-features</c>, else <c>~/.cache/emotionml/face-features</c>.</summary>
    public static string DefaultDirectory
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("EMOTIONML_CACHE");
            var root = !string.IsNullOrWhiteSpace(env) ? env
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "emotionml");
            return Path.Combine(root, "face-features");
        }
    }

    /// <summary>Hits, misses and corrupt entries seen by this instance.</summary>
    public (int Hits, int Misses, int Corrupt) Counts => (_hits, _misses, _corrupt);

    private int _hits, _misses, _corrupt;

    /// <summary>The settings part of the key: everything in <paramref name="o"/> that changes the features, plus the model hashes (<paramref name="fineTunedSha"/>: a fine-tuned backbone file's own sha256).</summary>
    internal static string SettingsKey(FaceFeatureOptions o, string? fineTunedSha = null)
    {
        var b = new StringBuilder();
        b.Append(CultureInfo.InvariantCulture, $"v{FormatVersion};{o.Backbone};{FaceBackbone.Of(o.Backbone).Model.Sha256};{o.Enhancement}");
        if (o.Enhancement == FeatureEnhancement.FArMean)
            b.Append(CultureInfo.InvariantCulture, $";{o.SecondBackbone};{FaceBackbone.Of(o.SecondBackbone).Model.Sha256}");
        if (fineTunedSha != null) b.Append(CultureInfo.InvariantCulture, $";fine-tuned={fineTunedSha}");
        if (o.WholeCropInput) b.Append(";whole-crop");
        foreach (var c in o.Copies())
            b.Append(CultureInfo.InvariantCulture, $";{c.RotationDegrees:R},{c.Scale:R},{(c.Mirror ? 1 : 0)}");
        return b.ToString();
    }

    /// <summary>The entry key (64 hex characters) of a clip under <paramref name="settingsKey"/>.</summary>
    internal static string Key(ReadOnlySpan<byte> crops, ReadOnlySpan<float> mask, string settingsKey)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        h.AppendData(Encoding.UTF8.GetBytes(settingsKey));
        Span<byte> n = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(n, crops.Length);
        h.AppendData(n);
        h.AppendData(crops);
        BinaryPrimitives.WriteInt64LittleEndian(n, mask.Length);
        h.AppendData(n);
        foreach (var m in mask)
        {
            BinaryPrimitives.WriteSingleLittleEndian(n, m);
            h.AppendData(n[..4]);
        }
        return Convert.ToHexStringLower(h.GetHashAndReset());
    }

    /// <summary>The file of <paramref name="key"/>.</summary>
    public string PathOf(string key) => Path.Combine(Directory, key[..2], key + ".emlff");

    /// <summary>Reads an entry of <paramref name="expectedLength"/> floats; a damaged or wrong-length entry is deleted and reported as a miss.</summary>
    public bool TryRead(string key, int expectedLength, out float[] values)
    {
        values = [];
        var path = PathOf(key);
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            Interlocked.Increment(ref _misses);
            return false;
        }
        var headerLength = Magic.Length + 8;
        var payload = headerLength + expectedLength * 4;
        if (bytes.Length != payload + 32
            || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic)
            || BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(Magic.Length)) != FormatVersion
            || BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(Magic.Length + 4)) != expectedLength
            || !SHA256.HashData(bytes.AsSpan(0, payload)).AsSpan().SequenceEqual(bytes.AsSpan(payload, 32)))
        {
            Interlocked.Increment(ref _corrupt);
            Interlocked.Increment(ref _misses);
            try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            return false;
        }
        values = new float[expectedLength];
        var src = bytes.AsSpan(headerLength, expectedLength * 4);
        if (BitConverter.IsLittleEndian) src.CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
        else for (var i = 0; i < expectedLength; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(src[(i * 4)..]);
        Interlocked.Increment(ref _hits);
        return true;
    }

    /// <summary>Writes an entry atomically (temp file in the same folder, then rename over any existing entry).</summary>
    public void Write(string key, ReadOnlySpan<float> values)
    {
        var path = PathOf(key);
        var dir = Path.GetDirectoryName(path)!;
        System.IO.Directory.CreateDirectory(dir);
        var headerLength = Magic.Length + 8;
        var payload = headerLength + values.Length * 4;
        var bytes = new byte[payload + 32];
        Magic.CopyTo(bytes, 0);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(Magic.Length), FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(Magic.Length + 4), values.Length);
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(headerLength + i * 4), values[i]);
        SHA256.HashData(bytes.AsSpan(0, payload), bytes.AsSpan(payload, 32));
        var temp = Path.Combine(dir, $".{key}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                fs.Write(bytes);
                fs.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
