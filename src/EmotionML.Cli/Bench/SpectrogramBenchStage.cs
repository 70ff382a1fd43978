using EmotionML.Spectrogram;

namespace EmotionML.Cli.Bench;

/// <summary>Speech spectrogram (NWaves STFT, 200 bins) vs a textbook radix-2 FFT, via <see cref="SpectrogramBenchmark.Run"/>.</summary>
internal sealed class SpectrogramBenchStage : IBenchStage
{
    private const double AudioSeconds = 60;

    public string Name => "spectrogram";
    public string Description => "speech spectrogram (40 ms Hamming, 10 ms hop, 200 bins) of 60 s of audio vs a textbook double-precision radix-2 FFT of the same frames";
    public bool Implemented => true;
    public int Steps(BenchContext context) => 1;

    public IReadOnlyList<BenchRow> Run(BenchContext context, Action<string?> step)
    {
        var r = SpectrogramBenchmark.Run(AudioSeconds, Math.Max(3, context.Repeat));
        step(null);
        return
        [
            new BenchRow(Name, "audio s per s (60 s noise, 16 kHz)", BenchContext.F(r.StageSecondsPerSecond, "0"),
                "radix-2 FFT per frame (double)", BenchContext.F(r.BaselineSecondsPerSecond, "0") + " audio s/s",
                r.BaselineSecondsPerSecond / r.StageSecondsPerSecond, $"best of {Math.Max(3, context.Repeat)}"),
        ];
    }
}
