using System.Diagnostics;
using EmotionML.Spectrogram;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;
using Xunit.Abstractions;

namespace EmotionML.Tests.Spectrogram;

public sealed class SpectrogramTests
{
    private const float Ln1e10 = -23.02585f;
    private readonly ITestOutputHelper _out;

    public SpectrogramTests(ITestOutputHelper output) => _out = output;

    // ---------- helpers ----------

    private static readonly Lazy<string[]> RavdessFiles = new(() =>
        File.ReadLines(TestData.Ravdess("labels.csv")).Skip(1).Select(l => l.Split(',')[0]).Take(2).ToArray());

    private static readonly Dictionary<string, float[]> Decoded = [];

    /// <summary>Decodes a file to 16 kHz mono float with ffmpeg.</summary>
    internal static float[] Decode(string path)
    {
        lock (Decoded)
        {
            if (Decoded.TryGetValue(path, out var cached)) return cached;
            var psi = new ProcessStartInfo("ffmpeg", ["-v", "error", "-i", path, "-f", "f32le", "-ac", "1", "-ar", "16000", "pipe:1"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            using var ms = new MemoryStream();
            p.StandardOutput.BaseStream.CopyTo(ms);
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, $"ffmpeg failed on {path}: {stderr.Result}");
            var bytes = ms.ToArray();
            var samples = new float[bytes.Length / 4];
            Buffer.BlockCopy(bytes, 0, samples, 0, samples.Length * 4);
            Decoded[path] = samples;
            return samples;
        }
    }

    private static float[] RealAudio(int i = 0) => Decode(TestData.Ravdess(RavdessFiles.Value[i]));

    private static float[] Sine(double hz, int n, int rate = 16000, double amp = 0.5)
        => Enumerable.Range(0, n).Select(i => (float)(amp * Math.Sin(2 * Math.PI * hz * i / rate))).ToArray();

    private static float[] Speech(float[] audio, SpeechSpectrogramOptions? o = null)
        => new SpeechSpectrogramExtractor(o ?? new SpeechSpectrogramOptions()).Compute(audio);

    private static float[] RunStage(IEstimator<ITransformer> estimator, float[] audio, string column)
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable([new AudioRow { Audio = audio }]);
        return estimator.Fit(data).Transform(data).GetColumn<float[]>(column).Single();
    }

    private sealed class AudioRow
    {
        [VectorType]
        public float[] Audio { get; set; } = [];
    }

    private sealed class TextRow
    {
        public string Audio { get; set; } = "";
    }

    // ---------- correctness against an independent reference ----------

    /// <summary>Plain double-precision DFT of Hamming-windowed 640-sample frames zero-padded to 1024, bins 0..bins-1.</summary>
    private static double[][] ReferencePower(float[] x, int bins)
    {
        const int w = 640, hop = 160, n = 1024;
        var frames = 1 + (x.Length - w) / hop;
        var window = new double[w];
        for (var i = 0; i < w; i++) window[i] = 0.54 - 0.46 * Math.Cos(2 * Math.PI * i / (w - 1));
        var cos = new double[n];
        var sin = new double[n];
        for (var i = 0; i < n; i++) { cos[i] = Math.Cos(2 * Math.PI * i / n); sin[i] = Math.Sin(2 * Math.PI * i / n); }
        var result = new double[frames][];
        var frame = new double[w];
        for (var t = 0; t < frames; t++)
        {
            for (var i = 0; i < w; i++) frame[i] = x[t * hop + i] * window[i];
            var row = new double[bins];
            for (var k = 0; k < bins; k++)
            {
                double re = 0, im = 0;
                for (var i = 0; i < w; i++)
                {
                    var idx = (k * i) % n;
                    re += frame[i] * cos[idx];
                    im -= frame[i] * sin[idx];
                }
                row[k] = re * re + im * im;
            }
            result[t] = row;
        }
        return result;
    }

