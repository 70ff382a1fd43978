using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace EmotionML.Core;

/// <summary>
/// Versioned save format shared by every stage (one place for the ML.NET model-file plumbing).
/// </summary>
/// <remarks>
/// Each stage declares three versions next to its <c>Save</c>: the one it writes, the oldest reader that can read what
/// it writes (readable), and the oldest file it reads back. Options are stored as JSON with enums by name, so that
/// reordering or adding enum members never changes what an old file means; deployment settings (execution device,
/// threads, caches, model search paths) are <c>[JsonIgnore]</c> and never saved.
/// Version history shared by every stage: 0x00010001 first format (enums by number, execution settings stored);
/// 0x00010002 enums by name, no deployment settings. 0x00010001 files are still read (numbers are accepted for enums,
/// stored execution settings are ignored).
/// </remarks>
internal static class ModelFormat
{
    /// <summary>The first format; still read back.</summary>
    public const uint V1 = 0x00010001;

    /// <summary>Enums by name; no deployment settings.</summary>
    public const uint V2 = 0x00010002;

    private static readonly JsonSerializerOptions Json = new()
    {
        IncludeFields = false,
        WriteIndented = false,
        // By name when written; numbers (0x00010001 files) are still accepted when read.
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Creates the version info of a stage. <paramref name="signature"/> is exactly 8 ASCII characters.</summary>
    public static VersionInfo Version(string signature, uint written, uint readable, uint readBack, string loaderSignature, Type type)
    {
        if (signature.Length != 8) throw new ArgumentException("model signature must have 8 characters", nameof(signature));
        return new VersionInfo(
            modelSignature: signature,
            verWrittenCur: written,
            verReadableCur: readable,
            verWeCanReadBack: readBack,
            loaderSignature: loaderSignature,
            loaderAssemblyName: type.Assembly.FullName);
    }

    /// <summary>Checks that the stored component was written by a version this build reads, with a clear error if not.</summary>
    public static void CheckVersion(ModelLoadContext ctx, VersionInfo expected, string stageName)
    {
        var header = ctx.Header;
        var written = header.ModelVerWritten;
        var readable = header.ModelVerReadable;
        var signature = SignatureString(header.ModelSignature);
        if (header.ModelSignature != expected.ModelSignature)
            throw new ModelFormatException($"Model component '{stageName}' has signature '{signature}', expected '{SignatureString(expected.ModelSignature)}': the zip is not an EmotionML model of this kind.");
        if (readable > expected.VerWrittenCur)
            throw new ModelFormatException($"Model component '{stageName}' was written in format 0x{written:X8} by a newer EmotionML; this build reads up to 0x{expected.VerWrittenCur:X8}. Upgrade EmotionML or retrain.");
        if (written < expected.VerWeCanReadBack)
            throw new ModelFormatException($"Model component '{stageName}' was written in format 0x{written:X8} by an older EmotionML; this build reads 0x{expected.VerWeCanReadBack:X8} and later. Retrain and save the model again.");
        ctx.CheckAtModel(expected);
    }

    /// <summary>
    /// The options-loading path of every stage: version check, read the JSON options, validate them. Any problem is a
    /// <see cref="ModelFormatException"/> naming the stage.
    /// </summary>
    public static T LoadOptions<T>(ModelLoadContext ctx, VersionInfo expected, string stageName, Action<T> validate)
    {
        CheckVersion(ctx, expected, stageName);
        return Validated(ReadOptions<T>(ctx, stageName), stageName, validate);
    }

    /// <summary>Runs <paramref name="validate"/> on a value read from a zip, turning its complaint into a <see cref="ModelFormatException"/>.</summary>
    public static T Validated<T>(T value, string stageName, Action<T> validate)
    {
        try
        {
            validate(value);
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException($"Model component '{stageName}' has invalid options: {e.Message}", e);
        }
        return value;
    }

    private static string SignatureString(ulong value)
    {
        Span<char> chars = stackalloc char[8];
        for (var i = 0; i < 8; i++) chars[i] = (char)((value >> (8 * i)) & 0xFF);
        return new string(chars);
    }

    public static void WriteOptions<T>(ModelSaveContext ctx, T options) => ctx.Writer.Write(JsonSerializer.Serialize(options, Json));

    public static T ReadOptions<T>(ModelLoadContext ctx, string stageName)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(ctx.Reader.ReadString(), Json)
                ?? throw new ModelFormatException($"Model component '{stageName}' has empty options.");
        }
        catch (Exception e) when (e is JsonException or EndOfStreamException or IOException or NotSupportedException)
        {
            throw new ModelFormatException($"Model component '{stageName}' has unreadable options: {e.Message}", e);
        }
    }

    public static void WriteBlob(ModelSaveContext ctx, string name, byte[] bytes)
        => ctx.SaveBinaryStream(name, w => { w.Write(bytes.Length); w.Write(bytes); });

    /// <summary>
    /// The layout of a stage that runs one ONNX graph: <paramref name="options"/> and <paramref name="shape"/> as JSON,
    /// then the graph's bytes as the stream <paramref name="blobName"/>. Read back with <see cref="ReadGraphStage"/>.
    /// </summary>
    public static void WriteGraphStage<TOptions, TShape>(ModelSaveContext ctx, VersionInfo version, TOptions options, TShape shape, string blobName, byte[] onnx)
    {
        ctx.SetVersionInfo(version);
        WriteOptions(ctx, options);
        WriteOptions(ctx, shape);
        WriteBlob(ctx, blobName, onnx);
    }

    /// <summary>Reads what <see cref="WriteGraphStage"/> wrote: version check, options and shape read and validated, the graph's bytes.</summary>
    public static (TOptions Options, TShape Shape, byte[] Onnx) ReadGraphStage<TOptions, TShape>(ModelLoadContext ctx, VersionInfo expected, string stageName,
        string blobName, Action<TOptions> validateOptions, Action<TShape> validateShape)
    {
        var options = LoadOptions(ctx, expected, stageName, validateOptions);
        var shape = Validated(ReadOptions<TShape>(ctx, stageName), stageName, validateShape);
        return (options, shape, ReadBlob(ctx, blobName, stageName));
    }

    public static byte[] ReadBlob(ModelLoadContext ctx, string name, string stageName)
    {
        byte[]? bytes = null;
        if (!ctx.TryLoadBinaryStream(name, r => { var n = r.ReadInt32(); bytes = r.ReadBytes(n); if (bytes.Length != n) throw new EndOfStreamException(); }))
            throw new ModelFormatException($"Model component '{stageName}' is missing its '{name}' entry: the zip is incomplete.");
        return bytes!;
    }
}
