using System.Buffers.Binary;
using System.Text;

namespace EmotionML.BuildTools;

/// <summary>
/// TorchSharp 0.107.0's <c>libLibTorchSharp.so</c> declares a need for <c>GLIBCXX_3.4.32</c> (only for a symbol it never
/// calls); Debian 12's libstdc++ stops at 3.4.30, so the loader refuses it. Setting <c>VER_FLG_WEAK</c> on that
/// version-need entry in <c>.gnu.version_r</c> turns the hard failure into a warning-free load. Idempotent.
/// </summary>
internal static class GlibcxxWeakener
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    public static int Run(string[] files)
    {
        var failed = 0;
        foreach (var file in files)
        {
            try
            {
                var changed = Weaken(file, v => v.StartsWith("GLIBCXX_3.4.3", StringComparison.Ordinal) && v != "GLIBCXX_3.4.30");
                Console.WriteLine($"{file}: {(changed > 0 ? $"weakened {changed} version need(s)" : "nothing to change")}");
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"{file}: {e.Message}");
                failed++;
            }
        }
        return failed == 0 ? 0 : 1;
    }

    /// <summary>Marks matching version needs weak; returns how many entries were changed.</summary>
    public static int Weaken(string path, Func<string, bool> matches)
    {
        var bytes = File.ReadAllBytes(path);
        var span = bytes.AsSpan();
        if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (bytes[4] != 2 || bytes[5] != 1) throw new InvalidDataException("only 64-bit little-endian ELF is supported");
        var shoff = (long)BinaryPrimitives.ReadUInt64LittleEndian(span[0x28..]);
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3A..]);
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3C..]);
        var changed = 0;
        for (var i = 0; i < shnum; i++)
        {
            var sh = span.Slice((int)(shoff + i * shentsize), shentsize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(sh[4..]) != ShtGnuVerneed) continue;
            var offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(sh[0x18..]);
            var link = BinaryPrimitives.ReadUInt32LittleEndian(sh[0x28..]);
            var strSh = span.Slice((int)(shoff + link * shentsize), shentsize);
            var strOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(strSh[0x18..]);
            var vn = offset;
            while (true)
            {
                int cnt = BinaryPrimitives.ReadUInt16LittleEndian(span[(int)(vn + 2)..]);
                var aux = BinaryPrimitives.ReadUInt32LittleEndian(span[(int)(vn + 8)..]);
                var next = BinaryPrimitives.ReadUInt32LittleEndian(span[(int)(vn + 12)..]);
                var va = vn + aux;
                for (var j = 0; j < cnt; j++)
                {
                    var flags = BinaryPrimitives.ReadUInt16LittleEndian(span[(int)(va + 4)..]);
                    var name = ReadString(bytes, strOffset + BinaryPrimitives.ReadUInt32LittleEndian(span[(int)(va + 8)..]));
                    if (matches(name) && (flags & VerFlgWeak) == 0)
                    {
                        BinaryPrimitives.WriteUInt16LittleEndian(span[(int)(va + 4)..], (ushort)(flags | VerFlgWeak));
                        changed++;
                    }
                    var vnaNext = BinaryPrimitives.ReadUInt32LittleEndian(span[(int)(va + 12)..]);
                    if (vnaNext == 0) break;
                    va += vnaNext;
                }
                if (next == 0) break;
                vn += next;
            }
        }
        if (changed > 0)
        {
            var temp = path + ".tmp";
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, path, overwrite: true);
        }
        return changed;
    }

    private static string ReadString(byte[] bytes, long offset)
    {
        var end = (int)offset;
        while (bytes[end] != 0) end++;
        return Encoding.ASCII.GetString(bytes, (int)offset, end - (int)offset);
    }
}