    [Fact]
    public void Spectrogram_MatchesPlainDft_OnRavdessSpeech()
    {
        var audio = RealAudio();
        var total = 1 + (audio.Length - 640) / 160;
        var options = new SpeechSpectrogramOptions { LogPower = false, Frames = total };
        var ours = Speech(audio, options);
        var reference = ReferencePower(audio, 200);
        Assert.Equal(total, reference.Length);

        var maxPower = reference.SelectMany(r => r).Max();
        var floor = maxPower * 1e-7;
        double maxRel = 0;
        var compared = 0;
        for (var t = 0; t < total; t++)
            for (var k = 0; k < 200; k++)
            {
                var r = reference[t][k];
                if (r < floor) continue;
                compared++;
                maxRel = Math.Max(maxRel, Math.Abs(ours[t * 200 + k] - r) / r);
            }
        _out.WriteLine($"{RavdessFiles.Value[0]}: {total} frames, {compared} bins above floor {floor:g3} (1e-7 of max), max relative error {maxRel:e3}");
        // RAVDESS clips open and close with near-silence: about 40 % of the bins are above the floor.
        Assert.True(compared > total * 50, $"only {compared} bins compared");
        Assert.True(maxRel < 1e-3, $"max relative error {maxRel:e3}");

        // Log scale is ln(p + floor) of the same values.
        var log = Speech(audio, new SpeechSpectrogramOptions { Frames = total });
        for (var i = 0; i < 2000; i++)
            Assert.Equal(Math.Log(ours[i] + 1e-10), log[i], 1e-4);
    }

    [Fact]
    public void Sine1000Hz_PeaksAtBin64()
    {
        Assert.Equal(1000.0, SpeechSpectrogramExtractor.BinFrequency(64));
        var spec = Speech(Sine(1000, 16000), new SpeechSpectrogramOptions { Frames = 97 });
        for (var t = 0; t < 97; t++)
        {
            var row = spec.AsSpan(t * 200, 200).ToArray();
            Assert.Equal(64, Array.IndexOf(row, row.Max()));
        }
        // Bin 64 of 1000.0 Hz, bin 65 of 1015.6 Hz: a 1015.625 Hz sine moves the peak by one bin.
        var shifted = Speech(Sine(1015.625, 16000), new SpeechSpectrogramOptions { Frames = 97 }).AsSpan(0, 200).ToArray();
        Assert.Equal(65, Array.IndexOf(shifted, shifted.Max()));
    }

    [Fact]
    public void Deltas_FollowRegressionFormula_WithN2_AndRepeatedEdges()
    {
        float[] c = [1, 4, 2, 8, 3, -5, 0.5f];
        const int n = 2;
        static double[] Delta(double[] x, int n)
        {
            double At(int i) => x[Math.Clamp(i, 0, x.Length - 1)];
            var denom = 2.0 * Enumerable.Range(1, n).Sum(k => k * k);
            return Enumerable.Range(0, x.Length).Select(t => Enumerable.Range(1, n).Sum(k => k * (At(t + k) - At(t - k))) / denom).ToArray();
        }
        var d = Delta(c.Select(v => (double)v).ToArray(), n);
        var dd = Delta(d, n);
        Assert.Equal(0.5, d[0], 1e-12); // (1·(4−1) + 2·(2−1)) / 10, worked by hand

        var vectors = c.Select(v => new[] { v }).ToList<float[]>();
        LogMelExtractor.AddDeltas(vectors, n);
        for (var t = 0; t < c.Length; t++)
        {
            Assert.Equal(3, vectors[t].Length);
            Assert.Equal(c[t], vectors[t][0]);
            Assert.Equal(d[t], vectors[t][1], 1e-5);
            Assert.Equal(dd[t], vectors[t][2], 1e-5);
        }
    }

