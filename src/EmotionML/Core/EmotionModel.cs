using EmotionML.Core;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EmotionML;

/// <summary>Loads saved EmotionML model zips with this machine's deployment settings.</summary>
/// <example>
/// <code>
/// var mlContext = new MLContext();
/// var model = EmotionModel.Load(mlContext, "model.zip",
///     new EmotionDeploymentOptions { Execution = { Device = ExecutionDevice.Cuda, IntraOpThreads = 4 } });
/// var predictions = model.Transform(clips);
/// </code>
/// </example>
public static class EmotionModel
{
    /// <summary>
    /// Loads a model zip (as <c>mlContext.Model.Load</c> does) and runs every EmotionML stage in it with
    /// <paramref name="deployment"/> (null: CPU, no feature cache).
    /// </summary>
    /// <exception cref="ModelFormatException">The zip was written by a format version this build does not read, or is incomplete.</exception>
    public static ITransformer Load(MLContext mlContext, string path, EmotionDeploymentOptions? deployment = null)
        => Load(mlContext, path, out _, deployment);

    /// <summary>Loads a model zip with <paramref name="deployment"/>; <paramref name="inputSchema"/> is the schema it was saved with.</summary>
    public static ITransformer Load(MLContext mlContext, string path, out DataViewSchema inputSchema, EmotionDeploymentOptions? deployment = null)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(path);
        var checkedDeployment = Checked(deployment);
        return WithDeployment(mlContext.Model.Load(path, out inputSchema), checkedDeployment);
    }

    /// <summary>Loads a model from a stream with <paramref name="deployment"/>.</summary>
    public static ITransformer Load(MLContext mlContext, Stream stream, out DataViewSchema inputSchema, EmotionDeploymentOptions? deployment = null)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(stream);
        var checkedDeployment = Checked(deployment);
        return WithDeployment(mlContext.Model.Load(stream, out inputSchema), checkedDeployment);
    }

    /// <summary>
    /// A typed prediction engine over a loaded model: clip path in; emotion name, probabilities by class name, attention
    /// and whether a face was found out. One engine per thread.
    /// </summary>
    /// <exception cref="ArgumentException">The model does not start with the video input stage or has no scored head.</exception>
    public static EmotionPredictionEngine CreatePredictionEngine(MLContext mlContext, ITransformer model)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(model);
        return new EmotionPredictionEngine(mlContext, model);
    }

    /// <summary>
    /// A prediction engine for one person, over a model with speaker normalisation (<c>NormalizeBySpeaker</c>): the
    /// person's statistics come from <paramref name="calibrationClips"/>, a few of their unlabelled clips (see
    /// <see cref="EmotionPredictionEngine.Calibrate"/>; call it again for another person).
    /// </summary>
    /// <example>
    /// <code>
    /// var model = EmotionModel.Load(mlContext, "adapted-model.zip");
    /// using var engine = EmotionModel.CreatePredictionEngine(mlContext, model, Directory.GetFiles("anna/calibration", "*.mp4"));
    /// Console.WriteLine(engine.Predict("anna/today.mp4").Emotion);
    /// </code>
    /// </example>
    /// <exception cref="ArgumentException">The model does not start with the video input stage or has no scored head.</exception>
    /// <exception cref="InvalidOperationException">The model has no speaker normalisation stage.</exception>
    /// <exception cref="InvalidInputException">Fewer calibration clips than the stage needs.</exception>
    public static EmotionPredictionEngine CreatePredictionEngine(MLContext mlContext, ITransformer model, IEnumerable<string> calibrationClips)
    {
        ArgumentNullException.ThrowIfNull(calibrationClips);
        var engine = CreatePredictionEngine(mlContext, model);
        try
        {
            engine.Calibrate(calibrationClips);
        }
        catch
        {
            engine.Dispose();
            throw;
        }
        return engine;
    }

    private static EmotionDeploymentOptions Checked(EmotionDeploymentOptions? deployment)
    {
        var copy = (deployment ?? new EmotionDeploymentOptions()).Clone();
        copy.Validate();
        return copy;
    }

    /// <summary>The same model with every EmotionML stage (also inside nested chains) set to <paramref name="deployment"/>.</summary>
    internal static ITransformer WithDeployment(ITransformer model, EmotionDeploymentOptions deployment) => model switch
    {
        EmotionTransformerBase stage => stage.WithDeployment(deployment),
        TransformerChain<ITransformer> chain => new TransformerChain<ITransformer>(chain.Select(t => WithDeployment(t, deployment)).ToArray()),
        _ => model,
    };
}
