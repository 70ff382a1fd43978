using EmotionML.FaceAlignment;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EmotionML.FaceGeometry;

/// <summary>
/// The 68-point landmark CNN (<see cref="ModelFiles.FaceLandmarks68"/>) on aligned 224×224 crops. The network expects
/// a face detector's box cut out and resized to 64×64 gray (/256); in an aligned crop that box is the fixed square
/// <see cref="FaceBox"/> (in crop pixels), so no second detection is needed.
/// Thread-safe (the session is; buffers are per call).
/// </summary>
internal sealed class LandmarkDetector : IDisposable
{
    /// <summary>Input side of the network.</summary>
    public const int InputSize = 64;

    /// <summary>
    /// The face box in the 224 aligned crop (x, y, width, height), in crop pixels. Chosen without labels, on every 12th
    /// Javanese development clip: of the boxes tried (the central ArcFace square, the mean YuNet box mapped through the
    /// alignment, squares of 124–172 px), this one puts the network's eye centres, nose tip and mouth corners closest to
    /// the alignment template; <c>FaceGeometryTests.TheChosenBoxPutsTheLandmarksClosestToTheTemplate</c> measures it.
    /// </summary>
    internal static readonly (double X, double Y, double Width, double Height) FaceBox = (45, 55, 134, 134);

    private readonly OnnxRunner _runner;
    private readonly string _inputName;
    private readonly string[] _outputNames;
    private readonly RunOptions _runOptions = new();
    private readonly (double X, double Y, double Width, double Height) _box;

    /// <param name="model">The landmark CNN's ONNX bytes.</param>
    /// <param name="execution">Where it runs.</param>
    /// <param name="box">The face box in crop pixels; null = <see cref="FaceBox"/> (another only to compare boxes in tests).</param>
    public LandmarkDetector(byte[] model, OnnxExecutionOptions? execution, (double X, double Y, double Width, double Height)? box = null)
    {
        _runner = OnnxRunner.Create(model, execution, "face-landmarks68 CNN");
        _inputName = _runner.Session.InputMetadata.Keys.First();
        _outputNames = [_runner.Session.OutputMetadata.Keys.First()];
        _box = box ?? FaceBox;
    }

    public string Provider => _runner.Provider;

    /// <summary>The network input (64×64 gray / 256) of one 224×224 RGB crop.</summary>
    private void Preprocess(ReadOnlySpan<byte> crop, Span<float> input)
    {
        const int size = FaceAlignmentOptions.CropSize;
        Span<byte> rgb = stackalloc byte[InputSize * InputSize * 3];
        var (sx, sy) = (InputSize / _box.Width, InputSize / _box.Height);
        ImageWarp.Warp(crop, size, size, rgb, InputSize, InputSize, new Affine2D(sx, 0, -sx * _box.X, 0, sy, -sy * _box.Y));
        for (var i = 0; i < InputSize * InputSize; i++)
            input[i] = (0.299f * rgb[3 * i] + 0.587f * rgb[3 * i + 1] + 0.114f * rgb[3 * i + 2]) / 256f;
    }

    /// <summary>Writes the 68 landmarks of one crop (x, y in 224-crop pixels, 136 values) into <paramref name="points"/>.</summary>
    public void Detect(ReadOnlySpan<byte> crop, Span<float> points)
    {
        var input = new DenseTensor<float>([1, 1, InputSize, InputSize]);
        Preprocess(crop, input.Buffer.Span);
        using var results = _runner.Session.Run([NamedOnnxValue.CreateFromTensor(_inputName, input)], _outputNames, _runOptions);
        var output = results[0].AsTensor<float>();
        if (output.Length < 136) throw new EmotionMLException($"face-landmarks68 CNN returned {output.Length} values, expected 136.");
        var i = 0;
        foreach (var v in output)
        {
            if (i >= 136) break;
            points[i] = (float)(i % 2 == 0 ? _box.X + v * _box.Width : _box.Y + v * _box.Height);
            i++;
        }
    }

    public void Dispose()
    {
        _runOptions.Dispose();
        _runner.Dispose();
    }
}
