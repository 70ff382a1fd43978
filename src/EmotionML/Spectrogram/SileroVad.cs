using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EmotionML.Spectrogram;

/// <summary>
/// Silero VAD v5 (<see cref="ModelFiles.SileroVad"/>) on 16 kHz audio: a speech probability per 32 ms chunk (512 new
/// samples after the previous chunk's last 64, with the recurrent state carried from chunk to chunk), and the span from
/// the first to the last speech chunk. Not thread-safe (one instance per cursor; the session may be shared).
/// </summary>
internal sealed class SileroVad
{
    /// <summary>New samples per chunk at 16 kHz.</summary>
    public const int ChunkSamples = 512;

    /// <summary>Samples of the previous chunk given as context.</summary>
    public const int ContextSamples = 64;

    /// <summary>A chunk whose probability is at least this counts as speech (the upstream default).</summary>
    public const float Threshold = 0.5f;

    /// <summary>Samples kept on each side of the speech span (100 ms): word onsets and releases below the threshold.</summary>
    public const int MarginSamples = 1600;

    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions;
    private readonly DenseTensor<float> _input = new([1, ContextSamples + ChunkSamples]);
    private readonly DenseTensor<float> _state = new([2, 1, 128]);
    private readonly DenseTensor<long> _rate = new(new long[] { 16000 }, ReadOnlySpan<int>.Empty);

    /// <param name="session">A session of the Silero VAD v5 graph.</param>
    /// <param name="runOptions">Held for the instance's life (an inline one could be finalised during a run).</param>
    public SileroVad(InferenceSession session, RunOptions runOptions)
    {
        _session = session;
        _runOptions = runOptions;
    }

    /// <summary>The speech probability of every full or partial 512-sample chunk (the last one zero-padded).</summary>
    public float[] Probabilities(ReadOnlySpan<float> audio)
    {
        var chunks = (audio.Length + ChunkSamples - 1) / ChunkSamples;
        var result = new float[chunks];
        _state.Buffer.Span.Clear();
        var input = _input.Buffer.Span;
        input.Clear();
        for (var c = 0; c < chunks; c++)
        {
            // Context: the last 64 samples of the previous chunk (zeros before the first).
            input.Slice(ChunkSamples, ContextSamples).CopyTo(input);
            var start = c * ChunkSamples;
            var n = Math.Min(ChunkSamples, audio.Length - start);
            audio.Slice(start, n).CopyTo(input.Slice(ContextSamples));
            input.Slice(ContextSamples + n).Clear();
            using var outputs = _session.Run(
                [NamedOnnxValue.CreateFromTensor("input", _input), NamedOnnxValue.CreateFromTensor("state", _state), NamedOnnxValue.CreateFromTensor("sr", _rate)],
                ["output", "stateN"], _runOptions);
            result[c] = outputs.First(o => o.Name == "output").AsTensor<float>().GetValue(0);
            var next = outputs.First(o => o.Name == "stateN").AsTensor<float>();
            var state = _state.Buffer.Span;
            for (var i = 0; i < state.Length; i++) state[i] = next.GetValue(i);
        }
        return result;
    }

    /// <summary>
    /// The samples [Start, End) from the first to the last speech chunk, widened by <see cref="MarginSamples"/> on each side
    /// and clipped to the audio; the whole audio when no chunk reaches <see cref="Threshold"/> (the documented fallback:
    /// nothing is cut from a clip in which no speech was found).
    /// </summary>
    public (int Start, int End) SpeechSpan(ReadOnlySpan<float> audio)
    {
        var p = Probabilities(audio);
        var first = Array.FindIndex(p, v => v >= Threshold);
        if (first < 0) return (0, audio.Length);
        var last = Array.FindLastIndex(p, v => v >= Threshold);
        return (Math.Max(0, first * ChunkSamples - MarginSamples), Math.Min(audio.Length, (last + 1) * ChunkSamples + MarginSamples));
    }
}
