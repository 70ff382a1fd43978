namespace EmotionML.AcousticFeatures;

/// <summary>The slots of the acoustic-features vector, in order (see <see cref="AcousticFeaturesOptions"/> for the framing).</summary>
/// <example>
/// <code>
/// var i = AcousticFeatureNames.IndexOf("f0_semitones_mean");   // 12·log2(F0 / 27.5 Hz), mean over voiced frames
/// float meanPitch = features[i];
/// </code>
/// </example>
public static class AcousticFeatureNames
{
    /// <summary>MFCC coefficients c0..c12 (NWaves, 26 Mel filters, pre-emphasis 0.97).</summary>
    public const int Mfccs = 13;

    /// <summary>
    /// Every slot: MFCC means, MFCC standard deviations and MFCC-delta standard deviations (over active frames); frame
    /// energy in dB full scale (mean, std, 10th/50th/90th percentile); zero-crossing rate; spectral centroid, flatness
    /// and 85 % roll-off; pitch in semitones above 27.5 Hz over voiced frames (mean, std, percentiles, 10–90 range) and
    /// its mean absolute change between consecutive voiced frames; harmonicity 10·log10(r/(1−r)) of the normalised
    /// autocorrelation r at the pitch period; voiced share of the active frames, active share of all frames, voiced
    /// segments per second and mean voiced-segment length in seconds.
    /// </summary>
    public static IReadOnlyList<string> All { get; } = Build();

    /// <summary>The number of slots (65).</summary>
    public static int Count => All.Count;

    /// <summary>The slot of <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No slot has that name.</exception>
    public static int IndexOf(string name)
    {
        for (var i = 0; i < All.Count; i++)
            if (All[i] == name) return i;
        throw new ArgumentException($"No acoustic feature is named '{name}'; see AcousticFeatureNames.All.", nameof(name));
    }

    private static string[] Build()
    {
        var names = new List<string>();
        for (var c = 0; c < Mfccs; c++) names.Add($"mfcc{c}_mean");
        for (var c = 0; c < Mfccs; c++) names.Add($"mfcc{c}_std");
        for (var c = 0; c < Mfccs; c++) names.Add($"mfcc{c}_delta_std");
        names.AddRange(["energy_db_mean", "energy_db_std", "energy_db_p10", "energy_db_p50", "energy_db_p90"]);
        names.AddRange(["zcr_mean", "zcr_std", "centroid_hz_mean", "centroid_hz_std", "flatness_mean", "flatness_std", "rolloff85_hz_mean", "rolloff85_hz_std"]);
        names.AddRange(["f0_semitones_mean", "f0_semitones_std", "f0_semitones_p10", "f0_semitones_p50", "f0_semitones_p90", "f0_semitones_range", "f0_semitones_delta_abs_mean"]);
        names.AddRange(["harmonicity_db_mean", "harmonicity_db_std"]);
        names.AddRange(["voiced_share", "active_share", "voiced_segments_per_s", "voiced_segment_s_mean"]);
        return [.. names];
    }
}
