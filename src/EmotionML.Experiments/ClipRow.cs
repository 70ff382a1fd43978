namespace EmotionML.Experiments;

/// <summary>One clip as an ML.NET row of the experiments: its path, label, speaker and index into the clip list.</summary>
internal sealed class ClipRow
{
    public string VideoPath { get; set; } = "";
    public string Label { get; set; } = "";
    public string Speaker { get; set; } = "";
    public int Row { get; set; }
}
