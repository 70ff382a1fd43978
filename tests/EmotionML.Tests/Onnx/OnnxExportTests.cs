using Xunit;
using EmotionML.Tests.Fusion;
using EmotionML.Training.AudioCnn;
using EmotionML.Training.Fusion;
using EmotionML.Training.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit.Abstractions;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;
using Cnn = EmotionML.Training.AudioCnn.AudioCnnNetwork;

namespace EmotionML.Tests.Onnx;

public sealed class OnnxExportTests(ITestOutputHelper output) : TorchTestBase
{
    private const double Tolerance = 1e-4;

    private static InferenceSession Session(byte[] model)
    {
        var so = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        return new InferenceSession(model, so);
    }

    private static NamedOnnxValue Input(string name, Tensor t)
        => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(F(t), t.shape.Select(d => (int)d).ToArray()));

    private static double MaxAbs(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i]));
        return m;
    }

    public static TheoryData<AttentionKind, AttentionKind, FusionKind, Modalities> Configurations()
    {
        var data = new TheoryData<AttentionKind, AttentionKind, FusionKind, Modalities>();
        foreach (var f in Enum.GetValues<AttentionKind>())
            foreach (var a in Enum.GetValues<AttentionKind>())
                foreach (var k in Enum.GetValues<FusionKind>())
                    data.Add(f, a, k, Modalities.Both);
        foreach (var kind in Enum.GetValues<AttentionKind>())
        {
            data.Add(kind, AttentionKind.Self, FusionKind.Fbp, Modalities.FaceOnly);
            data.Add(AttentionKind.Self, kind, FusionKind.Fbp, Modalities.AudioOnly);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void FusionHeadOnnxMatchesTorch(AttentionKind faceKind, AttentionKind audioKind, FusionKind fusion, Modalities modalities)
    {
        using var scope = NewDisposeScope();
        var head = new FusionHead(new FusionHeadOptions
        {
            FaceDim = 16, AudioDim = 12, FaceAttention = faceKind, AudioAttention = audioKind, Fusion = fusion,
            Modalities = modalities, TransformerDim = 8, FbpOutputDim = 10, FbpFactor = 3, Classes = 7,
        });
        head.eval();
        const int B = 4, N = 6, NA = 5;
        var face = randn(B, N, 16) * 2;
        var audio = randn(B, NA, 12) * 2;
        // rows: full; partial; a single real item; none (audio) / partial (face)
        var faceMask = tensor(new float[]
        {
            1, 1, 1, 1, 1, 1,
            1, 1, 1, 1, 0, 0,
            1, 0, 0, 0, 0, 0,
            1, 1, 0, 0, 0, 0,
        }).reshape(B, N);
        var audioMask = tensor(new float[]
        {
            1, 1, 1, 1, 1,
            1, 1, 1, 0, 0,
            0, 1, 0, 0, 0,
            0, 0, 0, 0, 0,
        }).reshape(B, NA);

        var torchOut = head.forward(face, faceMask, audio, audioMask);
        var torchScores = F(softmax(torchOut.Logits, 1));

        var bytes = FusionHeadOnnx.Export(head);
        using var session = Session(bytes);
        var inputs = new List<NamedOnnxValue>();
        if (head.Options.UsesFace) { inputs.Add(Input(FusionHeadOnnx.FaceInput, face)); inputs.Add(Input(FusionHeadOnnx.FaceMaskInput, faceMask)); }
        if (head.Options.UsesAudio) { inputs.Add(Input(FusionHeadOnnx.AudioInput, audio)); inputs.Add(Input(FusionHeadOnnx.AudioMaskInput, audioMask)); }
        using var results = session.Run(inputs);
        float[] Out(string name) => results.First(r => r.Name == name).AsTensor<float>().ToArray();

        double scores = MaxAbs(torchScores, Out(FusionHeadOnnx.ScoresOutput));
        double faceAtt = head.Options.UsesFace ? MaxAbs(F(torchOut.FaceAttention!), Out(FusionHeadOnnx.FaceAttentionOutput)) : 0;
        double audioAtt = head.Options.UsesAudio ? MaxAbs(F(torchOut.AudioAttention!), Out(FusionHeadOnnx.AudioAttentionOutput)) : 0;
        output.WriteLine($"MAXDIFF head {modalities} face={faceKind} audio={audioKind} fusion={fusion}: scores {scores:E2}, face_attention {faceAtt:E2}, audio_attention {audioAtt:E2}");
        Assert.True(scores <= Tolerance, $"scores differ by {scores}");
        Assert.True(faceAtt <= Tolerance, $"face attention differs by {faceAtt}");
        Assert.True(audioAtt <= Tolerance, $"audio attention differs by {audioAtt}");
        if (head.Options.UsesFace) Assert.Equal(0f, Out(FusionHeadOnnx.FaceAttentionOutput)[N + 4]);
        if (head.Options.UsesAudio) Assert.All(Out(FusionHeadOnnx.AudioAttentionOutput).Skip(3 * NA), w => Assert.Equal(0f, w));
        Assert.Equal(modalities != Modalities.AudioOnly, session.InputMetadata.ContainsKey(FusionHeadOnnx.FaceInput));
        Assert.Equal(modalities != Modalities.FaceOnly, session.InputMetadata.ContainsKey(FusionHeadOnnx.AudioInput));
    }

    [Fact]
    public void FusionHeadOnnxHasSymbolicBatchAndFixedSetSizesWhenAsked()
    {
        using var scope = NewDisposeScope();
        var head = new FusionHead(new FusionHeadOptions { FaceDim = 4, AudioDim = 3, Classes = 5, FbpOutputDim = 6, FbpFactor = 2, TransformerDim = 3 });
        head.eval();
        using var session = Session(FusionHeadOnnx.Export(head, faceFrames: 9, audioPositions: 40));
        Assert.Equal([-1, 9, 4], session.InputMetadata[FusionHeadOnnx.FaceInput].Dimensions);
        Assert.Equal([-1, 40], session.InputMetadata[FusionHeadOnnx.AudioMaskInput].Dimensions);
        Assert.Equal([-1, 5], session.OutputMetadata[FusionHeadOnnx.ScoresOutput].Dimensions);
        Assert.Equal([-1, 9], session.OutputMetadata[FusionHeadOnnx.FaceAttentionOutput].Dimensions);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AudioCnnOnnxMatchesTorch(bool batchNorm)
    {
        using var scope = NewDisposeScope();
        var cnn = new Cnn(new AudioCnnOptions { BatchNorm = batchNorm });
        output.WriteLine($"audio CNN parameters: {cnn.ParameterCount}");
        const int T = 300, Fb = 200;
        if (batchNorm)
        {
            // move the running statistics away from 0/1 so the folding is exercised
            cnn.train();
            using (no_grad()) for (int i = 0; i < 3; i++) cnn.Features(rand(2, 1, T, Fb) * 3 + 0.5);
        }
        cnn.eval();
        var x = rand(2, 1, T, Fb) * 3;
        var expected = F(cnn.FeatureSet(x));
        using var session = Session(AudioCnnOnnx.Export(cnn, T, Fb));
        using var results = session.Run([Input(AudioCnnOnnx.SpectrogramInput, x)]);
        var actual = results.First(r => r.Name == AudioCnnOnnx.FeaturesOutput).AsTensor<float>();
        Assert.Equal([2, 40, 128], actual.Dimensions.ToArray());
        double diff = MaxAbs(expected, actual.ToArray());
        double scale = expected.Max(v => Math.Abs(v));
        output.WriteLine($"MAXDIFF audio CNN batchNorm={batchNorm}: {diff:E2} (max |feature| {scale:F3})");
        Assert.True(diff <= Tolerance * Math.Max(1, scale), $"features differ by {diff} (scale {scale})");
    }
}
