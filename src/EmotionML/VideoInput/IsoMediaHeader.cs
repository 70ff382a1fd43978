using System.Buffers.Binary;

namespace EmotionML.VideoInput;

/// <summary>
/// Reads what <see cref="MediaDecoder"/> needs to know of an MP4/MOV file (ISO base media file format) from its boxes,
/// in process, so that the common container costs no ffprobe run: duration (mvhd, mdhd, elst), the video and audio
/// tracks (hdlr), frame size (stsd, which tkhd must agree with), frame count and rate (stsz, stts) and the audio's
/// sample rate and channels (stsd).
/// </summary>
/// <remarks>
/// <para>The reader only answers when it is sure ffprobe would say the same; anything else returns null and the caller
/// runs ffprobe, which also gives every error of a broken file. Null is returned for: a file that does not start with
/// an ftyp box; a box that runs past the end of the file (a truncated file); sample data (stco/co64 + stsc + stsz) that
/// lies past the end of the file; fragmented files (mvex, moof); compressed headers (cmov); tracks other than one video
/// and one audio track (hint, timecode, text, a second video); external data references (dref); a display matrix that
/// is not the identity (rotation), or a tkhd size that differs from the sample entry's (pixel aspect, clean aperture);
/// codecs outside a short list; QuickTime version 1/2 sound descriptions (ffmpeg's own .mov with AAC); HE-AAC (SBR/PS,
/// whose decoder reports another rate); edit lists other than one plain edit (empty edits, several edits, rates other
/// than 1, a video edit that cuts displayed frames at either end); tables that disagree in their sample counts; a moov
/// larger than <see cref="MaxMoovBytes"/>.</para>
/// <para>The codec-level size (the H.264 SPS) is not parsed: it is taken to be the sample entry's, as muxers write it.
/// The sample rate and channels are informational (the decode resamples to 16 kHz mono whatever they are).</para>
/// </remarks>
internal static class IsoMediaHeader
{
    /// <summary>Largest moov box read in process (larger ones go to ffprobe).</summary>
    internal const int MaxMoovBytes = 16 << 20;

    private const int MaxTopLevelBoxes = 4096;

    // ffmpeg's stream index is the trak's position in moov; every trak becomes a stream.
    private static readonly HashSet<string> VideoCodecs = ["avc1", "avc3", "hvc1", "hev1", "mp4v", "vp08", "vp09", "av01", "jpeg", "mjpa"];
    private static readonly HashSet<string> AudioCodecs = ["mp4a", ".mp3", "ac-3", "ec-3", "Opus", "fLaC", "alac"];

    /// <summary>The media info of <paramref name="fullPath"/>, or null when ffprobe must be asked.</summary>
    public static MediaInfo? TryRead(string fullPath)
    {
        try
        {
            using var f = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
            return TryRead(f);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or OverflowException)
        {
            // Every read is bounds-checked above; should one still fail, the file goes to ffprobe rather than failing here.
            return null;
        }
    }

    /// <summary>The media info of the file open in <paramref name="f"/>, or null when unsure.</summary>
    internal static MediaInfo? TryRead(Stream f)
    {
        var length = f.Length;
        Span<byte> head = stackalloc byte[16];
        long pos = 0, moovAt = -1, moovSize = 0;
        var moovHeader = 0;
        for (var n = 0; pos < length; n++)
        {
            if (n >= MaxTopLevelBoxes || length - pos < 8) return null;
            f.Position = pos;
            var got = f.ReadAtLeast(head, 16, throwOnEndOfStream: false);
            if (got < 8) return null;
            long size = BinaryPrimitives.ReadUInt32BigEndian(head);
            var type = FourCC(head[4..8]);
            var header = 8;
            if (size == 1)
            {
                if (got < 16) return null;
                size = (long)BinaryPrimitives.ReadUInt64BigEndian(head[8..16]);
                header = 16;
            }
            else if (size == 0)
            {
                size = length - pos;
            }
            if (size < header || size > length - pos) return null; // truncated or nonsense
            if (n == 0 && type != "ftyp") return null;
            switch (type)
            {
                case "moov":
                    if (moovAt >= 0) return null;
                    (moovAt, moovSize, moovHeader) = (pos, size, header);
                    break;
                case "moof" or "mfra" or "sidx" or "styp":
                    return null;
            }
            pos += size;
        }
        if (moovAt < 0 || moovSize - moovHeader > MaxMoovBytes) return null;
        var moov = new byte[moovSize - moovHeader];
        f.Position = moovAt + moovHeader;
        f.ReadExactly(moov);
        return ParseMoov(moov, length);
    }

