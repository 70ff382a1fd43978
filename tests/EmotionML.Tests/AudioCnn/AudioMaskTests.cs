using EmotionML.AudioCnn;
using EmotionML.Fusion;
using EmotionML.Spectrogram;
using EmotionML.Training;
using EmotionML.Training.Fusion;
using EmotionML.Training.Onnx;
using EmotionML.VideoInput;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Xunit;
using Cnn = EmotionML.Training.AudioCnn.AudioCnnNetwork;
using CnnOptions = EmotionML.Training.AudioCnn.AudioCnnOptions;

namespace EmotionML.Tests.AudioCnn;

/// <summary>
/// The audio mask marks what is real: the silence padded onto a short clip and a clip without audio get mask 0, zero
/// attention, and no influence on the prediction.
/// </summary>
public sealed class AudioMaskTests : Fusion.TorchTestBase
{
    // Default spectrogram (300 × 200) through the CNN's geometry: an 8 × 5 map (8 time rows), C = 4 channels here.
    private const int Frames = 300, Bins = 200, TimeRows = 8, FreqCols = 5, Positions = TimeRows * FreqCols, Channels = 4;
    private const int FaceN = 4, FaceD = 6;

    private sealed class HeadRow
    {
        [VectorType(FaceN * FaceD)] public float[] FaceFeatures { get; set; } = [];
        [VectorType(FaceN)] public float[] FrameMask { get; set; } = [];
        [VectorType(Positions * Channels)] public float[] AudioFeatures { get; set; } = [];
        [VectorType(Positions)] public float[] AudioMask { get; set; } = [];
        public string Label { get; set; } = "";
    }

    private sealed class ClipRow
    {
        public string VideoPath { get; set; } = "";
        [VectorType(FaceN * FaceD)] public float[] FaceFeatures { get; set; } = [];
        [VectorType(FaceN)] public float[] FrameMask { get; set; } = [];
    }

    private sealed class Scored
    {
        public int SpectrogramFrames { get; set; }
        public float[] AudioFeatures { get; set; } = [];
        public float[] AudioMask { get; set; } = [];
        public float[] AudioAttention { get; set; } = [];
        public float[] Score { get; set; } = [];
    }

    private readonly MLContext _ml = new(seed: 1);

    private static float[] Random(Random r, int n) => Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();

    private AudioFeatureTransformer AudioStage()
    {
        var cnn = new Cnn(new CnnOptions { Channels = [4, 4, 4, 4, Channels], BatchNorm = false });
        var shape = new AudioCnnShape { Frames = Frames, Bins = Bins, Positions = Positions, Channels = Channels };
        return new AudioFeatureTransformer(_ml, new AudioFeatureOptions(), shape, AudioCnnOnnx.Export(cnn, Frames, Bins));
    }

    /// <summary>A head fitted for one epoch on random rows: enough to have weights; what matters is how it treats the mask.</summary>
    private ITransformer Head()
    {
        var r = new Random(5);
        var rows = Enumerable.Range(0, 6).Select(i => new HeadRow
        {
            FaceFeatures = Random(r, FaceN * FaceD), FrameMask = [1, 1, 1, 1],
            AudioFeatures = Random(r, Positions * Channels), AudioMask = Enumerable.Repeat(1f, Positions).ToArray(), Label = i % 2 == 0 ? "a" : "b",
        }).ToList();
        var data = _ml.Data.LoadFromEnumerable(rows);
        var keyed = _ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(data).Transform(data);
        return _ml.Transforms.EmotionFusionHead(new FusionHeadTrainerOptions
        {
            Head = new FusionHeadOptions { TransformerDim = 4, FbpOutputDim = 4, FbpFactor = 2 },
            Training = new TrainerOptions { MaxEpochs = 1, BatchSize = 6, ValidationFraction = 0, Seed = 1 },
        }).Fit(keyed);
    }

