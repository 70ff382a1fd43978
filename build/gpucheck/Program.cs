using System.Diagnostics;
using EmotionML;
using EmotionML.Training.AudioCnn;
using EmotionML.Training.Fusion;
using EmotionML.Training.Torch;
using TorchSharp;
using static TorchSharp.torch;

var dev = TorchRuntime.Initialize(new TorchRuntimeOptions { Device = ExecutionDevice.Cuda, Threads = Environment.ProcessorCount, Seed = 0, FallbackToCpu = Environment.GetEnvironmentVariable("GPUCHECK_FALLBACK") == "1" });
Console.WriteLine($"libtorch from {TorchRuntime.LoadedLibTorchDir}; device {dev}; cuda available {torch.cuda.is_available()}, count {torch.cuda.device_count()}");
try { TorchRuntime.ResolveDevice(ExecutionDevice.Cuda, 7, false); Console.WriteLine("cuda:7 unexpectedly accepted"); }
catch (EmotionML.EmotionMLException e) { Console.WriteLine($"cuda:7 -> {e.Message}"); }

double MaxDiff(Tensor a, Tensor b) => (a.cpu() - b.cpu()).abs().max().item<float>();

// Fusion head: CPU vs CUDA, eval
foreach (var (fk, ak, fu) in new[] { (AttentionKind.Transformer, AttentionKind.Transformer, FusionKind.Fbp), (AttentionKind.Relation, AttentionKind.Self, FusionKind.Concat) })
{
    using var scope = NewDisposeScope();
    var head = new FusionHead(new FusionHeadOptions { FaceAttention = fk, AudioAttention = ak, Fusion = fu }, faceDim: 512, audioDim: 128, classes: 7);
    head.eval();
    var face = randn(32, 16, 512); var fm = (rand(32, 16) > 0.3f).to_type(ScalarType.Float32); fm[.., 0] = 1;
    var audio = randn(32, 40, 128); var am = ones(32, 40);
    var cpuOut = head.forward(face, fm, audio, am);
    head.to(dev);
    var gpuOut = head.forward(face.to(dev), fm.to(dev), audio.to(dev), am.to(dev));
    Console.WriteLine($"head {fk}/{ak}/{fu}: max|cpu-cuda| logits {MaxDiff(cpuOut.Logits, gpuOut.Logits):E2}, face att {MaxDiff(cpuOut.FaceAttention!, gpuOut.FaceAttention!):E2}");
}

// Audio CNN: CPU vs CUDA, eval
{
    using var scope = NewDisposeScope();
    var cnn = new AudioCnnNetwork();
    cnn.eval();
    var x = rand(4, 1, 300, 200);
    var c = cnn.FeatureSet(x);
    cnn.to(dev);
    var g = cnn.FeatureSet(x.to(dev));
    Console.WriteLine($"audio CNN ({cnn.ParameterCount} params): max|cpu-cuda| {MaxDiff(c, g):E2}, max|feature| {c.abs().max().item<float>():F3}");
}

// Training-step timings
void TimeCnn(Device d, int batch, int steps)
{
    using var scope = NewDisposeScope();
    var cnn = new AudioCnnNetwork(); cnn.to(d); cnn.train();
    var opt = optim.SGD(cnn.parameters(), 0.01, momentum: 0.9);
    var x = rand(batch, 1, 300, 200, device: d); var y = randint(0, 8, batch, device: d);
    for (int i = 0; i < 2; i++) { opt.zero_grad(); nn.functional.cross_entropy(cnn.forward(x), y).backward(); opt.step(); }
    if (d.type == DeviceType.CUDA) torch.cuda.synchronize();
    var sw = Stopwatch.StartNew();
    float loss = 0;
    for (int i = 0; i < steps; i++) { using var s2 = NewDisposeScope(); opt.zero_grad(); var l = nn.functional.cross_entropy(cnn.forward(x), y); l.backward(); opt.step(); if (i == steps - 1) loss = l.item<float>(); }
    if (d.type == DeviceType.CUDA) torch.cuda.synchronize();
    Console.WriteLine($"audio CNN train step, batch {batch}, {d}: {sw.Elapsed.TotalMilliseconds / steps:F1} ms/step (loss {loss:F3})");
}
void TimeHead(Device d, int batch, int steps)
{
    using var scope = NewDisposeScope();
    var head = new FusionHead(new FusionHeadOptions()); head.to(d); head.train();
    var opt = optim.Adam(head.parameters(), 1e-3);
    var face = randn(batch, 16, 512, device: d); var fm = ones(batch, 16, device: d);
    var audio = randn(batch, 40, 128, device: d); var am = ones(batch, 40, device: d); var y = randint(0, 7, batch, device: d);
    for (int i = 0; i < 2; i++) { opt.zero_grad(); nn.functional.cross_entropy(head.forward(face, fm, audio, am).Logits, y).backward(); opt.step(); }
    if (d.type == DeviceType.CUDA) torch.cuda.synchronize();
    var sw = Stopwatch.StartNew();
    for (int i = 0; i < steps; i++) { using var s2 = NewDisposeScope(); opt.zero_grad(); nn.functional.cross_entropy(head.forward(face, fm, audio, am).Logits, y).backward(); opt.step(); }
    if (d.type == DeviceType.CUDA) torch.cuda.synchronize();
    Console.WriteLine($"fusion head train step, batch {batch}, {d}: {sw.Elapsed.TotalMilliseconds / steps:F2} ms/step");
}
if (Environment.GetEnvironmentVariable("GPUCHECK_FALLBACK") == "1") { Console.WriteLine("GPUCHECK SMOKE OK"); return; }
TimeCnn(dev, 32, 20);
TimeCnn(torch.CPU, 32, 3);
TimeHead(dev, 64, 50);
TimeHead(torch.CPU, 64, 20);
Console.WriteLine("GPUCHECK OK");