    private static MediaInfo? ParseMoov(ReadOnlySpan<byte> moov, long fileLength)
    {
        long movieScale = 0, movieDuration = 0;
        var traks = new List<Track>();
        var sawTrak = false;
        foreach (var (type, body) in Boxes(moov))
        {
            switch (type)
            {
                case null:
                    return null;
                case "mvhd":
                    if (!ReadTimes(body, out movieScale, out movieDuration)) return null;
                    break;
                case "trak":
                    sawTrak = true;
                    if (movieScale <= 0 || ParseTrak(body, fileLength, movieScale) is not { } t) return null;
                    traks.Add(t);
                    break;
                case "mvex" or "cmov":
                    return null;
                case "udta" or "meta":
                    // ffmpeg makes a stream of a cover picture where it finds it: before a trak it would shift the indices.
                    if (!sawTrak) return null;
                    break;
            }
        }
        if (movieScale <= 0 || traks.Count == 0) return null;
        var video = traks.Where(t => t.Handler == "vide").ToList();
        var audio = traks.Where(t => t.Handler == "soun").ToList();
        if (video.Count + audio.Count != traks.Count || video.Count > 1 || audio.Count > 1) return null;
        var v = video.FirstOrDefault();
        var a = audio.FirstOrDefault();
        var duration = (double)movieDuration / movieScale;
        if (v != null) duration = Math.Max(duration, v.Start + v.Duration);
        if (a != null) duration = Math.Max(duration, a.Start + a.Duration);
        var fps = v is { SampleCount: > 0, SampleDurationSum: > 0 } ? (double)v.SampleCount * v.TimeScale / v.SampleDurationSum : 0;
        if (!(fps > 0 && fps < 1000)) fps = 0;
        return new MediaInfo(v != null, v?.Width ?? 0, v?.Height ?? 0, fps, v?.SampleCount ?? 0, v?.Duration ?? 0,
            a != null, a?.SampleRate ?? 0, a?.Channels ?? 0, duration)
        {
            FrameCountExact = v != null,
            VideoStreamIndex = v == null ? 0 : traks.IndexOf(v),
            AudioStreamIndex = a == null ? 0 : traks.IndexOf(a),
            VideoStart = v?.Start ?? 0,
            AudioDuration = a?.Duration ?? 0,
            AudioDurationOwn = a != null,
            FormatName = "mov,mp4,m4a,3gp,3g2,mj2",
        };
    }

    private sealed class Track
    {
        public string Handler = "";
        public long TimeScale, MediaDuration;
        public int Width, Height, SampleRate, Channels;
        public long SampleCount, SampleDurationSum;
        public double Start, Duration;
    }

