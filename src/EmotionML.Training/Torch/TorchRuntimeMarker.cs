namespace EmotionML.Training.Torch;

/// <summary>Anchor type of the training assembly (used to locate it without touching TorchSharp).</summary>
internal static class TorchRuntimeMarker
{
}