    [Fact]
    public void LogMel_HasThreeChannels_PeakNear1kHz_AndDeltasMatchChannel0()
    {
        var options = new LogMelSpectrogramOptions { Frames = 50, Bands = 64 };
        var x = new LogMelExtractor(options).Compute(Sine(1000, 16000));
        Assert.Equal(3 * 50 * 64, x.Length);
        Assert.All(x, v => Assert.True(float.IsFinite(v)));
        // Mel bands 0..8 kHz, HTK: the band whose centre is nearest 1000 Hz has the most energy.
        double Mel(double f) => 1127 * Math.Log(1 + f / 700);
        var step = Mel(8000) / 65;
        var expected = (int)Math.Round(Mel(1000) / step) - 1;
        var frame = x.AsSpan(10 * 64, 64).ToArray();
        Assert.InRange(Array.IndexOf(frame, frame.Max()), expected - 1, expected + 1);
        // Steady sine: deltas ≈ 0 away from edges.
        for (var b = 0; b < 64; b++) Assert.True(Math.Abs(x[50 * 64 + 20 * 64 + b]) < 1e-2);

        var stage = RunStage(new MLContext().Transforms.LogMelSpectrogram(frames: 50), Sine(1000, 16000), "LogMel");
        Assert.Equal(x, stage);
    }

    // ---------- clip length policy ----------

    [Fact]
    public void LongClip_IsCentreCropped_ShortClip_IsPadded()
    {
        var audio = RealAudio();
        var total = 1 + (audio.Length - 640) / 160;
        var full = Speech(audio, new SpeechSpectrogramOptions { Frames = total });
        var cropped = Speech(audio, new SpeechSpectrogramOptions { Frames = 100 });
        var start = (total - 100) / 2;
        Assert.Equal(full.AsSpan(start * 200, 100 * 200).ToArray(), cropped);

        var longer = Speech(audio, new SpeechSpectrogramOptions { Frames = total + 10 });
        Assert.Equal(full, longer.AsSpan(0, total * 200).ToArray());
        Assert.All(longer.Skip(total * 200), v => Assert.Equal(Ln1e10, v, 1e-4f));

        var edge = Speech(audio, new SpeechSpectrogramOptions { Frames = total + 10, Padding = SpectrogramPadding.Edge });
        for (var t = total; t < total + 10; t++)
            Assert.Equal(full.AsSpan((total - 1) * 200, 200).ToArray(), edge.AsSpan(t * 200, 200).ToArray());

        var mel = new LogMelExtractor(new LogMelSpectrogramOptions { Frames = total + 5, Padding = SpectrogramPadding.Edge }).Compute(audio);
        int f = total + 5, b = 64;
        Assert.Equal(mel.AsSpan((total - 1) * b, b).ToArray(), mel.AsSpan((f - 1) * b, b).ToArray());
        Assert.All(mel.AsSpan(f * b + total * b, 5 * b).ToArray(), v => Assert.Equal(0f, v));
    }

    // ---------- bad input ----------

