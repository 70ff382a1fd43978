using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace EmotionML.Core;

/// <summary>
/// Base of the estimators of stages that learn nothing (like ML.NET's <c>TrivialEstimator</c>):
/// <see cref="EmotionEstimatorBase{TTransformer, TOptions}.Fit"/> is a schema check plus the transformer.
/// </summary>
/// <typeparam name="TTransformer">The stage's transformer.</typeparam>
/// <typeparam name="TOptions">The stage's options.</typeparam>
public abstract class EmotionTrivialEstimator<TTransformer, TOptions> : EmotionEstimatorBase<TTransformer, TOptions>
    where TTransformer : EmotionTransformerBase
    where TOptions : class
{
    private protected EmotionTrivialEstimator(IHostEnvironment env, string name, TOptions options) : base(env, name, options)
    {
    }

    private protected sealed override TTransformer FitChecked(IDataView input)
    {
        var transformer = CreateTransformer();
        transformer.GetOutputSchema(input.Schema);
        return transformer;
    }

    private protected abstract TTransformer CreateTransformer();
}
