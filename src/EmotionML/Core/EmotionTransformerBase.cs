using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace EmotionML.Core;

/// <summary>
/// Base of every EmotionML transformer: a row-to-row stage that adds columns to its input, composes in
/// <see cref="TransformerChain{TLastTransformer}"/>, works with prediction engines, and saves into ML.NET model zips.
/// </summary>
public abstract class EmotionTransformerBase : ITransformer
{
    private protected EmotionTransformerBase(IHostEnvironment env, string name)
    {
        Host = (env ?? throw new ArgumentNullException(nameof(env))).Register(name);
    }

    private protected IHost Host { get; }

    bool ITransformer.IsRowToRowMapper => true;

    /// <summary>The schema <see cref="Transform"/> produces from <paramref name="inputSchema"/>; throws if a needed input column is missing or mistyped.</summary>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => Bind(inputSchema).BuildOutputSchema();

    /// <summary>Adds this stage's columns to <paramref name="input"/>. Values are computed lazily as rows are read.</summary>
    public IDataView Transform(IDataView input) => new MappedDataView(input, Bind(input.Schema));

    IRowToRowMapper ITransformer.GetRowToRowMapper(DataViewSchema inputSchema) => new MappedRowToRowMapper(Bind(inputSchema));

    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        ctx.CheckAtModel();
        Save(ctx);
    }

    private protected abstract BoundMapper Bind(DataViewSchema inputSchema);

    private protected abstract void Save(ModelSaveContext ctx);
}

/// <summary>Versioned save format helpers shared by every stage (one place for the ML.NET model-file plumbing).</summary>
internal static class ModelFormat
{
    private static readonly JsonSerializerOptions Json = new() { IncludeFields = false, WriteIndented = false };

    /// <summary>Creates the version info of a stage. <paramref name="signature"/> is exactly 8 ASCII characters.</summary>
    public static VersionInfo Version(string signature, uint version, string loaderSignature, Type type)
    {
        if (signature.Length != 8) throw new ArgumentException("model signature must have 8 characters", nameof(signature));
        return new VersionInfo(
            modelSignature: signature,
            verWrittenCur: version,
            verReadableCur: version,
            verWeCanReadBack: version,
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
        catch (Exception e) when (e is JsonException or EndOfStreamException or IOException)
        {
            throw new ModelFormatException($"Model component '{stageName}' has unreadable options: {e.Message}", e);
        }
    }

    public static void WriteBlob(ModelSaveContext ctx, string name, byte[] bytes)
        => ctx.SaveBinaryStream(name, w => { w.Write(bytes.Length); w.Write(bytes); });

    public static byte[] ReadBlob(ModelLoadContext ctx, string name, string stageName)
    {
        byte[]? bytes = null;
        if (!ctx.TryLoadBinaryStream(name, r => { var n = r.ReadInt32(); bytes = r.ReadBytes(n); if (bytes.Length != n) throw new EndOfStreamException(); }))
            throw new ModelFormatException($"Model component '{stageName}' is missing its '{name}' entry: the zip is incomplete.");
        return bytes!;
    }
}