    private List<Scored> Run(string clip, ITransformer head, AudioFeatureTransformer audio, MissingStreamPolicy missingAudio = MissingStreamPolicy.Throw)
    {
        var r = new Random(9);
        var data = _ml.Data.LoadFromEnumerable([new ClipRow { VideoPath = clip, FaceFeatures = Random(r, FaceN * FaceD), FrameMask = [1, 1, 1, 0] }]);
        var chain = _ml.Transforms.LoadVideo(new VideoInputOptions { DecodeVideo = false, MissingAudio = missingAudio })
            .Append(_ml.Transforms.SpeechSpectrogram())
            .Fit(data);
        var features = audio.Transform(chain.Transform(data));
        return _ml.Data.CreateEnumerable<Scored>(head.Transform(features), reuseRowObject: false).ToList();
    }

    /// <summary>The head's output for the same row with the audio features at masked positions replaced.</summary>
    private Scored Perturbed(Scored s, ITransformer head)
    {
        var r = new Random(3);
        var audio = (float[])s.AudioFeatures.Clone();
        for (var p = 0; p < Positions; p++)
            if (s.AudioMask[p] == 0)
                for (var c = 0; c < Channels; c++) audio[p * Channels + c] = (float)(100 * r.NextDouble());
        var row = new HeadRow { FaceFeatures = Random(new Random(9), FaceN * FaceD), FrameMask = [1, 1, 1, 0], AudioFeatures = audio, AudioMask = s.AudioMask };
        return _ml.Data.CreateEnumerable<Scored>(head.Transform(_ml.Data.LoadFromEnumerable([row])), reuseRowObject: false, ignoreMissingColumns: true).Single();
    }

    [Fact]
    public void HalfASecondOfAudioMasksThePaddedTimeRows()
    {
        var clip = MediaTools.Make(Path.Combine(TestData.TempDir("mask-half"), "half.mp4"), "-i", TestData.Javanese("01-01-01_01.mp4"), "-t", "0.5", "-c:v", "libx264", "-c:a", "aac");
        var audio = AudioStage();
        var head = Head();
        var s = Run(clip, head, audio).Single();

        // Independent count: 10 ms frames of 40 ms that lie inside the decoded audio (about 8,000 samples).
        var samples = _ml.Data.CreateEnumerable<AudioOnly>(_ml.Transforms.LoadVideo(new VideoInputOptions { DecodeVideo = false })
            .Fit(_ml.Data.LoadFromEnumerable([new ClipRow { VideoPath = clip }])).Transform(_ml.Data.LoadFromEnumerable([new ClipRow { VideoPath = clip }])), false).Single().Audio.Length;
        Assert.InRange(samples, 7600, 8800);
        var real = 1 + (samples - 640) / 160;
        Assert.Equal(real, s.SpectrogramFrames);
        // Row h of 8 stands for frames from 37.5·h on: rows 0 and 1 start inside the ~47 real frames, rows 2..7 in padding.
        var expected = Enumerable.Range(0, Positions).Select(p => p < 2 * FreqCols ? 1f : 0f).ToArray();
        Assert.Equal(expected, s.AudioMask);
        for (var p = 2 * FreqCols; p < Positions; p++) Assert.Equal(0f, s.AudioAttention[p]);
        Assert.Equal(1.0, s.AudioAttention.Take(2 * FreqCols).Sum(), 5);

        var changed = Perturbed(s, head);
        Assert.Equal(s.Score, changed.Score);
        Assert.Equal(s.AudioAttention, changed.AudioAttention);
    }

    [Fact]
    public void ClipWithoutAnAudioStreamHasAnAllZeroMaskAndRestsOnTheFace()
    {
        var clip = MediaTools.Make(Path.Combine(TestData.TempDir("mask-noaudio"), "silent.mp4"), "-i", TestData.Javanese("01-01-01_01.mp4"), "-an", "-c:v", "copy");
        var audio = AudioStage();
        var head = Head();
        var s = Run(clip, head, audio, MissingStreamPolicy.Empty).Single();
        Assert.Equal(0, s.SpectrogramFrames);
        Assert.All(s.AudioMask, m => Assert.Equal(0f, m));
        Assert.All(s.AudioAttention, a => Assert.Equal(0f, a));
        // Whatever the CNN made of the silent spectrogram does not reach the prediction.
        var changed = Perturbed(s, head);
        Assert.Equal(s.Score, changed.Score);
    }

