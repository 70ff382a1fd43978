using Xunit;
using EmotionML.Training.Fusion;
using TorchSharp;
using static TorchSharp.torch;

namespace EmotionML.Tests.Fusion;

public sealed class FusionHeadTests : TorchTestBase
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FbpMatchesHandComputation(bool signedSqrt)
    {
        using var scope = NewDisposeScope();
        var fbp = new FactorizedBilinearPooling(audioDim: 2, visualDim: 3, outputDim: 2, factor: 2, dropout: 0.3, signedSqrt: signedSqrt);
        float[] ua = [0.1f, 0.2f, -0.3f, 0.4f, 0.5f, -0.6f, 0.7f, 0.8f];
        float[] ba = [0.01f, -0.02f, 0.03f, 0.04f];
        float[] uv = [0.2f, -0.1f, 0.3f, 0.0f, 0.5f, -0.4f, 0.6f, 0.1f, -0.2f, -0.3f, 0.2f, 0.1f];
        float[] bv = [0.1f, 0.0f, -0.1f, 0.2f];
        Set(fbp.AudioProjection, ua, ba);
        Set(fbp.VisualProjection, uv, bv);
        fbp.eval();
        double[] a = [1.5, -0.5];
        double[] v = [0.3, 2.0, -1.0];
        var z = fbp.forward(tensor(a.Select(x => (float)x).ToArray()).reshape(1, 2), tensor(v.Select(x => (float)x).ToArray()).reshape(1, 3));

        var prod = new double[4];
        for (int j = 0; j < 4; j++)
        {
            double pa = ba[j] + ua[2 * j] * a[0] + ua[2 * j + 1] * a[1];
            double pv = bv[j] + uv[3 * j] * v[0] + uv[3 * j + 1] * v[1] + uv[3 * j + 2] * v[2];
            prod[j] = pa * pv;
        }
        double[] pooled = [prod[0] + prod[1], prod[2] + prod[3]];
        if (signedSqrt) pooled = pooled.Select(p => Math.Sign(p) * Math.Sqrt(Math.Abs(p) + 1e-8)).ToArray();
        double norm = Math.Sqrt(pooled.Sum(p => p * p));
        Close(pooled.Select(p => p / norm).ToArray(), F(z));
    }

    [Fact]
    public void ConcatIsAudioThenFace()
    {
        using var scope = NewDisposeScope();
        var c = new ConcatFusion(2, 1);
        var z = c.forward(tensor(new float[] { 1, 2 }).reshape(1, 2), tensor(new float[] { 3 }).reshape(1, 1));
        Assert.Equal([1f, 2f, 3f], F(z));
        Assert.Equal(3, c.OutputDim);
    }

    public static TheoryData<AttentionKind, AttentionKind, FusionKind> Grid()
    {
        var data = new TheoryData<AttentionKind, AttentionKind, FusionKind>();
        foreach (var f in Enum.GetValues<AttentionKind>())
            foreach (var a in Enum.GetValues<AttentionKind>())
                foreach (var k in Enum.GetValues<FusionKind>())
                    data.Add(f, a, k);
        return data;
    }

    [Theory]
    [MemberData(nameof(Grid))]
    public void HeadShapesAndPaddingInvariance(AttentionKind faceKind, AttentionKind audioKind, FusionKind fusion)
    {
        using var scope = NewDisposeScope();
        var head = new FusionHead(new FusionHeadOptions
        {
            FaceDim = 6, AudioDim = 5, FaceAttention = faceKind, AudioAttention = audioKind, Fusion = fusion,
            TransformerDim = 4, FbpOutputDim = 8, FbpFactor = 3, Classes = 7,
        });
        head.eval();
        var face = randn(2, 4, 6);
        var faceMask = tensor(new float[] { 1, 1, 1, 1, 1, 1, 0, 0 }).reshape(2, 4);
        var audio = randn(2, 3, 5);
        var audioMask = tensor(new float[] { 1, 1, 1, 1, 0, 0 }).reshape(2, 3);
        var output = head.forward(face, faceMask, audio, audioMask);
        Assert.Equal([2L, 7L], output.Logits.shape);
        Assert.Equal([2L, 4L], output.FaceAttention!.shape);
        Assert.Equal([2L, 3L], output.AudioAttention!.shape);

        var face2 = face.clone();
        face2[1, 3] = randn(6) * 10;
        var audio2 = audio.clone();
        audio2[1, 2] = randn(5) * 10;
        var output2 = head.forward(face2, faceMask, audio2, audioMask);
        Assert.Equal(F(output.Logits), F(output2.Logits));
        Assert.Equal(0f, F(output2.FaceAttention!)[7]);
        Assert.Equal(0f, F(output2.AudioAttention!)[5]);
        var p = F(head.Predict(face, faceMask, audio, audioMask));
        Assert.Equal(1.0, p.Take(7).Sum(), 5);
    }

    [Theory]
    [InlineData(Modalities.FaceOnly)]
    [InlineData(Modalities.AudioOnly)]
    public void SingleModalityHeads(Modalities modalities)
    {
        using var scope = NewDisposeScope();
        var head = new FusionHead(new FusionHeadOptions { FaceDim = 6, AudioDim = 5, Modalities = modalities, FaceAttention = AttentionKind.Relation, Classes = 3 });
        head.eval();
        var output = modalities == Modalities.FaceOnly
            ? head.forward(randn(2, 4, 6), ones(2, 4), null, null)
            : head.forward(null, null, randn(2, 3, 5), ones(2, 3));
        Assert.Equal([2L, 3L], output.Logits.shape);
        Assert.Equal(modalities == Modalities.FaceOnly, output.FaceAttention is not null);
        Assert.Equal(modalities == Modalities.AudioOnly, output.AudioAttention is not null);
        Assert.Null(head.Fusion);
    }

    [Fact]
    public void HeadTrainsOnASeparableToyProblem()
    {
        using var scope = NewDisposeScope();
        var head = new FusionHead(new FusionHeadOptions { FaceDim = 4, AudioDim = 3, TransformerDim = 4, FbpOutputDim = 8, FbpFactor = 2, Classes = 2, ClassifierDropout = 0.1, AttentionDropout = 0.1 });
        var labels = tensor(new long[] { 0, 1, 0, 1, 0, 1, 0, 1 });
        var sign = (labels.to_type(ScalarType.Float32) * 2 - 1).reshape(8, 1, 1);
        var face = randn(8, 5, 4) * 0.5 + sign;
        var audio = randn(8, 6, 3) * 0.5 + sign;
        var fm = ones(8, 5);
        var am = ones(8, 6);
        var opt = optim.Adam(head.parameters(), 0.01);
        head.train();
        float first = 0, last = 0;
        for (int step = 0; step < 60; step++)
        {
            opt.zero_grad();
            var loss = nn.functional.cross_entropy(head.forward(face, fm, audio, am).Logits, labels);
            loss.backward();
            opt.step();
            if (step == 0) first = loss.item<float>();
            last = loss.item<float>();
        }
        Assert.True(last < first * 0.5, $"loss {first} → {last}");
        Assert.All(head.parameters(), p => Assert.False(p.grad is { } g && g.isnan().any().item<bool>()));
    }

    [Fact]
    public void OptionsRoundTripThroughJson()
    {
        var o = new FusionHeadOptions { FaceAttention = AttentionKind.Relation, Fusion = FusionKind.Concat, Modalities = Modalities.FaceOnly, FbpFactor = 5 };
        var json = System.Text.Json.JsonSerializer.Serialize(o);
        Assert.DoesNotContain("UsesFace", json);
        Assert.Equal(o, System.Text.Json.JsonSerializer.Deserialize<FusionHeadOptions>(json));
    }

    [Fact]
    public void OptionsAreValidated()
    {
        Assert.Throws<ArgumentException>(() => new FusionHead(new FusionHeadOptions { Classes = 1 }));
        Assert.Throws<ArgumentException>(() => new FusionHead(new FusionHeadOptions { AttentionDropout = 1.0 }));
        Assert.Throws<ArgumentException>(() => new FusionHead(new FusionHeadOptions { FaceDim = 0 }));
    }
}
