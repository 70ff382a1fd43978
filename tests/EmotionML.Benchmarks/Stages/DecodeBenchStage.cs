using System.Diagnostics;
using EmotionML.VideoInput;
using Microsoft.ML;

namespace EmotionML.Benchmarks.Stages;

/// <summary>
/// Video input (the VideoInput stage's decode: 16 sampled frames + 16 kHz audio; MP4 headers read in process) vs a plain
/// full <c>ffmpeg -i clip -f null -</c>; and the same decode with the headers read by ffprobe.
/// </summary>
internal sealed class DecodeBenchStage : IBenchStage
{
    public string Name => "decode";
    public string Description => "video input (16 frames + 16 kHz mono audio per clip, as the VideoInput stage decodes them) vs 'ffmpeg -i clip -f null -', a full decode of the same clips";
    public int Steps(BenchContext context) => context.Clips.Count * context.Repeat;

    public IReadOnlyList<BenchRow> Run(BenchContext context, Action<string?> step)
    {
        var options = new VideoInputOptions { FrameCount = 16 };
        var video = new VideoInputTransformer(new MLContext(seed: 0), options);
        // The same decode with the headers read by an ffprobe run, as for containers other than MP4/MOV.
        var probed = new MediaDecoder(options) { ReadHeaders = false };
        var best = Timing.BestOf(context.Repeat, context.Clips, [c => video.Decode(c), FullDecode, c => video.Decode(c, probed)], c => step(Path.GetFileName(c)));
        var n = context.Clips.Count;
        return
        [
            new BenchRow(Name, "clips/s (probe + 16 frames + audio)", BenchContext.F(n / best[0]),
                "ffmpeg -i clip -f null - (full decode)", BenchContext.F(n / best[1]) + " clips/s", best[1] / best[0],
                $"{n} clips, best of {context.Repeat}; {BenchContext.F(1000 * best[0] / n, "0")} vs {BenchContext.F(1000 * best[1] / n, "0")} ms/clip")
            { Headline = true, Goal = "≥ 0.77 (decode ≤ 1.3× a full decode)" },
            new BenchRow(Name, "clips/s, headers by an ffprobe run (containers other than MP4/MOV)", BenchContext.F(n / best[2]),
                "ffmpeg -i clip -f null - (full decode)", BenchContext.F(n / best[1]) + " clips/s", best[1] / best[2],
                $"the same decode with MediaDecoder.ReadHeaders = false (one ffprobe + one ffmpeg run); {BenchContext.F(1000 * best[2] / n, "0")} ms/clip"),
        ];
    }

    /// <summary>Full decode of every stream with ffmpeg, output discarded.</summary>
    internal static void FullDecode(string clip)
    {
        var psi = new ProcessStartInfo(MediaDecoder.FfmpegPath) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-nostdin", "-v", "error", "-i", clip, "-f", "null", "-" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new MediaFileException(clip, MediaProblem.DecoderUnavailable, "Process.Start returned null");
        var err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new MediaFileException(clip, MediaProblem.Corrupt, err.Result.Trim());
    }
}