    [Fact]
    public void Silence_GivesFiniteFloor()
    {
        var spec = Speech(new float[16000]);
        Assert.All(spec, v => Assert.Equal(Ln1e10, v, 1e-4f));
        Assert.All(Speech(new float[16000], new SpeechSpectrogramOptions { LogPower = false }), v => Assert.Equal(0f, v));
        var mel = new LogMelExtractor(new LogMelSpectrogramOptions()).Compute(new float[16000]);
        Assert.All(mel.Take(300 * 64), v => Assert.Equal(Ln1e10, v, 1e-3f));
        Assert.All(mel.Skip(300 * 64), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void ClippedAudio_GivesFiniteOutput()
    {
        var clipped = Sine(440, 16000, amp: 4).Select(v => Math.Clamp(v, -1f, 1f)).ToArray();
        var spec = Speech(clipped);
        Assert.All(spec, v => Assert.True(float.IsFinite(v)));
        Assert.True(spec.Max() > 10); // loud
        var mel = new LogMelExtractor(new LogMelSpectrogramOptions()).Compute(clipped);
        Assert.All(mel, v => Assert.True(float.IsFinite(v)));
        // Out-of-range (unnormalised) samples are analysed as given.
        Assert.All(Speech(Sine(440, 16000, amp: 30000)), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void AudioShorterThanOneWindow_IsZeroPaddedToOneFrame()
    {
        var shortAudio = Sine(1000, 300);
        var spec = Speech(shortAudio, new SpeechSpectrogramOptions { Frames = 3 });
        var padded = new float[640];
        shortAudio.CopyTo(padded, 0);
        Assert.Equal(Speech(padded, new SpeechSpectrogramOptions { Frames = 3 }), spec);
        var first = spec.AsSpan(0, 200).ToArray();
        Assert.Equal(64, Array.IndexOf(first, first.Max()));
        Assert.All(spec.Skip(200), v => Assert.Equal(Ln1e10, v, 1e-4f));
        var mel = new LogMelExtractor(new LogMelSpectrogramOptions { Frames = 3 }).Compute(shortAudio);
        Assert.True(mel.Take(64).Max() > -10);
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "+Infinity")]
    [InlineData(float.NegativeInfinity, "-Infinity")]
    public void NonFiniteSamples_RaiseInvalidInput(float bad, string name)
    {
        var audio = Sine(300, 4000);
        audio[1234] = bad;
        var ex = Assert.Throws<InvalidInputException>(() => RunStage(new MLContext().Transforms.SpeechSpectrogram(), audio, "Spectrogram"));
        Assert.Contains("sample 1234", ex.Message);
        Assert.Contains(name, ex.Message);
        Assert.Contains("'Audio'", ex.Message);
        Assert.Throws<InvalidInputException>(() => RunStage(new MLContext().Transforms.LogMelSpectrogram(), audio, "LogMel"));
        Assert.Throws<InvalidInputException>(() => AudioResampling.ResampleTo16k(audio, 48000));
    }

    [Fact]
    public void EmptyAudio_IsSilence_OrRejectedWhenAsked()
    {
        var spec = RunStage(new MLContext().Transforms.SpeechSpectrogram(frames: 20), [], "Spectrogram");
        Assert.Equal(20 * 200, spec.Length);
        Assert.All(spec, v => Assert.Equal(Ln1e10, v, 1e-4f));
        var mel = RunStage(new MLContext().Transforms.LogMelSpectrogram(frames: 20), [], "LogMel");
        Assert.Equal(3 * 20 * 64, mel.Length);
        Assert.All(mel, v => Assert.True(float.IsFinite(v)));

        var ml = new MLContext();
        var ex = Assert.Throws<InvalidInputException>(() => RunStage(ml.Transforms.SpeechSpectrogram(new SpeechSpectrogramOptions { RejectEmptyAudio = true }), [], "Spectrogram"));
        Assert.Contains("empty", ex.Message);
        Assert.Throws<InvalidInputException>(() => RunStage(ml.Transforms.LogMelSpectrogram(new LogMelSpectrogramOptions { RejectEmptyAudio = true }), [], "LogMel"));
    }

    [Fact]
    public void OtherSampleRates_AreResampledTo16k()
    {
        var ml = new MLContext();
        foreach (var rate in new[] { 48000, 8000 })
        {
            var spec = RunStage(ml.Transforms.SpeechSpectrogram(new SpeechSpectrogramOptions { SampleRate = rate, Frames = 50 }), Sine(1000, rate, rate), "Spectrogram");
            var row = spec.AsSpan(20 * 200, 200).ToArray();
            Assert.Equal(64, Array.IndexOf(row, row.Max()));
        }
        Assert.Equal(16000, AudioResampling.ResampleTo16k(Sine(1000, 48000, 48000), 48000).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => AudioResampling.ResampleTo16k([0f], 10));
    }

    // ---------- schema ----------

    [Fact]
    public void Schema_IsCheckedWithClearMessages_AndOutputHasShape()
    {
        var ml = new MLContext();
        var audio = ml.Data.LoadFromEnumerable([new AudioRow { Audio = Sine(200, 2000) }]);
        var text = ml.Data.LoadFromEnumerable([new TextRow { Audio = "x" }]);

        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.SpeechSpectrogram(inputColumnName: "Sound").GetOutputSchema(SchemaShape.Create(audio.Schema)));
        Assert.StartsWith("Schema mismatch for input column 'Sound' (audio): expected a vector of Single", missing.Message);
        Assert.Contains("got no such column.", missing.Message);
        var wrong = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.LogMelSpectrogram().Fit(text));
        Assert.Contains("'Audio'", wrong.Message);
        Assert.Contains("expected a vector of Single", wrong.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.SpeechSpectrogram().Fit(audio).Transform(text));

        var shape = ml.Transforms.SpeechSpectrogram().GetOutputSchema(SchemaShape.Create(audio.Schema));
        Assert.True(shape.TryFindColumn("Spectrogram", out var col));
        Assert.Equal(SchemaShape.Column.VectorKind.Vector, col.Kind);

        var schema = ml.Transforms.SpeechSpectrogram().Fit(audio).GetOutputSchema(audio.Schema);
        var type = Assert.IsType<VectorDataViewType>(schema["Spectrogram"].Type);
        Assert.Equal([300, 200], type.Dimensions.ToArray());
        var melType = Assert.IsType<VectorDataViewType>(ml.Transforms.LogMelSpectrogram(bands: 128).Fit(audio).GetOutputSchema(audio.Schema)["LogMel"].Type);
        Assert.Equal([3, 300, 128], melType.Dimensions.ToArray());

        Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.SpeechSpectrogram(new SpeechSpectrogramOptions { Bins = 600 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.LogMelSpectrogram(new LogMelSpectrogramOptions { HighFrequency = 9000 }));
    }

    // ---------- save / load ----------

    [Fact]
    public void SaveLoad_RoundTrip_KeepsOutputsAndOptions()
    {
        var ml = new MLContext(seed: 1);
        var rows = new[] { new AudioRow { Audio = RealAudio(0) }, new AudioRow { Audio = RealAudio(1) }, new AudioRow { Audio = Sine(500, 3000) } };
        var data = ml.Data.LoadFromEnumerable(rows);
        var speechOptions = new SpeechSpectrogramOptions { OutputColumnName = "Spec", Frames = 150, Bins = 128, LogPower = false, Padding = SpectrogramPadding.Edge, LogFloor = 1e-8 };
        var melOptions = new LogMelSpectrogramOptions { Bands = 40, Frames = 120, DeltaWindow = 3, HighFrequency = 7600, LowFrequency = 50, Padding = SpectrogramPadding.Edge };
        var model = ml.Transforms.SpeechSpectrogram(speechOptions).Append(ml.Transforms.LogMelSpectrogram(melOptions)).Fit(data);

        var dir = TestData.TempDir("spectrogram");
        var path = Path.Combine(dir, "model.zip");
        ml.Model.Save(model, data.Schema, path);
        var loaded = ml.Model.Load(path, out var inputSchema);
        Assert.NotNull(inputSchema);

        var before = model.Transform(data);
        var after = loaded.Transform(data);
        Assert.Equal(before.GetColumn<float[]>("Spec").ToArray(), after.GetColumn<float[]>("Spec").ToArray());
        Assert.Equal(before.GetColumn<float[]>("LogMel").ToArray(), after.GetColumn<float[]>("LogMel").ToArray());
        Assert.Equal([150, 128], ((VectorDataViewType)after.Schema["Spec"].Type).Dimensions.ToArray());

        var chain = Assert.IsAssignableFrom<IEnumerable<ITransformer>>(loaded).ToList();
        var speech = Assert.IsType<SpeechSpectrogramTransformer>(chain[0]).Options;
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(speechOptions), System.Text.Json.JsonSerializer.Serialize(speech));
        var mel = Assert.IsType<LogMelSpectrogramTransformer>(chain[1]).Options;
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(melOptions), System.Text.Json.JsonSerializer.Serialize(mel));
        Directory.Delete(dir, true);
    }
}