    private static Track? ParseTrak(ReadOnlySpan<byte> trak, long fileLength, long movieScale)
    {
        var t = new Track();
        ReadOnlySpan<byte> tkhd = default, elst = default, mdia = default;
        var hasEdts = false;
        foreach (var (type, body) in Boxes(trak))
        {
            switch (type)
            {
                case null: return null;
                case "tkhd": tkhd = body; break;
                case "mdia": mdia = body; break;
                case "edts":
                    if (hasEdts) return null;
                    hasEdts = true;
                    foreach (var (et, eb) in Boxes(body))
                    {
                        if (et == null) return null;
                        if (et == "elst") elst = eb;
                    }
                    break;
            }
        }
        if (tkhd.IsEmpty || mdia.IsEmpty) return null;
        ReadOnlySpan<byte> mdhd = default, hdlr = default, minf = default;
        foreach (var (type, body) in Boxes(mdia))
        {
            switch (type)
            {
                case null: return null;
                case "mdhd": mdhd = body; break;
                case "hdlr": hdlr = body; break;
                case "minf": minf = body; break;
            }
        }
        if (mdhd.IsEmpty || hdlr.Length < 12 || minf.IsEmpty) return null;
        if (!ReadTimes(mdhd, out t.TimeScale, out t.MediaDuration) || t.TimeScale <= 0) return null;
        t.Handler = FourCC(hdlr[8..12]);
        if (t.Handler is not ("vide" or "soun")) return null;
        ReadOnlySpan<byte> stbl = default, dinf = default;
        foreach (var (type, body) in Boxes(minf))
        {
            if (type == null) return null;
            if (type == "stbl") stbl = body;
            if (type == "dinf") dinf = body;
        }
        if (stbl.IsEmpty || !SelfContained(dinf)) return null;
        if (!ReadSampleTables(stbl, t, fileLength, out var minComposition)) return null;
        if (!ReadEdit(elst, t, minComposition, movieScale)) return null;
        if (t.Handler == "vide")
        {
            if (!CheckTkhd(tkhd, t.Width, t.Height)) return null;
            if (t.SampleCount <= 0) return null;
        }
        return t;
    }

    /// <summary>The times of an mvhd/mdhd: timescale and duration (version 0 or 1).</summary>
    private static bool ReadTimes(ReadOnlySpan<byte> b, out long scale, out long duration)
    {
        scale = duration = 0;
        if (b.Length < 4) return false;
        var version = b[0];
        if (version == 1)
        {
            if (b.Length < 32) return false;
            scale = BinaryPrimitives.ReadUInt32BigEndian(b[20..]);
            var d = BinaryPrimitives.ReadUInt64BigEndian(b[24..]);
            if (d == ulong.MaxValue || d > long.MaxValue) return false; // "unknown"
            duration = (long)d;
        }
        else if (version == 0)
        {
            if (b.Length < 20) return false;
            scale = BinaryPrimitives.ReadUInt32BigEndian(b[12..]);
            var d = BinaryPrimitives.ReadUInt32BigEndian(b[16..]);
            if (d == uint.MaxValue) return false;
            duration = d;
        }
        else
        {
            return false;
        }
        return scale > 0 && duration > 0;
    }

    /// <summary>Every data reference is "this file" (url/urn with the self-contained flag): ffmpeg opens no other file.</summary>
    private static bool SelfContained(ReadOnlySpan<byte> dinf)
    {
        if (dinf.IsEmpty) return false;
        foreach (var (type, body) in Boxes(dinf))
        {
            if (type == null) return false;
            if (type != "dref") continue;
            if (body.Length < 8) return false;
            var count = BinaryPrimitives.ReadUInt32BigEndian(body[4..]);
            var seen = 0;
            foreach (var (rt, rb) in Boxes(body[8..]))
            {
                if (rt is not ("url " or "urn ") || rb.Length < 4 || (rb[3] & 1) == 0) return false;
                seen++;
            }
            return seen == count && count >= 1;
        }
        return false;
    }