    [Fact]
    public void MaskFollowsThePaddingNotTheSpectrogramValues()
    {
        // The same 0.5 s clip padded with silence or by repeating its last frame: the padded rows' features change, the
        // mask and the zero attention on them do not.
        var clip = MediaTools.Make(Path.Combine(TestData.TempDir("mask-pad"), "half.mp4"), "-i", TestData.Javanese("02-01-03_01.mp4"), "-t", "0.5", "-c:v", "libx264", "-c:a", "aac");
        var audio = AudioStage();
        var head = Head();
        var data = _ml.Data.LoadFromEnumerable([new ClipRow { VideoPath = clip, FaceFeatures = Random(new Random(9), FaceN * FaceD), FrameMask = [1, 1, 1, 0] }]);
        Scored With(SpectrogramPadding padding)
        {
            var chain = _ml.Transforms.LoadVideo(new VideoInputOptions { DecodeVideo = false })
                .Append(_ml.Transforms.SpeechSpectrogram(new SpeechSpectrogramOptions { Padding = padding }))
                .Fit(data);
            return _ml.Data.CreateEnumerable<Scored>(head.Transform(audio.Transform(chain.Transform(data))), false).Single();
        }
        var silence = With(SpectrogramPadding.Silence);
        var edge = With(SpectrogramPadding.Edge);
        Assert.Equal(silence.AudioMask, edge.AudioMask);
        Assert.Contains(1f, silence.AudioMask);
        Assert.Contains(0f, silence.AudioMask);
        var padded = Enumerable.Range(0, Positions).Where(p => silence.AudioMask[p] == 0).ToArray();
        Assert.Contains(padded, p => Enumerable.Range(0, Channels).Any(c => silence.AudioFeatures[p * Channels + c] != edge.AudioFeatures[p * Channels + c]));
        Assert.All(padded, p => { Assert.Equal(0f, silence.AudioAttention[p]); Assert.Equal(0f, edge.AudioAttention[p]); });
        // Replacing the padded rows of one by the other's changes nothing.
        var swapped = (float[])silence.AudioFeatures.Clone();
        foreach (var p in padded) Array.Copy(edge.AudioFeatures, p * Channels, swapped, p * Channels, Channels);
        var row = new HeadRow { FaceFeatures = Random(new Random(9), FaceN * FaceD), FrameMask = [1, 1, 1, 0], AudioFeatures = swapped, AudioMask = silence.AudioMask };
        var again = _ml.Data.CreateEnumerable<Scored>(head.Transform(_ml.Data.LoadFromEnumerable([row])), false, ignoreMissingColumns: true).Single();
        Assert.Equal(silence.Score, again.Score);
    }

    [Fact]
    public void MaskRuleCountsTimeRowsThatStartInsideTheRealFrames()
    {
        var mask = new float[Positions];
        foreach (var (valid, rows) in new[] { (0, 0), (1, 1), (37, 1), (38, 2), (47, 2), (299, 8), (300, 8), (1000, 8) })
        {
            AudioCnnGeometry.Mask(mask, Frames, TimeRows, valid);
            Assert.Equal(rows * FreqCols, (int)mask.Sum());
            Assert.All(mask.Take(rows * FreqCols), m => Assert.Equal(1f, m));
        }
        Assert.Equal((TimeRows, FreqCols), AudioCnnGeometry.FeatureMapSize(Frames, Bins));
    }

    [Fact]
    public void FrameMaskMarksOnlyDecodedFramesAsReal()
    {
        // 3 frames decoded into 5 slots: slots 3 and 4 are padding (black crops) and get mask 0.
        var data = _ml.Data.LoadFromEnumerable([new ClipRow { VideoPath = TestData.Javanese("01-01-01_01.mp4") }]);
        var chain = _ml.Transforms.LoadVideo(new VideoInputOptions { FrameCount = 3, DecodeAudio = false })
            .Append(_ml.Transforms.AlignFaces(5)).Fit(data);
        var mask = chain.Transform(data).GetColumn<float[]>("FrameMask").Single();
        Assert.Equal(new[] { 1f, 1f, 1f, 0f, 0f }, mask);
    }

    private sealed class AudioOnly
    {
        public float[] Audio { get; set; } = [];
    }
}
