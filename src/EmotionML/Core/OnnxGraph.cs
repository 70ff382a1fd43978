using Microsoft.ML.OnnxRuntime;

namespace EmotionML.Core;

/// <summary>ONNX bytes of a learned part (stored in the model zip) and a lazily created, thread-safe session over them.</summary>
internal sealed class OnnxGraph : IDisposable
{
    private readonly Lazy<OnnxRunner> _runner;

    public OnnxGraph(byte[] bytes, OnnxExecutionOptions execution, string what)
    {
        Bytes = bytes;
        _runner = new Lazy<OnnxRunner>(() =>
        {
            try
            {
                return OnnxRunner.Create(bytes, execution, what);
            }
            catch (OnnxRuntimeException e)
            {
                throw new ModelFormatException($"{what}: the stored ONNX graph cannot be loaded ({e.Message.Split('\n')[0]}).", e);
            }
        }, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public byte[] Bytes { get; }

    public InferenceSession Session => _runner.Value.Session;

    public string Provider => _runner.Value.Provider;

    public void Dispose()
    {
        if (_runner.IsValueCreated) _runner.Value.Dispose();
    }

    /// <summary>Throws <see cref="InvalidInputException"/> if any value is NaN or infinite.</summary>
    public static void CheckFinite(ReadOnlySpan<float> values, string column)
    {
        for (var i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i]))
                throw new InvalidInputException($"Column '{column}' holds {values[i]} at index {i}: features must be finite.");
    }
}