    /// <summary>tkhd: identity display matrix and the sample entry's size (16.16 fixed point, no fraction).</summary>
    private static bool CheckTkhd(ReadOnlySpan<byte> b, int width, int height)
    {
        if (b.Length < 4) return false;
        var matrixAt = b[0] switch { 0 => 40, 1 => 52, _ => -1 };
        if (matrixAt < 0 || b.Length < matrixAt + 36 + 8) return false;
        ReadOnlySpan<uint> identity = [0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000];
        for (var i = 0; i < 9; i++)
            if (BinaryPrimitives.ReadUInt32BigEndian(b[(matrixAt + 4 * i)..]) != identity[i]) return false;
        var w = BinaryPrimitives.ReadUInt32BigEndian(b[(matrixAt + 36)..]);
        var h = BinaryPrimitives.ReadUInt32BigEndian(b[(matrixAt + 40)..]);
        return w == (uint)width << 16 && h == (uint)height << 16;
    }

    private static bool ReadSampleTables(ReadOnlySpan<byte> stbl, Track t, long fileLength, out long minComposition)
    {
        minComposition = 0;
        ReadOnlySpan<byte> stsd = default, stts = default, ctts = default, stsc = default, stsz = default, stco = default;
        var co64 = false;
        foreach (var (type, body) in Boxes(stbl))
        {
            switch (type)
            {
                case null: return false;
                case "stsd": stsd = body; break;
                case "stts": stts = body; break;
                case "ctts": ctts = body; break;
                case "stsc": stsc = body; break;
                case "stsz": stsz = body; break;
                case "stco": stco = body; break;
                case "co64": stco = body; co64 = true; break;
                case "stz2": return false;
            }
        }
        if (stsd.Length < 8 || stts.Length < 8 || stsc.Length < 8 || stsz.Length < 12 || stco.Length < 8) return false;
        if (!ReadSampleEntry(stsd, t)) return false;

        // stsz: sample sizes.
        var constantSize = BinaryPrimitives.ReadUInt32BigEndian(stsz[4..]);
        var count = BinaryPrimitives.ReadUInt32BigEndian(stsz[8..]);
        if (count == 0 || count > 50_000_000) return false;
        if (constantSize == 0 && stsz.Length < 12 + 4L * count) return false;
        t.SampleCount = count;

        // stts: decoding durations; their count must be the sample count.
        var sttsEntries = BinaryPrimitives.ReadUInt32BigEndian(stts[4..]);
        if (stts.Length < 8 + 8L * sttsEntries) return false;
        long timed = 0, durationSum = 0;
        for (var i = 0; i < sttsEntries; i++)
        {
            var n = BinaryPrimitives.ReadUInt32BigEndian(stts[(8 + 8 * i)..]);
            var d = BinaryPrimitives.ReadUInt32BigEndian(stts[(12 + 8 * i)..]);
            if (d > int.MaxValue) return false; // a negative delta written unsigned
            timed += n;
            durationSum += (long)n * d;
        }
        if (timed != count || durationSum <= 0) return false;
        t.SampleDurationSum = durationSum;

        // ctts: composition offsets; the earliest presentation time is needed for the stream's start.
        if (!ctts.IsEmpty)
        {
            if (ctts.Length < 8 || ctts[0] > 1) return false;
            var entries = BinaryPrimitives.ReadUInt32BigEndian(ctts[4..]);
            if (ctts.Length < 8 + 8L * entries) return false;
            long sample = 0, dts = 0, min = long.MaxValue;
            var sttsIndex = 0;
            long sttsLeft = sttsEntries > 0 ? BinaryPrimitives.ReadUInt32BigEndian(stts[8..]) : 0;
            for (var i = 0; i < entries; i++)
            {
                var n = BinaryPrimitives.ReadUInt32BigEndian(ctts[(8 + 8 * i)..]);
                var raw = BinaryPrimitives.ReadUInt32BigEndian(ctts[(12 + 8 * i)..]);
                long offset = (int)raw; // signed in version 1; ffmpeg reads version 0 as signed too
                for (long k = 0; k < n; k++, sample++)
                {
                    if (sample >= count) return false;
                    min = Math.Min(min, dts + offset);
                    while (sttsLeft == 0)
                    {
                        if (++sttsIndex >= sttsEntries) return false;
                        sttsLeft = BinaryPrimitives.ReadUInt32BigEndian(stts[(8 + 8 * sttsIndex)..]);
                    }
                    dts += BinaryPrimitives.ReadUInt32BigEndian(stts[(12 + 8 * sttsIndex)..]);
                    sttsLeft--;
                }
            }
            if (sample != count) return false;
            minComposition = min;
        }

        // stsc + stco/co64 + stsz: every sample's bytes lie inside the file (a truncated file goes to ffprobe).
        var chunks = BinaryPrimitives.ReadUInt32BigEndian(stco[4..]);
        if (chunks == 0 || stco.Length < 8 + (co64 ? 8L : 4L) * chunks) return false;
        var stscEntries = BinaryPrimitives.ReadUInt32BigEndian(stsc[4..]);
        if (stscEntries == 0 || stsc.Length < 8 + 12L * stscEntries) return false;
        long sampleIndex = 0;
        for (var e = 0; e < stscEntries; e++)
        {
            var first = BinaryPrimitives.ReadUInt32BigEndian(stsc[(8 + 12 * e)..]);
            var perChunk = BinaryPrimitives.ReadUInt32BigEndian(stsc[(12 + 12 * e)..]);
            var next = e + 1 < stscEntries ? BinaryPrimitives.ReadUInt32BigEndian(stsc[(20 + 12 * e)..]) : chunks + 1;
            if (first < 1 || next <= first || next > chunks + 1 || perChunk == 0 || (e == 0 && first != 1)) return false;
            for (var c = first; c < next; c++)
            {
                var offset = co64 ? (long)BinaryPrimitives.ReadUInt64BigEndian(stco[(int)(8 + 8 * (c - 1))..]) : BinaryPrimitives.ReadUInt32BigEndian(stco[(int)(8 + 4 * (c - 1))..]);
                if (offset < 0) return false;
                long bytes;
                if (sampleIndex + perChunk > count) return false;
                if (constantSize != 0)
                {
                    bytes = (long)constantSize * perChunk;
                }
                else
                {
                    bytes = 0;
                    for (var s = 0; s < perChunk; s++)
                        bytes += BinaryPrimitives.ReadUInt32BigEndian(stsz[(int)(12 + 4 * (sampleIndex + s))..]);
                }
                sampleIndex += perChunk;
                if (offset + bytes > fileLength) return false;
            }
        }
        return sampleIndex == count;
    }

