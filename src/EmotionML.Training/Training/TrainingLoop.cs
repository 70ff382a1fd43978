using System.Diagnostics;
using System.Text.Json;
using EmotionML.Training.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace EmotionML.Training;

/// <summary>
/// The mini-batch loop shared by the trainers: seeded shuffling, weighted cross-entropy, optimiser and schedule, a
/// validation split with early stopping (best weights restored), per-epoch progress, cancellation and checkpoints.
/// </summary>
internal static class TrainingLoop
{
    /// <summary>Logits [B, K] for the rows <paramref name="rows"/>, on <paramref name="device"/>.</summary>
    public delegate Tensor Forward(int[] rows, Device device);

    /// <summary>Training logits [B, K] of the mixup λ·x(rows) + (1 − λ)·x(partners) (rows and partners of equal length).</summary>
    public delegate Tensor MixedForward(int[] rows, int[] partners, float lambda, Device device);

    /// <summary>
    /// Runs the loop. With <paramref name="mixed"/> and <paramref name="mixupAlpha"/> &gt; 0 every training batch is mixed with
    /// a permutation of itself (mixup, λ ~ Beta(α, α) per batch) and the loss is λ·CE(y) + (1 − λ)·CE(y_partner); the
    /// permutations and λ follow from the seed and the epoch, so a resumed run draws the same. Validation is never mixed.
    /// </summary>
    public static TrainingReport Run(nn.Module model, Forward forward, TrainingTable table, TrainerOptions o, string what, MixedForward? mixed = null, double mixupAlpha = 0)
    {
        o.Validate();
        var device = TorchRuntime.Initialize(new TorchRuntimeOptions { Threads = o.Threads, Device = o.Device, DeviceId = o.DeviceId, Seed = o.Seed, FallbackToCpu = o.FallbackToCpu, Warning = o.Warning });
        model.to(device);
        var (train, validation) = table.Split(o.ValidationFraction, o.Seed);
        if (train.Length == 0) throw new InvalidInputException($"{what}: no training rows left after the validation split.");
        // Two variables, not tensor(…).to(device): outside a dispose scope an unreferenced temporary tensor can be
        // finalised (its native tensor freed) while the native call still reads it — a segfault in `to` seen in runs.
        using var hostWeights = tensor(table.ClassWeights(o.ClassWeighting, train));
        using var weights = hostWeights.to(device);
        var parameters = model.parameters().Where(p => p.requires_grad).ToList(); // fixed ones (a standardisation) are not trained
        using var optimizer = new TrainingOptimizer(o.Optimizer, parameters, o.LearningRate, o.WeightDecay);
        var rng = new Random(o.Seed);
        var history = new List<TrainingProgress>();
        var bestLoss = double.PositiveInfinity;
        var bestEpoch = 0;
        Dictionary<string, Tensor>? best = null;
        var startEpoch = 1;
        var patience = 0;
        if (o.CheckpointPath is { } ckpt && File.Exists(ckpt + ".json"))
        {
            var state = Checkpoint.Read(ckpt, model, optimizer, out best);
            startEpoch = state.Epoch + 1;
            bestLoss = state.BestLoss;
            bestEpoch = state.BestEpoch;
            patience = state.Patience;
            history.AddRange(state.History);
            // Replay the shuffles of the finished epochs so a resumed run sees the same batches as an uninterrupted one.
            for (var e = 1; e < startEpoch; e++) Shuffle(train, rng);
            if (validation.Length > 0 && patience >= o.EarlyStoppingPatience) startEpoch = o.MaxEpochs + 1; // it had stopped early
        }
        for (var epoch = startEpoch; epoch <= o.MaxEpochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            SetLearningRate(optimizer, o, epoch);
            model.train();
            Shuffle(train, rng);
            var mixRng = new Random(unchecked(o.Seed * 7919 + epoch));
            double lossSum = 0;
            var batches = (train.Length + o.BatchSize - 1) / o.BatchSize;
            for (var start = 0; start < train.Length; start += o.BatchSize)
            {
                o.Cancellation.ThrowIfCancellationRequested();
                var rows = train.AsSpan(start, Math.Min(o.BatchSize, train.Length - start)).ToArray();
                using var scope = NewDisposeScope();
                optimizer.ZeroGrad();
                var target = tensor(rows.Select(r => (long)table.Labels[r]).ToArray()).to(device);
                Tensor loss;
                if (mixed != null && mixupAlpha > 0)
                {
                    var partners = (int[])rows.Clone();
                    Shuffle(partners, mixRng);
                    var lambda = (float)Beta(mixRng, mixupAlpha);
                    var logits = mixed(rows, partners, lambda, device);
                    var partnerTarget = tensor(partners.Select(r => (long)table.Labels[r]).ToArray()).to(device);
                    // Explicit scalars held across the native calls (see TrainingOptimizer on implicit ones).
                    using var own = ((double)lambda).ToScalar();
                    using var partner = (1.0 - lambda).ToScalar();
                    loss = nn.functional.cross_entropy(logits, target, weights).mul(own).add(nn.functional.cross_entropy(logits, partnerTarget, weights), partner);
                }
                else loss = nn.functional.cross_entropy(forward(rows, device), target, weights);
                loss.backward();
                optimizer.Step();
                lossSum += loss.item<float>() * rows.Length;
                o.BatchProgress?.Report(new BatchProgress(epoch, start / o.BatchSize + 1, batches, lossSum / (start + rows.Length), clock.Elapsed.TotalSeconds));
            }
            var trainLoss = lossSum / train.Length;
            double valLoss = double.NaN, valAcc = double.NaN;
            if (validation.Length > 0) (valLoss, valAcc) = Evaluate(model, forward, table, validation, weights, device, o.BatchSize);
            var criterion = validation.Length == 0 ? trainLoss : o.EarlyStoppingMetric == EarlyStoppingMetric.Accuracy ? -valAcc : valLoss;
            var isBest = criterion < bestLoss - 1e-6 || validation.Length == 0;
            if (isBest)
            {
                bestLoss = criterion;
                bestEpoch = epoch;
                DisposeAll(best);
                best = Snapshot(model);
                patience = 0;
            }
            else patience++;
            var progress = new TrainingProgress(epoch, o.MaxEpochs, trainLoss, valLoss, valAcc, isBest, clock.Elapsed.TotalSeconds);
            history.Add(progress);
            o.Progress?.Report(progress);
            if (o.CheckpointPath is { } path)
                Checkpoint.Write(path, model, optimizer, best, new CheckpointState(epoch, bestLoss, bestEpoch, patience, history.ToList(), []));
            if (validation.Length > 0 && patience >= o.EarlyStoppingPatience) break;
        }
        if (best != null)
        {
            using (no_grad())
                foreach (var (name, p) in model.state_dict())
                    p.copy_(best[name]);
            DisposeAll(best);
        }
        model.eval();
        model.to(CPU);
        return new TrainingReport(history, bestEpoch, train.Length, validation.Length);
    }

