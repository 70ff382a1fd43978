using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace EmotionML.Core;

/// <summary>
/// Base of the estimators of stages that learn nothing (like ML.NET's <c>TrivialEstimator</c>): the options are
/// validated and copied when the estimator is built, and <see cref="Fit"/> is a schema check plus the transformer.
/// </summary>
/// <typeparam name="TTransformer">The stage's transformer.</typeparam>
public abstract class EmotionTrivialEstimator<TTransformer> : IEstimator<TTransformer> where TTransformer : EmotionTransformerBase
{
    private protected EmotionTrivialEstimator(IHostEnvironment env, string name)
    {
        Env = env ?? throw new ArgumentNullException(nameof(env));
        Host = env.Register(name);
    }

    private protected IHostEnvironment Env { get; }

    private protected IHost Host { get; }

    /// <summary>Checks <paramref name="input"/>'s schema and returns the transformer; nothing is learned from the rows.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or has the wrong type.</exception>
    public TTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        GetOutputSchema(SchemaShape.Create(input.Schema));
        var transformer = CreateTransformer();
        transformer.GetOutputSchema(input.Schema);
        return transformer;
    }

    /// <summary>The schema after this stage; throws if an input column is missing or has the wrong type.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or has the wrong type.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return OutputSchema(inputSchema);
    }

    private protected abstract SchemaShape OutputSchema(SchemaShape inputSchema);

    private protected abstract TTransformer CreateTransformer();
}