    /// <summary>stsd: one sample entry of a known codec; its frame size or its rate and channels.</summary>
    private static bool ReadSampleEntry(ReadOnlySpan<byte> stsd, Track t)
    {
        if (BinaryPrimitives.ReadUInt32BigEndian(stsd[4..]) != 1) return false;
        var entries = stsd[8..];
        if (entries.Length < 8) return false;
        var size = BinaryPrimitives.ReadUInt32BigEndian(entries);
        if (size < 8 || size > entries.Length) return false;
        var entry = entries[..(int)size];
        var codec = FourCC(entry[4..8]);
        if (t.Handler == "vide")
        {
            if (!VideoCodecs.Contains(codec) || entry.Length < 36) return false;
            t.Width = BinaryPrimitives.ReadUInt16BigEndian(entry[32..]);
            t.Height = BinaryPrimitives.ReadUInt16BigEndian(entry[34..]);
            return t.Width > 0 && t.Height > 0;
        }
        if (!AudioCodecs.Contains(codec) || entry.Length < 36) return false;
        // Sound sample entry: version at 16 (QuickTime versions 1 and 2 lay the rest out differently), channels at 24,
        // rate (16.16) at 32.
        if (BinaryPrimitives.ReadUInt16BigEndian(entry[16..]) != 0) return false;
        t.Channels = BinaryPrimitives.ReadUInt16BigEndian(entry[24..]);
        t.SampleRate = (int)(BinaryPrimitives.ReadUInt32BigEndian(entry[32..]) >> 16);
        // MPEG-4 audio: the sample entry's channel count is a placeholder (2); the decoder configuration (esds) says.
        if (codec == "mp4a" && !ReadEsds(entry[36..], t)) return false;
        return t.Channels > 0 && t.SampleRate > 0;
    }

