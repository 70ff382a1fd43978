using TorchSharp;
using static TorchSharp.torch;

namespace EmotionML.Training;

/// <summary>
/// Adam, AdamW and Nesterov SGD as in PyTorch, with every scalar of a step held in a variable for the whole step.
/// <para>
/// Why not <c>torch.optim</c>: TorchSharp 0.107's optimisers (and any call that converts a number to a
/// <c>Scalar</c> implicitly) pass only the native handle of a temporary <c>Scalar</c>; the garbage collector may
/// finalise that temporary while the native call still reads it, which ends a long training run with "Unknown scalar
/// type" from <c>c10::Scalar</c> or a segmentation fault in libtorch (seen in <c>AdamW.step</c> in many runs). Here the
/// scalars are created once per step and disposed after it, so they outlive every native call that uses them.
/// </para>
/// </summary>
internal sealed class TrainingOptimizer : IDisposable
{
    private const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8, Momentum = 0.9;
    private const string Magic = "EMLOPT1";
    private readonly OptimizerKind _kind;
    private readonly double _weightDecay;
    private readonly IReadOnlyList<TorchSharp.Modules.Parameter> _parameters;
    private readonly Tensor?[] _first;
    private readonly Tensor?[] _second;
    private long _steps;

    public TrainingOptimizer(OptimizerKind kind, IReadOnlyList<TorchSharp.Modules.Parameter> parameters, double learningRate, double weightDecay)
    {
        _kind = kind;
        _parameters = parameters;
        _weightDecay = weightDecay;
        LearningRate = learningRate;
        _first = new Tensor?[parameters.Count];
        _second = new Tensor?[parameters.Count];
    }

    /// <summary>The learning rate of the next steps (the schedule sets it per epoch).</summary>
    public double LearningRate { get; set; }

    /// <summary>Steps taken (Adam's bias correction).</summary>
    public long Steps => _steps;

    /// <summary>Sets every parameter's gradient to zero.</summary>
    public void ZeroGrad()
    {
        foreach (var p in _parameters)
        {
            using var g = p.grad;
            g?.zero_();
        }
    }

    /// <summary>One update of every parameter that has a gradient.</summary>
    public void Step()
    {
        _steps++;
        var lr = LearningRate;
        using var guard = no_grad();
        // Held until the end of the step (the using), so no native call reads a finalised scalar.
        using var decay = (1 - lr * _weightDecay).ToScalar();
        using var weightDecay = _weightDecay.ToScalar();
        using var beta1 = Beta1.ToScalar();
        using var oneMinusBeta1 = (1 - Beta1).ToScalar();
        using var beta2 = Beta2.ToScalar();
        using var oneMinusBeta2 = (1 - Beta2).ToScalar();
        using var epsilon = Epsilon.ToScalar();
        using var sqrtCorrection2 = Math.Sqrt(1 - Math.Pow(Beta2, _steps)).ToScalar();
        using var negativeStep = (-lr / (1 - Math.Pow(Beta1, _steps))).ToScalar();
        using var momentum = Momentum.ToScalar();
        using var one = 1.0.ToScalar();
        using var negativeLr = (-lr).ToScalar();
        for (var i = 0; i < _parameters.Count; i++)
        {
            var p = _parameters[i];
            using var grad = p.grad;
            if (grad is null) continue;
            using var scope = NewDisposeScope();
            switch (_kind)
            {
                case OptimizerKind.Sgd:
                {
                    var g = _weightDecay != 0 ? grad.add(p, weightDecay) : grad;
                    if (_first[i] is null) _first[i] = g.detach().clone().DetachFromDisposeScope();
                    else _first[i]!.mul_(momentum).add_(g, one);
                    var update = g.add(_first[i]!, momentum); // Nesterov
                    p.add_(update, negativeLr);
                    break;
                }
                default:
                {
                    var g = grad;
                    if (_kind == OptimizerKind.AdamW) p.mul_(decay);
                    else if (_weightDecay != 0) g = grad.add(p, weightDecay);
                    _first[i] ??= zeros_like(p).DetachFromDisposeScope();
                    _second[i] ??= zeros_like(p).DetachFromDisposeScope();
                    _first[i]!.mul_(beta1).add_(g, oneMinusBeta1);
                    _second[i]!.mul_(beta2).addcmul_(g, g, oneMinusBeta2);
                    var denominator = _second[i]!.sqrt().div_(sqrtCorrection2).add_(epsilon, one);
                    p.addcdiv_(_first[i]!, denominator, negativeStep);
                    break;
                }
            }
        }
    }

    /// <summary>Writes the step count and the moment tensors (a checkpoint's <c>.optim</c> file).</summary>
    public void Save(string path)
    {
        using var writer = new BinaryWriter(File.Create(path));
        writer.Write(Magic);
        writer.Write(_kind.ToString());
        writer.Write(_steps);
        writer.Write(_parameters.Count);
        foreach (var state in new[] { _first, _second })
            foreach (var t in state)
            {
                if (t is null)
                {
                    writer.Write(-1L);
                    continue;
                }
                using var cpu = t.cpu();
                var values = cpu.data<float>().ToArray();
                writer.Write((long)values.Length);
                foreach (var v in values) writer.Write(v);
            }
    }

    /// <summary>Reads what <see cref="Save"/> wrote, for the same parameters.</summary>
    /// <exception cref="InvalidDataException">The file is not an optimiser state of these parameters.</exception>
    public void Load(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        if (reader.ReadString() != Magic) throw new InvalidDataException($"{path} is not an optimiser state of this version");
        var kind = reader.ReadString();
        if (kind != _kind.ToString()) throw new InvalidDataException($"the optimiser state is {kind}, not {_kind}");
        var steps = reader.ReadInt64();
        if (reader.ReadInt32() != _parameters.Count) throw new InvalidDataException("the optimiser state has another number of parameters");
        foreach (var state in new[] { _first, _second })
            for (var i = 0; i < state.Length; i++)
            {
                var n = reader.ReadInt64();
                state[i]?.Dispose();
                state[i] = null;
                if (n < 0) continue;
                if (n != _parameters[i].numel()) throw new InvalidDataException($"optimiser state {i} has {n} values, the parameter {_parameters[i].numel()}");
                var values = new float[n];
                for (var k = 0; k < n; k++) values[k] = reader.ReadSingle();
                using var host = tensor(values, _parameters[i].shape);
                state[i] = host.to(_parameters[i].device).DetachFromDisposeScope();
            }
        _steps = steps;
    }

    public void Dispose()
    {
        foreach (var t in _first.Concat(_second)) t?.Dispose();
    }
}
