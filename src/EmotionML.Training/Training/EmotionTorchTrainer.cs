using EmotionML.Core;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace EmotionML.Training;

/// <summary>The contract of a TorchSharp trainer's options inside EmotionML: the stage-options contract plus the optimisation settings.</summary>
/// <typeparam name="TSelf">The options type itself.</typeparam>
internal interface ITorchTrainerOptions<TSelf> : IStageOptions<TSelf> where TSelf : class
{
    /// <summary>Optimisation and validation settings.</summary>
    TrainerOptions Training { get; }
}

/// <summary>
/// Base of EmotionML's TorchSharp trainers: the options are validated and copied once when the trainer is made (see
/// <see cref="EmotionEstimatorBase{TTransformer, TOptions}"/>), the training loop's warnings (CUDA fallback) go through
/// the MLContext's channel, and a fit keeps nothing on the trainer: what it produced besides the transformer (the
/// training report, the TorchSharp module) goes to the options' <c>Trained</c> callback.
/// </summary>
/// <typeparam name="TTransformer">The transformer a fit returns (run by ONNX Runtime).</typeparam>
/// <typeparam name="TOptions">The trainer's options.</typeparam>
public abstract class EmotionTorchTrainer<TTransformer, TOptions> : EmotionEstimatorBase<TTransformer, TOptions>
    where TTransformer : EmotionTransformerBase
    where TOptions : class
{
    private protected EmotionTorchTrainer(IHostEnvironment env, string name, TOptions options) : base(env, name, options)
    {
        var host = Host;
        ((ITorchTrainerOptions<TOptions>)Options).Training.Warning = message => StageLog.Warning(host, message);
    }
}