    private static readonly int[] AacRates = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

    /// <summary>
    /// The esds of an mp4a entry: MP3 keeps the sample entry's values; AAC takes rate and channels from its
    /// AudioSpecificConfig. SBR/PS (HE-AAC, whose decoder doubles the rate) and anything unusual: unsure.
    /// </summary>
    private static bool ReadEsds(ReadOnlySpan<byte> children, Track t)
    {
        foreach (var (type, body) in Boxes(children))
        {
            if (type == null) return false;
            if (type != "esds" || body.Length < 4) continue;
            var d = body[4..];
            if (!Descriptor(ref d, 3, out var es) || es.Length < 3) return false;
            var flags = es[2];
            var skip = 3 + ((flags & 0x80) != 0 ? 2 : 0) + ((flags & 0x20) != 0 ? 2 : 0);
            if ((flags & 0x40) != 0) return false; // URL flag: not from ffmpeg's muxer
            if (es.Length < skip) return false;
            es = es[skip..];
            if (!Descriptor(ref es, 4, out var config) || config.Length < 13) return false;
            var objectType = config[0];
            if (objectType is 0x69 or 0x6B) return true; // MP3
            if (objectType is not (0x40 or 0x66 or 0x67)) return false;
            var rest = config[13..];
            if (!Descriptor(ref rest, 5, out var asc) || asc.Length < 2) return false;
            var aot = asc[0] >> 3;
            var rateIndex = ((asc[0] & 7) << 1) | (asc[1] >> 7);
            var channels = (asc[1] >> 3) & 15;
            if (aot is 0 or 5 or 29 or 31 || rateIndex >= AacRates.Length || channels is 0 or > 7) return false;
            t.SampleRate = AacRates[rateIndex];
            t.Channels = channels == 7 ? 8 : channels;
            return true;
        }
        return false;
    }

    /// <summary>Reads one MPEG-4 descriptor of the given tag from the start of <paramref name="d"/> (and moves past it).</summary>
    private static bool Descriptor(ref ReadOnlySpan<byte> d, int tag, out ReadOnlySpan<byte> body)
    {
        body = default;
        if (d.Length < 2 || d[0] != tag) return false;
        int length = 0, i = 1;
        for (; i <= 4; i++)
        {
            if (i >= d.Length) return false;
            length = (length << 7) | (d[i] & 0x7F);
            if ((d[i] & 0x80) == 0) break;
        }
        if (i > 4) return false;
        var start = i + 1;
        if (length > d.Length - start) return false;
        body = d.Slice(start, length);
        d = d[(start + length)..];
        return true;
    }