    /// <summary>What a checkpoint holds besides the tensors: the epoch done, best loss/epoch, patience, the epochs' progress and the CPU generator.</summary>
    private sealed record CheckpointState(int Epoch, double BestLoss, int BestEpoch, int Patience, List<TrainingProgress> History, byte[] TorchRngState);

    /// <summary>
    /// An exact checkpoint after an epoch: <c>path</c> the current weights, <c>path.best</c> the best weights,
    /// <c>path.optim</c> the optimiser's state (Adam/AdamW moments, SGD momentum), <c>path.json</c> the
    /// <see cref="CheckpointState"/> with TorchSharp's CPU generator state (dropout). The shuffles and the learning-rate
    /// schedule follow from the epoch number. Each file is written to a temporary name and moved; the JSON is written
    /// last, so a checkpoint is complete when its JSON exists.
    /// </summary>
    private static class Checkpoint
    {
        private static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

        public static void Write(string path, nn.Module model, TrainingOptimizer optimizer, Dictionary<string, Tensor>? best, CheckpointState state)
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (dir != null) Directory.CreateDirectory(dir);
            Save(path, p => model.save(p));
            if (best != null)
            {
                // The module writes the best weights: swap them in, save, swap the current ones back.
                var current = Snapshot(model);
                Copy(model, best);
                Save(path + ".best", p => model.save(p));
                Copy(model, current);
                DisposeAll(current);
            }
            Save(path + ".optim", optimizer.Save);
            using var rng = torch.random.get_rng_state();
            var withRng = state with { TorchRngState = rng.data<byte>().ToArray() };
            Save(path + ".json", p => File.WriteAllText(p, JsonSerializer.Serialize(withRng, Json)));
        }

