namespace EmotionML.FaceGeometry;

/// <summary>
/// Expression measures from 68 facial landmarks (iBUG 300-W layout: jaw 0–16, brows 17–26, nose 27–35, eyes 36–47,
/// mouth 48–67). Lengths are divided by the distance between the two eye centres, so the measures do not depend on the
/// face's size in the frame; vertical offsets are taken along the normal of the eye line, so they do not depend on a
/// small head roll. "Left" and "right" are as seen in the image.
/// </summary>
public static class FaceGeometryMeasures
{
    /// <summary>The measures, in output order.</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "mouth_opening_inner",  // |66 − 62| / eye distance
        "mouth_opening_outer",  // |57 − 51|
        "mouth_width",          // |54 − 48|
        "mouth_corner_lift",    // lip centre (51, 57) below the corners (48, 54), along the eye-line normal: > 0 in a smile
        "eye_aperture_left",    // (|37 − 41| + |38 − 40|) / (2 |39 − 36|): lid opening over eye width
        "eye_aperture_right",   // (|43 − 47| + |44 − 46|) / (2 |45 − 42|)
        "brow_raise_left",      // eye centre (36–41) to brow (17–21), along the normal
        "brow_raise_right",     // eye centre (42–47) to brow (22–26)
        "brow_gap",             // |22 − 21|: inner brow ends (drawn together in a frown)
        "jaw_drop",             // |8 − 33|: nose base to chin
        "upper_lip_raise",      // |51 − 33|: nose base to upper lip
    ];

    /// <summary>Number of measures per frame.</summary>
    public static int Count => Names.Count;

    /// <summary>
    /// Writes the measures of one face into <paramref name="measures"/> (<see cref="Count"/> values) from 68 (x, y) points
    /// (136 values, any pixel unit).
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than 136 coordinates, or a buffer smaller than <see cref="Count"/>.</exception>
    public static void Compute(ReadOnlySpan<float> points, Span<float> measures)
    {
        if (points.Length < 136) throw new ArgumentException($"68 landmarks need 136 coordinates, got {points.Length}.", nameof(points));
        if (measures.Length < Count) throw new ArgumentException($"The measures need {Count} values, got {measures.Length}.", nameof(measures));
        var pts = new (double X, double Y)[68];
        for (var i = 0; i < 68; i++) pts[i] = (points[2 * i], points[2 * i + 1]);
        (double X, double Y) P(int i) => pts[i];
        (double X, double Y) Mean(int from, int to)
        {
            double x = 0, y = 0;
            for (var i = from; i <= to; i++) { x += pts[i].X; y += pts[i].Y; }
            return (x / (to - from + 1), y / (to - from + 1));
        }
        static double Dist((double X, double Y) a, (double X, double Y) b) => Math.Sqrt((a.X - b.X) * (a.X - b.X) + (a.Y - b.Y) * (a.Y - b.Y));

        var left = Mean(36, 41);
        var right = Mean(42, 47);
        var eyes = Dist(left, right);
        if (!(eyes > 1e-6)) { measures[..Count].Clear(); return; }
        // Unit normal of the eye line pointing down the face (image y grows downwards).
        var (ux, uy) = ((right.X - left.X) / eyes, (right.Y - left.Y) / eyes);
        var (nx, ny) = (-uy, ux);
        double Down((double X, double Y) from, (double X, double Y) to) => ((to.X - from.X) * nx + (to.Y - from.Y) * ny) / eyes;
        static (double X, double Y) Mid((double X, double Y) a, (double X, double Y) b) => ((a.X + b.X) / 2, (a.Y + b.Y) / 2);

        measures[0] = (float)(Dist(P(66), P(62)) / eyes);
        measures[1] = (float)(Dist(P(57), P(51)) / eyes);
        measures[2] = (float)(Dist(P(54), P(48)) / eyes);
        measures[3] = (float)Down(Mid(P(48), P(54)), Mid(P(51), P(57)));
        measures[4] = (float)((Dist(P(37), P(41)) + Dist(P(38), P(40))) / Math.Max(1e-6, 2 * Dist(P(39), P(36))));
        measures[5] = (float)((Dist(P(43), P(47)) + Dist(P(44), P(46))) / Math.Max(1e-6, 2 * Dist(P(45), P(42))));
        measures[6] = (float)Down(Mean(17, 21), left);
        measures[7] = (float)Down(Mean(22, 26), right);
        measures[8] = (float)(Dist(P(22), P(21)) / eyes);
        measures[9] = (float)(Dist(P(8), P(33)) / eyes);
        measures[10] = (float)(Dist(P(51), P(33)) / eyes);
    }
}
