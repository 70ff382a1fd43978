using EmotionML.Spectrogram;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Xunit;
using Xunit.Abstractions;

namespace EmotionML.Tests.Spectrogram;

/// <summary>The speech spectrogram's <see cref="SpeechSpectrogramOptions.TrimSilence"/> (Silero VAD v5).</summary>
public sealed class SilenceTrimTests(ITestOutputHelper output)
{
    private sealed class AudioRow
    {
        public float[] Audio { get; set; } = [];
    }

    private static readonly string[] Files = File.ReadLines(TestData.Ravdess("labels.csv")).Skip(1).Select(l => l.Split(',')[0]).Take(3).ToArray();

    private static SileroVad Vad()
        => new(new InferenceSession(File.ReadAllBytes(ModelFiles.SileroVad.Resolve())), new RunOptions());

    /// <summary>Independent reference: the first and last 10 ms frame whose energy is within 35 dB of the clip's loudest.</summary>
    private static (double Start, double End) EnergySpan(float[] audio)
    {
        var frames = audio.Length / 160;
        var db = Enumerable.Range(0, frames).Select(f => 10 * Math.Log10(audio.Skip(f * 160).Take(160).Average(x => (double)x * x) + 1e-12)).ToArray();
        var loud = db.Max() - 35;
        return (Array.FindIndex(db, d => d > loud) * 0.01, (Array.FindLastIndex(db, d => d > loud) + 1) * 0.01);
    }

    [Fact]
    public void TheSpeechSpanOfRealUtterancesAgreesWithTheirEnergyAndSilenceIsKeptWhole()
    {
        var vad = Vad();
        foreach (var file in Files)
        {
            var audio = SpectrogramTests.Decode(TestData.Ravdess(file));
            var (start, end) = vad.SpeechSpan(audio);
            var (eStart, eEnd) = EnergySpan(audio);
            output.WriteLine($"{file}: {audio.Length / 16000.0:F2} s; VAD {start / 16000.0:F2}–{end / 16000.0:F2} s; energy {eStart:F2}–{eEnd:F2} s");
            // RAVDESS utterances start after about 0.5–1 s of room silence and end well before the clip does.
            Assert.True(start > 0 && end < audio.Length, $"{file}: the span {start}–{end} cuts nothing of {audio.Length} samples");
            Assert.True(Math.Abs(start / 16000.0 - eStart) < 0.25, $"{file}: VAD start {start / 16000.0:F2} s, energy start {eStart:F2} s");
            Assert.True(Math.Abs(end / 16000.0 - eEnd) < 0.35, $"{file}: VAD end {end / 16000.0:F2} s, energy end {eEnd:F2} s");
        }
        // No speech anywhere: the whole clip (the documented fallback), and the same for digital silence.
        var noise = new Random(3);
        var hiss = Enumerable.Range(0, 32000).Select(_ => (float)(1e-4 * (noise.NextDouble() - 0.5))).ToArray();
        Assert.Equal((0, hiss.Length), vad.SpeechSpan(hiss));
        Assert.Equal((0, 16000), vad.SpeechSpan(new float[16000]));
    }

    [Fact]
    public void TheStageSpectrogramIsThatOfTheSpeechSpanAndSurvivesSaveAndLoad()
    {
        var ml = new MLContext(seed: 1);
        var audio = SpectrogramTests.Decode(TestData.Ravdess(Files[0]));
        var data = ml.Data.LoadFromEnumerable([new AudioRow { Audio = audio }]);
        var options = new SpeechSpectrogramOptions { Frames = 400, TrimSilence = true };
        var model = ml.Transforms.SpeechSpectrogram(options).Fit(data);
        var values = model.Transform(data).GetColumn<float[]>("Spectrogram").Single();
        var valid = model.Transform(data).GetColumn<int>("SpectrogramFrames").Single();

        // Reference: the untrimmed stage on the span's samples.
        var (start, end) = Vad().SpeechSpan(audio);
        var span = ml.Data.LoadFromEnumerable([new AudioRow { Audio = audio[start..end] }]);
        var plain = ml.Transforms.SpeechSpectrogram(new SpeechSpectrogramOptions { Frames = 400 }).Fit(span).Transform(span);
        Assert.Equal(plain.GetColumn<float[]>("Spectrogram").Single(), values);
        Assert.Equal(plain.GetColumn<int>("SpectrogramFrames").Single(), valid);
        var whole = ml.Data.LoadFromEnumerable([new AudioRow { Audio = audio }]);
        var untrimmed = ml.Transforms.SpeechSpectrogram(new SpeechSpectrogramOptions { Frames = 400 }).Fit(whole).Transform(whole).GetColumn<int>("SpectrogramFrames").Single();
        Assert.True(valid < untrimmed, $"trimmed {valid} real frames, untrimmed {untrimmed}");

        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;
        var loaded = ml.Model.Load(stream, out _);
        Assert.Equal(values, loaded.Transform(data).GetColumn<float[]>("Spectrogram").Single());
    }

    [Fact]
    public void EmptyAudioAndANaNSampleBehaveAsWithoutTrimming()
    {
        // No audio track gives 0 samples: the all-silence output and 0 real frames, trimmed or not; a NaN sample is the
        // stage's typed error before the detector sees it.
        var ml = new MLContext(seed: 1);
        var empty = ml.Data.LoadFromEnumerable([new AudioRow { Audio = [] }]);
        IDataView Run(bool trim, IDataView data) => ml.Transforms.SpeechSpectrogram(new SpeechSpectrogramOptions { Frames = 50, TrimSilence = trim }).Fit(data).Transform(data);
        Assert.Equal(Run(false, empty).GetColumn<float[]>("Spectrogram").Single(), Run(true, empty).GetColumn<float[]>("Spectrogram").Single());
        Assert.Equal(0, Run(true, empty).GetColumn<int>("SpectrogramFrames").Single());
        var audio = SpectrogramTests.Decode(TestData.Ravdess(Files[0])).ToArray();
        audio[20000] = float.NaN;
        var nan = ml.Data.LoadFromEnumerable([new AudioRow { Audio = audio }]);
        var e = Assert.ThrowsAny<Exception>(() => Run(true, nan).GetColumn<float[]>("Spectrogram").Single());
        var typed = Assert.IsType<InvalidInputException>(e is InvalidInputException ? e : e.InnerException);
        Assert.Contains("sample 20000", typed.Message);
    }

    [Fact]
    public void ANonVadModelFileIsRefusedAndTrainAudioTrimsOnlyInAMeasurement()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable([new AudioRow { Audio = new float[1600] }]);
        var e = Assert.Throws<ModelFileException>(() => ml.Transforms.SpeechSpectrogram(new SpeechSpectrogramOptions { TrimSilence = true, VadModelPath = ModelFiles.MiniXception.Resolve() }).Fit(data));
        Assert.Contains("sha256", e.Message);
        var r = Cli.CliRunner.RunShared("train-audio", "--trim-silence", "--epochs", "1");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--trim-silence is a measurement for now", r.Error);
    }
}
