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
/// Base of EmotionML's TorchSharp trainers: the options are validated and copied once when the trainer is made, and the
/// training loop's warnings (CUDA fallback) go through the MLContext's channel. <see cref="Fit"/> checks the schema, then trains.
/// </summary>
/// <typeparam name="TTransformer">The transformer a fit returns (run by ONNX Runtime).</typeparam>
/// <typeparam name="TOptions">The trainer's options.</typeparam>
public abstract class EmotionTorchTrainer<TTransformer, TOptions> : IEstimator<TTransformer>
    where TTransformer : EmotionTransformerBase
    where TOptions : class
{
    private protected EmotionTorchTrainer(IHostEnvironment env, string name, TOptions options)
    {
        Env = env ?? throw new ArgumentNullException(nameof(env));
        Host = env.Register(name);
        Options = StageOptions.ValidatedCopyOf(options);
        var training = ((ITorchTrainerOptions<TOptions>)Options).Training;
        var host = Host;
        training.Warning = message => StageLog.Warning(host, message);
    }

    private protected IHostEnvironment Env { get; }

    /// <summary>The trainer's host: its warnings go to this channel, so <c>mlContext.Log</c> sees them.</summary>
    private protected IHost Host { get; }

    /// <summary>The validated copy of the options the trainer was made with.</summary>
    private protected TOptions Options { get; }

    /// <summary>Checks <paramref name="input"/>'s schema, trains on its rows and returns the ONNX-run transformer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or has the wrong type.</exception>
    public TTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        GetOutputSchema(SchemaShape.Create(input.Schema));
        return Train(input);
    }

    /// <summary>The schema after the stage; throws if an input column is missing or has the wrong type.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or has the wrong type.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return OutputSchema(inputSchema);
    }

    private protected abstract SchemaShape OutputSchema(SchemaShape inputSchema);

    /// <summary>Trains on rows whose schema has been checked.</summary>
    private protected abstract TTransformer Train(IDataView input);
}
