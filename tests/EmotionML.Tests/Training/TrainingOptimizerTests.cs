using EmotionML.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace EmotionML.Tests.Training;

/// <summary>
/// The optimiser with explicitly held scalars takes the same steps as TorchSharp's own <c>torch.optim</c> (the
/// reference: PyTorch's update rules), and its state round-trips through a checkpoint file.
/// </summary>
public sealed class TrainingOptimizerTests : Fusion.TorchTestBase
{
    private static (nn.Module<Tensor, Tensor> A, nn.Module<Tensor, Tensor> B) Twins()
    {
        manual_seed(7);
        var a = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3));
        var b = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3));
        using (no_grad())
            foreach (var ((_, pa), (_, pb)) in a.named_parameters().Zip(b.named_parameters()))
                pb.copy_(pa);
        return (a, b);
    }

    private static void Backward(nn.Module<Tensor, Tensor> m, int step)
    {
        using var scope = NewDisposeScope();
        manual_seed(100 + step);
        var x = randn(6, 5);
        var y = randint(0, 3, [6], dtype: ScalarType.Int64);
        nn.functional.cross_entropy(m.forward(x), y).backward();
    }

    [Theory]
    [InlineData(OptimizerKind.AdamW)]
    [InlineData(OptimizerKind.Adam)]
    [InlineData(OptimizerKind.Sgd)]
    public void StepsEqualTorchSharpsOwnOptimiser(OptimizerKind kind)
    {
        var (ours, reference) = Twins();
        const double lr = 0.01, decay = 0.05;
        using var mine = new TrainingOptimizer(kind, ours.parameters().ToList(), lr, decay);
        optim.Optimizer theirs = kind switch
        {
            OptimizerKind.Adam => optim.Adam(reference.parameters(), lr, weight_decay: decay),
            OptimizerKind.Sgd => optim.SGD(reference.parameters(), lr, momentum: 0.9, nesterov: true, weight_decay: decay),
            _ => optim.AdamW(reference.parameters(), lr, weight_decay: decay),
        };
        for (var step = 0; step < 5; step++)
        {
            mine.ZeroGrad();
            theirs.zero_grad();
            Backward(ours, step);
            Backward(reference, step);
            mine.Step();
            theirs.step();
        }
        var moved = false;
        foreach (var ((name, pa), (_, pb)) in ours.named_parameters().Zip(reference.named_parameters()))
        {
            var a = pa.data<float>().ToArray();
            var b = pb.data<float>().ToArray();
            for (var i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) < 1e-6, $"{kind} {name}[{i}]: {a[i]} vs {b[i]}");
            moved |= pa.requires_grad;
        }
        Assert.True(moved);
        // And the parameters did move (a no-op optimiser would fail the comparison only if torch's moved).
        var (fresh, _) = Twins();
        Assert.NotEqual(fresh.parameters().First().data<float>().ToArray(), ours.parameters().First().data<float>().ToArray());
    }

    [Fact]
    public void StateRoundTripsThroughItsFile()
    {
        var (a, b) = Twins();
        using var first = new TrainingOptimizer(OptimizerKind.AdamW, a.parameters().ToList(), 0.01, 0.01);
        using var second = new TrainingOptimizer(OptimizerKind.AdamW, b.parameters().ToList(), 0.01, 0.01);
        for (var step = 0; step < 3; step++)
        {
            first.ZeroGrad(); Backward(a, step); first.Step();
            second.ZeroGrad(); Backward(b, step); second.Step();
        }
        var path = Path.Combine(TestData.TempDir("optimizer"), "state.optim");
        first.Save(path);
        // A third optimiser on b's parameters, loaded from a's state (equal to b's), continues exactly like b's own.
        var (c, _) = Twins();
        using (no_grad())
            foreach (var ((_, pc), (_, pb)) in c.named_parameters().Zip(b.named_parameters()))
                pc.copy_(pb);
        using var resumed = new TrainingOptimizer(OptimizerKind.AdamW, c.parameters().ToList(), 0.01, 0.01);
        resumed.Load(path);
        Assert.Equal(3, resumed.Steps);
        second.ZeroGrad(); Backward(b, 3); second.Step();
        resumed.ZeroGrad(); Backward(c, 3); resumed.Step();
        Assert.Equal(b.parameters().Last().data<float>().ToArray(), c.parameters().Last().data<float>().ToArray());
        // Another kind's state is refused with a reason.
        using var sgd = new TrainingOptimizer(OptimizerKind.Sgd, c.parameters().ToList(), 0.01, 0.01);
        var e = Assert.Throws<InvalidDataException>(() => sgd.Load(path));
        Assert.Contains("AdamW", e.Message);
    }
}
