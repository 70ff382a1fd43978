namespace EmotionML.FaceAlignment;

/// <summary>Aligned faces of one clip, in the fixed shapes of the stage's outputs.</summary>
internal sealed class AlignedClip
{
    public AlignedClip(int maxFrames)
    {
        Crops = new byte[maxFrames * FaceAlignmentOptions.CropSize * FaceAlignmentOptions.CropSize * 3];
        Found = new bool[maxFrames];
        Landmarks = new float[maxFrames * 10];
        Boxes = new float[maxFrames * 4];
        Mask = new float[maxFrames];
    }

    public byte[] Crops { get; }
    public bool[] Found { get; }
    public float[] Landmarks { get; }
    public float[] Boxes { get; }
    public float[] Mask { get; }

    /// <summary>1 where a real frame has a face; the frame mask itself when no frame has one.</summary>
    public float[] FaceMask => _faceMask ??= ComputeFaceMask();

    private float[]? _faceMask;

    private float[] ComputeFaceMask()
    {
        if (!Found.Contains(true)) return Mask;
        var m = new float[Mask.Length];
        for (var i = 0; i < m.Length; i++) m[i] = Found[i] && Mask[i] == 1 ? 1 : 0;
        return m;
    }
}

/// <summary>Detect → pick the main face → similarity-align its 5 landmarks to the margin-enlarged ArcFace template → 224×224 crop.</summary>
internal sealed class FaceAligner : IDisposable
{
    /// <summary>ArcFace 112×112 five-point template: eye (image left), eye (image right), nose tip, mouth corners.</summary>
    internal static readonly (double X, double Y)[] ArcFace112 =
        [(38.2946, 51.6963), (73.5318, 51.5014), (56.0252, 71.7366), (41.5493, 92.3655), (70.7299, 92.2041)];

    private readonly YuNetDetector _detector;
    private readonly FaceAlignmentOptions _options;

    public FaceAligner(YuNetDetector detector, FaceAlignmentOptions options)
    {
        _detector = detector;
        _options = options;
        Template = CropTemplate(options.Margin);
    }

    /// <summary>The 5 template points in the 224 crop for the configured margin.</summary>
    public (double X, double Y)[] Template { get; }

    internal static (double X, double Y)[] CropTemplate(float margin)
    {
        var s = FaceAlignmentOptions.CropSize / 112.0 / (1 + margin);
        return ArcFace112.Select(p => ((p.X - 56) * s + FaceAlignmentOptions.CropSize / 2.0, (p.Y - 56) * s + FaceAlignmentOptions.CropSize / 2.0)).ToArray();
    }

    /// <summary>Frame indices kept when a clip has more frames than fit.</summary>
    internal static int[] KeptFrames(int frameCount, int maxFrames)
    {
        if (frameCount <= maxFrames) return Enumerable.Range(0, frameCount).ToArray();
        return Enumerable.Range(0, maxFrames).Select(i => (int)Math.Floor((i + 0.5) * frameCount / maxFrames)).ToArray();
    }

    public void Dispose() => _detector.Dispose();

    public AlignedClip Align(ReadOnlySpan<byte> frames, int frameCount, int width, int height)
    {
        var o = _options;
        var clip = new AlignedClip(o.MaxFrames);
        if (frameCount <= 0) return clip;
        var frameBytes = width * height * 3;
        if (frames.Length < frameCount * frameBytes)
            throw new InvalidInputException($"Frames column holds {frames.Length} bytes; {frameCount} frames of {width}×{height} RGB need {frameCount * frameBytes}.");
        const int size = FaceAlignmentOptions.CropSize;
        var kept = KeptFrames(frameCount, o.MaxFrames);
        Span<(double X, double Y)> src = stackalloc (double X, double Y)[5];
        for (var slot = 0; slot < kept.Length; slot++)
        {
            var frame = frames.Slice(kept[slot] * frameBytes, frameBytes);
            clip.Mask[slot] = 1;
            var crop = clip.Crops.AsSpan(slot * size * size * 3, size * size * 3);
            var faces = _detector.Detect(frame, width, height, o.ScoreThreshold, o.NmsThreshold);
            if (faces.Count == 0)
            {
                if (o.WholeFrameFallback)
                    ImageWarp.Warp(frame, width, height, crop, size, size, Affine2D.Scale((double)size / width, (double)size / height));
                continue;
            }
            var face = faces[0];
            foreach (var f in faces)
                if (f.Area * f.Score > face.Area * face.Score) face = f;
            for (var k = 0; k < 5; k++) src[k] = (face.Landmarks[k].X, face.Landmarks[k].Y);
            var m = Affine2D.FitSimilarity(src, Template);
            ImageWarp.Warp(frame, width, height, crop, size, size, m);
            clip.Found[slot] = true;
            for (var k = 0; k < 5; k++)
            {
                var (x, y) = m.Apply(src[k].X, src[k].Y);
                clip.Landmarks[slot * 10 + 2 * k] = (float)x;
                clip.Landmarks[slot * 10 + 2 * k + 1] = (float)y;
            }
            clip.Boxes[slot * 4] = face.X; clip.Boxes[slot * 4 + 1] = face.Y;
            clip.Boxes[slot * 4 + 2] = face.Width; clip.Boxes[slot * 4 + 3] = face.Height;
        }
        return clip;
    }
}