        public static CheckpointState Read(string path, nn.Module model, TrainingOptimizer optimizer, out Dictionary<string, Tensor>? best)
        {
            CheckpointState state;
            try
            {
                state = JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(path + ".json"), Json)
                    ?? throw new InvalidDataException("empty checkpoint state");
                best = null;
                if (File.Exists(path + ".best"))
                {
                    model.load(path + ".best");
                    best = Snapshot(model);
                }
                model.load(path);
                optimizer.Load(path + ".optim");
            }
            catch (Exception e) when (e is IOException or InvalidDataException or JsonException or ArgumentException or NotSupportedException)
            {
                throw new InvalidInputException($"{path}: checkpoint cannot be resumed ({e.Message}); delete {path}* to start over.");
            }
            if (state.TorchRngState.Length > 0)
            {
                using var rng = torch.tensor(state.TorchRngState, dtype: ScalarType.Byte);
                torch.random.set_rng_state(rng);
            }
            return state;
        }

        private static void Save(string path, Action<string> write)
        {
            write(path + ".tmp");
            File.Move(path + ".tmp", path, overwrite: true);
        }

        private static void Copy(nn.Module model, Dictionary<string, Tensor> weights)
        {
            using (no_grad())
                foreach (var (name, p) in model.state_dict())
                    p.copy_(weights[name]);
        }
    }

    private static (double Loss, double Accuracy) Evaluate(nn.Module model, Forward forward, TrainingTable table, int[] rows, Tensor weights, Device device, int batch)
    {
        model.eval();
        double lossSum = 0, correct = 0, weightSum = 0;
        using var _ = no_grad();
        for (var start = 0; start < rows.Length; start += batch)
        {
            using var scope = NewDisposeScope();
            var part = rows.AsSpan(start, Math.Min(batch, rows.Length - start)).ToArray();
            var logits = forward(part, device);
            var target = tensor(part.Select(r => (long)table.Labels[r]).ToArray()).to(device);
            // Weighted mean loss, accumulated exactly over batches.
            var w = weights.index_select(0, target);
            lossSum += (nn.functional.cross_entropy(logits, target, reduction: nn.Reduction.None) * w).sum().item<float>();
            weightSum += w.sum().item<float>();
            correct += logits.argmax(1).eq(target).sum().item<long>();
        }
        return (lossSum / Math.Max(weightSum, 1e-12), correct / rows.Length);
    }

    private static void SetLearningRate(TrainingOptimizer optimizer, TrainerOptions o, int epoch)
    {
        var t = (epoch - 1) / (double)Math.Max(1, o.MaxEpochs - 1);
        var lr = o.Schedule switch
        {
            LearningRateSchedule.Cosine => o.LearningRate * (0.01 + 0.99 * 0.5 * (1 + Math.Cos(Math.PI * t))),
            LearningRateSchedule.Step => o.LearningRate * (t >= 0.75 ? 0.01 : t >= 0.5 ? 0.1 : 1),
            _ => o.LearningRate,
        };
        optimizer.LearningRate = lr;
    }

    /// <summary>A Beta(α, α) draw as X / (X + Y) of two Gamma(α) draws.</summary>
    internal static double Beta(Random rng, double alpha)
    {
        var x = Gamma(rng, alpha);
        var y = Gamma(rng, alpha);
        return x + y > 0 ? x / (x + y) : 0.5;
    }

    /// <summary>A Gamma(α, 1) draw (Marsaglia–Tsang; α &lt; 1 by the U^(1/α) boost).</summary>
    private static double Gamma(Random rng, double alpha)
    {
        if (alpha < 1) return Gamma(rng, alpha + 1) * Math.Pow(1 - rng.NextDouble(), 1 / alpha);
        var d = alpha - 1.0 / 3;
        var c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double z, v;
            do
            {
                // Box–Muller normal.
                z = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
                v = 1 + c * z;
            } while (v <= 0);
            v = v * v * v;
            var u = 1 - rng.NextDouble();
            if (Math.Log(u) < 0.5 * z * z + d - d * v + d * Math.Log(v)) return d * v;
        }
    }

    private static void Shuffle(int[] a, Random rng)
    {
        for (var i = a.Length - 1; i > 0; i--)
        {
            var j = rng.Next(i + 1);
            (a[i], a[j]) = (a[j], a[i]);
        }
    }

    private static Dictionary<string, Tensor> Snapshot(nn.Module model)
    {
        // A scope holds each detach() temporary until its clone exists: unheld, it could be finalised while clone() reads
        // it (silently wrong best weights, seen as resumed runs that differed from uninterrupted ones).
        using var scope = NewDisposeScope();
        return model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().MoveToOuterDisposeScope());
    }

    private static void DisposeAll(Dictionary<string, Tensor>? d)
    {
        if (d == null) return;
        foreach (var t in d.Values) t.Dispose();
    }

    /// <summary>Stacks rows of flat float vectors into a tensor of the given shape (first dim = rows).</summary>
    public static Tensor Stack(float[][] source, int[] rows, long[] itemShape, Device device)
    {
        var per = (int)itemShape.Aggregate(1L, (a, b) => a * b);
        var data = new float[rows.Length * per];
        for (var i = 0; i < rows.Length; i++) source[rows[i]].AsSpan(0, per).CopyTo(data.AsSpan(i * per, per));
        return tensor(data, [rows.Length, .. itemShape]).to(device);
    }
}
