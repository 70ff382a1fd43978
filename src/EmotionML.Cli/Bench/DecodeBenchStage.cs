using System.Diagnostics;
using EmotionML.VideoInput;
using Microsoft.ML;

namespace EmotionML.Cli.Bench;

/// <summary>Video input (ffmpeg: probe + 16 sampled frames + 16 kHz audio) vs a plain full <c>ffmpeg -i clip -f null -</c>.</summary>
internal sealed class DecodeBenchStage : IBenchStage
{
    public string Name => "decode";
    public string Description => "video input (16 frames + 16 kHz mono audio per clip, as the VideoInput stage decodes them) vs 'ffmpeg -i clip -f null -' full decode of the same clips";
    public bool Implemented => true;
    public int Steps(BenchContext context) => context.Clips.Count * context.Repeat;

    public IReadOnlyList<BenchRow> Run(BenchContext context, Action<string?> step)
    {
        var video = new VideoInputTransformer(new MLContext(seed: 0), new VideoInputOptions { FrameCount = 16 });
        // Warm-up: the first ffmpeg start pays for loading the binaries from disk.
        video.Decode(context.Clips[0]);
        FullDecode(context.Clips[0]);
        double bestStage = double.MaxValue, bestBase = double.MaxValue;
        for (var r = 0; r < context.Repeat; r++)
        {
            double stage = 0, baseline = 0;
            foreach (var clip in context.Clips)
            {
                // Alternate stage and baseline clip by clip so that load from other users of the machine hits both alike.
                var sw = Stopwatch.StartNew();
                video.Decode(clip);
                stage += sw.Elapsed.TotalSeconds;
                sw.Restart();
                FullDecode(clip);
                baseline += sw.Elapsed.TotalSeconds;
                step(Path.GetFileName(clip));
            }
            bestStage = Math.Min(bestStage, stage);
            bestBase = Math.Min(bestBase, baseline);
        }
        var n = context.Clips.Count;
        return
        [
            new BenchRow(Name, "clips/s (probe + 16 frames + audio)", BenchContext.F(n / bestStage),
                "ffmpeg -i clip -f null - (full decode)", BenchContext.F(n / bestBase) + " clips/s", bestStage / bestBase,
                $"{n} clips, best of {context.Repeat}; {BenchContext.F(1000 * bestStage / n, "0")} vs {BenchContext.F(1000 * bestBase / n, "0")} ms/clip"),
        ];
    }

    /// <summary>Full decode of every stream with ffmpeg, output discarded.</summary>
    internal static void FullDecode(string clip)
    {
        var psi = new ProcessStartInfo(MediaDecoder.FfmpegPath) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-nostdin", "-v", "error", "-i", clip, "-f", "null", "-" }) psi.ArgumentList.Add(a);
        Process p;
        try
        {
            p = Process.Start(psi) ?? throw new InvalidOperationException("Process.Start returned null");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new MediaFileException(clip, MediaProblem.DecoderUnavailable, e.Message, e);
        }
        using (p)
        {
            var err = p.StandardError.ReadToEndAsync();
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new MediaFileException(clip, MediaProblem.Corrupt, err.Result.Trim());
        }
    }
}
