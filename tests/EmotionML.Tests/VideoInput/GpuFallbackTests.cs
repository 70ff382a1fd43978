using EmotionML.FaceAlignment;
using EmotionML.VideoInput;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace EmotionML.Tests.VideoInput;

/// <summary>CUDA asked for on a machine (or build) without it: CPU fallback with a warning, or a clear error.</summary>
public sealed class GpuFallbackTests
{
    private sealed class Clip { public string VideoPath { get; set; } = ""; }

    private static IDataView Run(ExecutionDevice device, bool fallback, MLContext? context = null)
    {
        var ml = context ?? new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable([new Clip { VideoPath = TestData.Javanese("01-02-01_01.mp4") }]);
        var options = new FaceAlignmentOptions { MaxFrames = 2, Execution = new OnnxExecutionOptions { Device = device, FallbackToCpu = fallback } };
        return ml.Transforms.LoadVideo(new VideoInputOptions { FrameCount = 2, DecodeAudio = false }).Append(ml.Transforms.AlignFaces(options)).Fit(data).Transform(data);
    }

    [NoOnnxCudaFact]
    public void CudaWithoutCudaFallsBackToCpuWithTheSameResult()
    {
        var cpu = Run(ExecutionDevice.Cpu, true).GetColumn<float[]>("FaceLandmarks").Single();
        // The warning goes through the MLContext's channel (mlContext.Log), not the console.
        var ml = new MLContext(seed: 1);
        var warnings = new List<string>();
        ml.Log += (_, e) => { if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning) lock (warnings) warnings.Add(e.RawMessage); };
        var stderr = Console.Error;
        var captured = new StringWriter();
        Console.SetError(captured);
        float[] cuda;
        try { cuda = Run(ExecutionDevice.Cuda, true, ml).GetColumn<float[]>("FaceLandmarks").Single(); }
        finally { Console.SetError(stderr); }
        Assert.Equal(cpu, cuda);
        Assert.Contains(warnings, w => w.StartsWith("YuNet face detector: CUDA execution provider unavailable", StringComparison.Ordinal) && w.EndsWith("running on CPU.", StringComparison.Ordinal));
        Assert.Equal("", captured.ToString());
    }

    [NoOnnxCudaFact]
    public void CudaWithoutFallbackGivesAClearError()
    {
        var e = Assert.ThrowsAny<Exception>(() => Run(ExecutionDevice.Cuda, false).GetColumn<float[]>("FaceLandmarks").Single());
        while (e is not EmotionMLException && e.InnerException != null) e = e.InnerException;
        Assert.IsType<EmotionMLException>(e);
        Assert.Contains("CUDA", e.Message);
        Assert.Contains("EmlOnnxRuntime=Gpu", e.Message);
    }

    [OnnxCudaFact]
    public void CudaFindsTheSameLandmarksAsCpu()
    {
        var cpu = Run(ExecutionDevice.Cpu, false).GetColumn<float[]>("FaceLandmarks").Single();
        var cuda = Run(ExecutionDevice.Cuda, false).GetColumn<float[]>("FaceLandmarks").Single();
        Assert.Contains(cpu, v => v != 0);
        for (var i = 0; i < cpu.Length; i++) Assert.True(Math.Abs(cpu[i] - cuda[i]) < 0.5, $"landmark value {i}: CPU {cpu[i]}, CUDA {cuda[i]}");
    }
}