    /// <summary>
    /// The track's start and duration as ffmpeg reports them. Without an edit list: start 0 (no composition offsets),
    /// duration = the media's. With one plain edit (media time M ≥ 0, rate 1, segment S in movie units): what comes
    /// before M is cut (audio priming, B-frame delay), a video frame's time is its presentation time − M, and the duration
    /// is the media's, or S when shorter. A video edit that cuts displayed frames, an empty edit (a delay) or several
    /// edits: ffprobe knows better.
    /// </summary>
    private static bool ReadEdit(ReadOnlySpan<byte> elst, Track t, long minComposition, long movieScale)
    {
        var media = Math.Min(t.MediaDuration, t.SampleDurationSum);
        var video = t.Handler == "vide";
        if (elst.IsEmpty)
        {
            if (video && minComposition != 0) return false;
            t.Start = 0;
            t.Duration = (double)media / t.TimeScale;
            return true;
        }
        if (elst.Length < 8 || elst[0] > 1) return false;
        if (BinaryPrimitives.ReadUInt32BigEndian(elst[4..]) != 1) return false;
        long mediaTime, segment;
        int rateAt;
        if (elst[0] == 1)
        {
            if (elst.Length < 8 + 20) return false;
            var s = BinaryPrimitives.ReadUInt64BigEndian(elst[8..]);
            if (s > int.MaxValue) return false;
            segment = (long)s;
            mediaTime = BinaryPrimitives.ReadInt64BigEndian(elst[16..]);
            rateAt = 24;
        }
        else
        {
            if (elst.Length < 8 + 12) return false;
            segment = BinaryPrimitives.ReadUInt32BigEndian(elst[8..]);
            mediaTime = BinaryPrimitives.ReadInt32BigEndian(elst[12..]);
            rateAt = 16;
        }
        if (BinaryPrimitives.ReadUInt32BigEndian(elst[rateAt..]) != 0x10000) return false;
        if (mediaTime < 0 || segment <= 0 || mediaTime >= media) return false;
        if (video && minComposition < mediaTime) return false;
        t.Start = video ? (double)(minComposition - mediaTime) / t.TimeScale : 0;
        // ffmpeg rescales the segment to the media's timescale (rounding to nearest) and keeps the shorter duration.
        var segmentInMedia = (long)Math.Round((double)segment * t.TimeScale / movieScale, MidpointRounding.AwayFromZero);
        // A video edit that ends before the last frame drops frames from the count: ffprobe knows better.
        if (video && segmentInMedia < media - mediaTime) return false;
        t.Duration = (double)Math.Min(media, segmentInMedia) / t.TimeScale;
        return true;
    }

    private static string FourCC(ReadOnlySpan<byte> b)
        => string.Create(4, (b[0], b[1], b[2], b[3]), static (s, v) => { s[0] = (char)v.Item1; s[1] = (char)v.Item2; s[2] = (char)v.Item3; s[3] = (char)v.Item4; });

    /// <summary>The child boxes of a box body; a box that does not fit gives (null, empty) and ends the walk.</summary>
    private static BoxEnumerator Boxes(ReadOnlySpan<byte> body) => new(body);

    /// <summary>A child box: its type (null: it does not fit in its parent) and its body.</summary>
    private readonly ref struct Box(string? type, ReadOnlySpan<byte> body)
    {
        public string? Type { get; } = type;

        public ReadOnlySpan<byte> Body { get; } = body;

        public void Deconstruct(out string? type, out ReadOnlySpan<byte> body)
        {
            type = Type;
            body = Body;
        }
    }

    private ref struct BoxEnumerator(ReadOnlySpan<byte> body)
    {
        private ReadOnlySpan<byte> _rest = body;
        private bool _failed;

        public Box Current { get; private set; }

        public readonly BoxEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            if (_failed || _rest.IsEmpty) return false;
            // Some muxers end a container with 4 zero bytes (a QuickTime terminator).
            if (_rest.Length < 8)
            {
                if (_rest.Length == 4 && BinaryPrimitives.ReadUInt32BigEndian(_rest) == 0) return false;
                return Fail();
            }
            long size = BinaryPrimitives.ReadUInt32BigEndian(_rest);
            var header = 8;
            if (size == 1)
            {
                if (_rest.Length < 16) return Fail();
                var large = BinaryPrimitives.ReadUInt64BigEndian(_rest[8..]);
                if (large > int.MaxValue) return Fail();
                size = (long)large;
                header = 16;
            }
            else if (size == 0)
            {
                size = _rest.Length;
            }
            if (size < header || size > _rest.Length) return Fail();
            Current = new Box(FourCC(_rest[4..8]), _rest[header..(int)size]);
            _rest = _rest[(int)size..];
            return true;
        }

        private bool Fail()
        {
            _failed = true;
            Current = new Box(null, default);
            return true;
        }
    }
}
