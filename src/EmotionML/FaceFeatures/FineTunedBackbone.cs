using System.Security.Cryptography;
using Onnx;

namespace EmotionML.FaceFeatures;

/// <summary>
/// How a backbone file is checked. A shipped file must have its manifest sha256. A fine-tuned file (written by
/// EmotionML.Training's face-backbone trainer: the shipped graph with retrained initializers) has another sha256 by
/// construction, so it is accepted when it says what it was derived from and keeps the shipped graph's interface: metadata
/// <c>emotionml.base_sha256</c> equal to the shipped model's sha256, the same input name, and the feature tensor still
/// computed. Its own sha256 goes into the feature-cache key, so its features never mix with the shipped model's.
/// </summary>
internal static class FineTunedBackbone
{
    /// <summary>The metadata key naming the sha256 of the graph the weights were written into.</summary>
    public const string BaseShaKey = "emotionml.base_sha256";

    /// <summary>Reads and checks the backbone file: <paramref name="path"/> when given (shipped or fine-tuned), else the shipped one.</summary>
    public static byte[] Load(FaceBackbone backbone, string? path)
    {
        if (path == null) return File.ReadAllBytes(backbone.Model.Resolve());
        var full = Path.GetFullPath(path);
        if (!File.Exists(full)) return File.ReadAllBytes(backbone.Model.Resolve(path)); // the usual not-found message
        var bytes = File.ReadAllBytes(full);
        Check(bytes, backbone, full);
        return bytes;
    }

    /// <summary>The sha256 of a fine-tuned file, or null for the shipped file. Throws <see cref="ModelFileException"/> for anything else.</summary>
    public static string? Check(byte[] bytes, FaceBackbone backbone, string what)
    {
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (sha == backbone.Model.Sha256) return null;
        ModelProto model;
        try { model = ModelProto.Parser.ParseFrom(bytes); }
        catch (Google.Protobuf.InvalidProtocolBufferException e)
        {
            throw new ModelFileException(what, $"{backbone.Kind} backbone has sha256 {sha}, expected {backbone.Model.Sha256}, and is not an ONNX file ({e.Message}).", [what]);
        }
        var baseSha = model.MetadataProps.FirstOrDefault(p => p.Key == BaseShaKey)?.Value;
        if (baseSha != backbone.Model.Sha256)
            throw new ModelFileException(what, $"{backbone.Kind} backbone has sha256 {sha}, expected {backbone.Model.Sha256}; a fine-tuned file must carry metadata {BaseShaKey}={backbone.Model.Sha256} (it has {baseSha ?? "none"}): it is not the file EmotionML was built for, nor one fine-tuned from it.", [what]);
        var graph = model.Graph;
        if (graph.Input.All(i => i.Name != backbone.InputName) || graph.Node.All(n => !n.Output.Contains(backbone.FeatureTensor)))
            throw new ModelFileException(what, $"fine-tuned {backbone.Kind} backbone lacks input '{backbone.InputName}' or feature tensor '{backbone.FeatureTensor}'.", [what]);
        return sha;
    }
}
