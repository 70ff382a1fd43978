using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EmotionML.Spectrogram;

/// <summary>
/// Power spectra <c>re² + im²</c> of windowed, zero-padded frames of a real signal: a real-input FFT of size N done as one
/// complex FFT of size N/2 (even samples real, odd samples imaginary) and a split step, with the window, the bit-reversal
/// permutation, the twiddles and the buffers made once. SIMD runs across frames: each lane of a <see cref="Vector{T}"/>
/// holds a different frame, so every butterfly is plain vector arithmetic without shuffles. Not thread-safe (one per cursor).
/// </summary>
/// <typeparam name="T">The arithmetic of the FFT: <see cref="float"/> (twice the lanes) or <see cref="double"/>.</typeparam>
/// <remarks>
/// Chosen over NWaves' <c>Stft</c> (one scalar FFT per frame, a new array per frame) and over a per-frame scalar FFT after
/// measuring all on the same audio with the benchmarks project (tests/EmotionML.Benchmarks, stage <c>spectrogram</c>);
/// docs/performance.md gives the figures.
/// </remarks>
internal sealed class FramePowerSpectrum<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int _half, _window;
    private readonly T[] _windowValues;
    private readonly int[] _bitReverse;
    private readonly T[] _twRe, _twIm;     // per stage, concatenated: exp(−2πi·k/len), k < len/2
    private readonly T[] _postRe, _postIm; // exp(−2πi·k/N), k ≤ N/2
    private readonly T[] _re, _im;         // [N/2][lanes]
    private readonly T[] _power;           // [bins][lanes]
    private int _bins;

    /// <param name="fftSize">N, a power of two ≥ 4.</param>
    /// <param name="window">The window (its length ≤ N, even); the frame is zero-padded to N after it.</param>
    public FramePowerSpectrum(int fftSize, ReadOnlySpan<double> window)
    {
        if (fftSize < 4 || !BitOperations.IsPow2(fftSize)) throw new ArgumentOutOfRangeException(nameof(fftSize), fftSize, "FFT size must be a power of two ≥ 4.");
        if (window.Length > fftSize || window.Length % 2 != 0) throw new ArgumentException("window length must be even and ≤ the FFT size", nameof(window));
        FftSize = fftSize;
        _half = fftSize / 2;
        _window = window.Length;
        _windowValues = new T[window.Length];
        for (var i = 0; i < window.Length; i++) _windowValues[i] = T.CreateTruncating(window[i]);
        var bits = BitOperations.Log2((uint)_half);
        _bitReverse = new int[_half];
        for (var i = 0; i < _half; i++)
        {
            var r = 0;
            for (var b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
            _bitReverse[i] = r;
        }
        _twRe = new T[Math.Max(1, _half - 1)];
        _twIm = new T[_twRe.Length];
        var o = 0;
        for (var len = 2; len <= _half; len <<= 1)
            for (var k = 0; k < len / 2; k++, o++)
            {
                _twRe[o] = T.CreateTruncating(Math.Cos(-2 * Math.PI * k / len));
                _twIm[o] = T.CreateTruncating(Math.Sin(-2 * Math.PI * k / len));
            }
        _postRe = new T[_half + 1];
        _postIm = new T[_half + 1];
        for (var k = 0; k <= _half; k++)
        {
            _postRe[k] = T.CreateTruncating(Math.Cos(-2 * Math.PI * k / fftSize));
            _postIm[k] = T.CreateTruncating(Math.Sin(-2 * Math.PI * k / fftSize));
        }
        _re = new T[_half * Lanes];
        _im = new T[_half * Lanes];
        _power = new T[(_half + 1) * Lanes];
    }

    /// <summary>Frames transformed together (the SIMD width).</summary>
    public static int Lanes => Vector<T>.Count;

    public int FftSize { get; }

    /// <summary>
    /// Writes the power of bins 0..<paramref name="bins"/>−1 of <paramref name="frames"/> frames, frame t starting at sample
    /// <c>t·hop</c> of <paramref name="signal"/>, into <paramref name="output"/> ([frames, bins], row-major).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loops: optimised from the first call, not after tiering
    public void Compute(ReadOnlySpan<float> signal, int frames, int hop, int bins, Span<float> output)
    {
        if (bins < 1 || bins > _half + 1) throw new ArgumentOutOfRangeException(nameof(bins));
        if (frames > 0 && (frames - 1) * hop + _window > signal.Length) throw new ArgumentException("signal shorter than the frames", nameof(signal));
        if (output.Length < frames * bins) throw new ArgumentException("output too small", nameof(output));
        _bins = bins;
        var lanes = Lanes;
        for (var t0 = 0; t0 < frames; t0 += lanes)
        {
            var count = Math.Min(lanes, frames - t0);
            Load(signal, t0, count, hop);
            Butterflies();
            Split();
            for (var j = 0; j < count; j++)
            {
                var row = output.Slice((t0 + j) * bins, bins);
                for (var k = 0; k < bins; k++) row[k] = float.CreateTruncating(_power[k * lanes + j]);
            }
        }
    }

    /// <summary>z[n] = w[2n]x[2n] + i·w[2n+1]x[2n+1] of each lane's frame, stored at bit-reversed n; zero after the window.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loops: optimised from the first call, not after tiering
    private void Load(ReadOnlySpan<float> signal, int t0, int count, int hop)
    {
        var lanes = Lanes;
        Array.Clear(_re);
        Array.Clear(_im);
        var w = _windowValues;
        for (var j = 0; j < count; j++)
        {
            var frame = signal.Slice((t0 + j) * hop, _window);
            for (var n = 0; n < _window / 2; n++)
            {
                var at = _bitReverse[n] * lanes + j;
                _re[at] = T.CreateTruncating(frame[2 * n]) * w[2 * n];
                _im[at] = T.CreateTruncating(frame[2 * n + 1]) * w[2 * n + 1];
            }
        }
    }

    /// <summary>In-place radix-2 decimation-in-time complex FFT of size N/2 on bit-reversed input, all lanes at once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loops: optimised from the first call, not after tiering
    private void Butterflies()
    {
        var re = MemoryMarshal.Cast<T, Vector<T>>(_re.AsSpan());
        var im = MemoryMarshal.Cast<T, Vector<T>>(_im.AsSpan());
        var n = _half;
        // len = 2: twiddle 1.
        for (var i = 0; i < n; i += 2)
        {
            var ar = re[i]; var ai = im[i]; var br = re[i + 1]; var bi = im[i + 1];
            re[i] = ar + br; im[i] = ai + bi;
            re[i + 1] = ar - br; im[i + 1] = ai - bi;
        }
        var offset = 1;
        for (var len = 4; len <= n; len <<= 1)
        {
            var m = len / 2;
            for (var k = 0; k < m; k++)
            {
                var wr = new Vector<T>(_twRe[offset + k]);
                var wi = new Vector<T>(_twIm[offset + k]);
                for (var a = k; a < n; a += len)
                {
                    var b = a + m;
                    var br = re[b]; var bi = im[b];
                    var xr = br * wr - bi * wi;
                    var xi = br * wi + bi * wr;
                    var ar = re[a]; var ai = im[a];
                    re[b] = ar - xr; im[b] = ai - xi;
                    re[a] = ar + xr; im[a] = ai + xi;
                }
            }
            offset += m;
        }
    }

    /// <summary>X[k] = E[k] + e^{−2πik/N}·O[k] from the half-size transform Z; power into <see cref="_power"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loops: optimised from the first call, not after tiering
    private void Split()
    {
        var re = MemoryMarshal.Cast<T, Vector<T>>(_re.AsSpan());
        var im = MemoryMarshal.Cast<T, Vector<T>>(_im.AsSpan());
        var power = MemoryMarshal.Cast<T, Vector<T>>(_power.AsSpan());
        var half = new Vector<T>(T.CreateTruncating(0.5));
        var n = _half;
        for (var k = 0; k < _bins; k++)
        {
            var p = k % n; var q = (n - k) % n;
            var a = re[p]; var b = im[p]; var c = re[q]; var d = im[q];
            var er = (a + c) * half; var ei = (b - d) * half;
            var or = (b + d) * half; var oi = (c - a) * half;
            var wr = new Vector<T>(_postRe[k]); var wi = new Vector<T>(_postIm[k]);
            var xr = er + wr * or - wi * oi;
            var xi = ei + wr * oi + wi * or;
            power[k] = xr * xr + xi * xi;
        }
    }
}
