namespace EmotionML.AudioCnn;

/// <summary>
/// The geometry of EmotionML's audio CNN (five convolutions, three 3×3 stride-2 max-pools), shared by the training
/// module and by the audio feature stage, which maps a spectrogram's real frames onto the feature map's time rows.
/// </summary>
internal static class AudioCnnGeometry
{
    /// <summary>Kernel, stride, padding of each convolution and whether a max-pool follows it.</summary>
    public static readonly IReadOnlyList<(int Kernel, int Stride, int Padding, bool PoolAfter)> Layers =
    [
        (11, 4, 2, true),
        (5, 1, 2, true),
        (3, 1, 1, false),
        (3, 1, 1, false),
        (3, 1, 1, true),
    ];

    /// <summary>The max-pool kernel and stride.</summary>
    public const int PoolKernel = 3, PoolStride = 2;

    /// <summary>(H, W) of the last pooling map for a T × F input; throws <see cref="ArgumentException"/> when the input is too small.</summary>
    public static (int H, int W) FeatureMapSize(int frames, int bins)
    {
        int h = frames, w = bins;
        foreach (var l in Layers)
        {
            h = (h + 2 * l.Padding - l.Kernel) / l.Stride + 1;
            w = (w + 2 * l.Padding - l.Kernel) / l.Stride + 1;
            if (l.PoolAfter)
            {
                h = h < PoolKernel ? 0 : (h - PoolKernel) / PoolStride + 1;
                w = w < PoolKernel ? 0 : (w - PoolKernel) / PoolStride + 1;
            }
            if (h <= 0 || w <= 0) throw new ArgumentException($"A {frames}×{bins} spectrogram is too small for the audio CNN (needs about 67×67 or more).");
        }
        return (h, w);
    }

    /// <summary>
    /// The audio mask [H·W] (row-major over time rows H and frequency columns W) of a spectrogram of
    /// <paramref name="frames"/> frames of which the first <paramref name="validFrames"/> are real: a time row counts as
    /// real when the stretch of frames it stands for (row h of H covers frames from h·T/H on) starts inside the real
    /// audio, i.e. the first ⌈valid·H/T⌉ rows. No real frame → all zero.
    /// </summary>
    public static void Mask(Span<float> mask, int frames, int timeRows, int validFrames)
    {
        var w = mask.Length / timeRows;
        var valid = Math.Clamp(validFrames, 0, frames);
        var rows = (int)Math.Min(timeRows, ((long)valid * timeRows + frames - 1) / frames);
        mask.Clear();
        mask[..(rows * w)].Fill(1f);
    }
}
