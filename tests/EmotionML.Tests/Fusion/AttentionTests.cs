using Xunit;
using EmotionML.Training.Fusion;
using static TorchSharp.torch;

namespace EmotionML.Tests.Fusion;

public sealed class AttentionTests : TorchTestBase
{
    // B=1, N=3, d=2; the third frame is padding.
    private static readonly float[] Frames = [1f, 2f, 3f, -1f, 0.5f, 0.5f];
    private static readonly float[] Mask = [1f, 1f, 0f];
    private static readonly double[][] Real = [[1, 2], [3, -1]];

    private static Tensor Features(float[]? padded = null)
    {
        var data = (float[])Frames.Clone();
        if (padded is not null) { data[4] = padded[0]; data[5] = padded[1]; }
        return tensor(data).reshape(1, 3, 2);
    }

    private static Tensor MaskT => tensor(Mask).reshape(1, 3);

    [Fact]
    public void SelfAttentionMatchesHandComputation()
    {
        using var scope = NewDisposeScope();
        var att = new SelfAttention(2, dropout: 0.5);
        Set(att.Score, [0.3f, -0.2f], [0.1f]);
        att.eval();
        var (pooled, weights) = att.forward(Features(), MaskT);

        double[] alpha = Real.Select(f => Sigmoid(0.3 * f[0] - 0.2 * f[1] + 0.1)).ToArray();
        double sum = alpha.Sum();
        Close([alpha[0] / sum, alpha[1] / sum, 0], F(weights));
        Close([(alpha[0] * 1 + alpha[1] * 3) / sum, (alpha[0] * 2 + alpha[1] * -1) / sum], F(pooled));
        Assert.Equal(0f, F(weights)[2]);
        Assert.Equal([1L, 2L], pooled.shape);
        Assert.Equal([1L, 3L], weights.shape);

        var (pooled2, weights2) = att.forward(Features([100f, -50f]), MaskT);
        Assert.Equal(F(pooled), F(pooled2));
        Assert.Equal(F(weights), F(weights2));
    }

    [Fact]
    public void RelationAttentionMatchesHandComputation()
    {
        using var scope = NewDisposeScope();
        var att = new RelationAttention(2, dropout: 0.5);
        Set(att.Self.Score, [0.3f, -0.2f], [0.1f]);
        Set(att.Relation, [0.2f, -0.1f, 0.05f, 0.3f], [-0.2f]);
        att.eval();
        var (pooled, weights) = att.forward(Features(), MaskT);

        double[] alpha = Real.Select(f => Sigmoid(0.3 * f[0] - 0.2 * f[1] + 0.1)).ToArray();
        double[] fs = [(alpha[0] * 1 + alpha[1] * 3) / alpha.Sum(), (alpha[0] * 2 + alpha[1] * -1) / alpha.Sum()];
        double[] beta = Real.Select(f => Sigmoid(0.2 * f[0] - 0.1 * f[1] + 0.05 * fs[0] + 0.3 * fs[1] - 0.2)).ToArray();
        double[] ab = [alpha[0] * beta[0], alpha[1] * beta[1]];
        double s = ab.Sum();
        Close([ab[0] / s, ab[1] / s, 0], F(weights));
        double[] fr =
        [
            (ab[0] * 1 + ab[1] * 3) / s, (ab[0] * 2 + ab[1] * -1) / s,
            (ab[0] * fs[0] + ab[1] * fs[0]) / s, (ab[0] * fs[1] + ab[1] * fs[1]) / s,
        ];
        Close(fr, F(pooled));
        Assert.Equal(0f, F(weights)[2]);
        Assert.Equal(4, att.OutputDim);

        var (pooled2, weights2) = att.forward(Features([-7f, 42f]), MaskT);
        Assert.Equal(F(pooled), F(pooled2));
        Assert.Equal(F(weights), F(weights2));
    }

    [Fact]
    public void TransformerAttentionMatchesHandComputation()
    {
        using var scope = NewDisposeScope();
        var att = new TransformerAttention(2, reducedDim: 2, dropout: 0.5);
        Set(att.Project, [0.5f, -0.3f, 0.2f, 0.4f], [0.1f, -0.1f]);
        Set(att.Context, [1.0f, -0.5f], null);
        att.eval();
        var (pooled, weights) = att.forward(Features(), MaskT);

        double[] gamma = Real.Select(f =>
        {
            double h0 = Math.Tanh(0.5 * f[0] - 0.3 * f[1] + 0.1), h1 = Math.Tanh(0.2 * f[0] + 0.4 * f[1] - 0.1);
            return Math.Exp(1.0 * h0 - 0.5 * h1);
        }).ToArray();
        double sum = gamma.Sum();
        Close([gamma[0] / sum, gamma[1] / sum, 0], F(weights));
        Close([(gamma[0] * 1 + gamma[1] * 3) / sum, (gamma[0] * 2 + gamma[1] * -1) / sum], F(pooled));
        Assert.Equal(0f, F(weights)[2]);

        var (pooled2, weights2) = att.forward(Features([1e3f, -1e3f]), MaskT);
        Assert.Equal(F(pooled), F(pooled2));
        Assert.Equal(F(weights), F(weights2));
    }

    [Theory]
    [InlineData(AttentionKind.Self)]
    [InlineData(AttentionKind.Relation)]
    [InlineData(AttentionKind.Transformer)]
    public void AllPaddingRowPoolsToZerosAndOtherRowsAreUnaffected(AttentionKind kind)
    {
        using var scope = NewDisposeScope();
        var att = AttentionPooling.Create(kind, 4, 0.5, 3);
        att.eval();
        var x = randn(2, 5, 4);
        var mask = tensor(new float[] { 1, 1, 1, 0, 0, 0, 0, 0, 0, 0 }).reshape(2, 5);
        var (pooled, weights) = att.forward(x, mask);
        Assert.All(F(pooled[1]), v => Assert.Equal(0f, v));
        Assert.All(F(weights[1]), v => Assert.Equal(0f, v));
        var w0 = F(weights[0]);
        Assert.Equal(1.0, w0.Sum(), 5);
        Assert.Equal(0f, w0[3]);
        Assert.Equal(0f, w0[4]);

        // Same first row alone, without padding.
        var (single, _) = att.forward(x[0].narrow(0, 0, 3).unsqueeze(0), ones(1, 3));
        Close(F(single).Select(v => (double)v).ToArray(), F(pooled[0]), 1e-6);
    }

    [Fact]
    public void DropoutIsActiveOnlyInTraining()
    {
        using var scope = NewDisposeScope();
        var att = new SelfAttention(8, dropout: 0.5);
        var x = randn(1, 6, 8);
        var m = ones(1, 6);
        att.train();
        var (_, w1) = att.forward(x, m);
        var (_, w2) = att.forward(x, m);
        Assert.NotEqual(F(w1), F(w2));
        att.eval();
        var (_, w3) = att.forward(x, m);
        var (_, w4) = att.forward(x, m);
        Assert.Equal(F(w3), F(w4));
    }
}
