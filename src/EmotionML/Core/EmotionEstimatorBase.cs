using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace EmotionML.Core;

/// <summary>
/// Base of every EmotionML estimator: the options are validated and copied once, when the estimator is built, and
/// <see cref="Fit"/> checks the input schema before the stage is made (or trained).
/// </summary>
/// <typeparam name="TTransformer">The stage's transformer.</typeparam>
/// <typeparam name="TOptions">The stage's options.</typeparam>
public abstract class EmotionEstimatorBase<TTransformer, TOptions> : IEstimator<TTransformer>
    where TTransformer : EmotionTransformerBase
    where TOptions : class
{
    private protected EmotionEstimatorBase(IHostEnvironment env, string name, TOptions options)
    {
        Env = env ?? throw new ArgumentNullException(nameof(env));
        Host = env.Register(name);
        Options = StageOptions.ValidatedCopyOf(options);
    }

    private protected IHostEnvironment Env { get; }

    private protected IHost Host { get; }

    /// <summary>The validated copy of the options the estimator was made with.</summary>
    private protected TOptions Options { get; }

    /// <summary>Checks <paramref name="input"/>'s schema and returns the stage made (or trained) from it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or has the wrong type.</exception>
    public TTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        GetOutputSchema(SchemaShape.Create(input.Schema));
        return FitChecked(input);
    }

    /// <summary>The schema after this stage; throws if an input column is missing or has the wrong type.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or has the wrong type.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return OutputSchema(inputSchema);
    }

    private protected abstract SchemaShape OutputSchema(SchemaShape inputSchema);

    /// <summary><see cref="Fit"/> after the schema check.</summary>
    private protected abstract TTransformer FitChecked(IDataView input);
}
