using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace EmotionML.Core;

/// <summary>
/// Base of every EmotionML transformer: a row-to-row stage that adds columns to its input, composes in
/// <see cref="TransformerChain{TLastTransformer}"/>, works with prediction engines, and saves into ML.NET model zips.
/// </summary>
public abstract class EmotionTransformerBase : ITransformer
{
    private protected EmotionTransformerBase(IHostEnvironment env, string name)
    {
        Env = env ?? throw new ArgumentNullException(nameof(env));
        Host = env.Register(name);
    }

    private protected IHostEnvironment Env { get; }

    /// <summary>The stage's host: its warnings go to this channel, so <c>mlContext.Log</c> sees them.</summary>
    private protected IHost Host { get; }

    bool ITransformer.IsRowToRowMapper => true;

    /// <summary>The schema <see cref="Transform"/> produces from <paramref name="inputSchema"/>; throws if a needed input column is missing or mistyped.</summary>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => Bind(inputSchema).BuildOutputSchema();

    /// <summary>Adds this stage's columns to <paramref name="input"/>. Values are computed lazily as rows are read.</summary>
    public IDataView Transform(IDataView input) => new MappedDataView(input, BindData(input ?? throw new ArgumentNullException(nameof(input))));

    IRowToRowMapper ITransformer.GetRowToRowMapper(DataViewSchema inputSchema) => new MappedRowToRowMapper(Bind(inputSchema));

    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        ctx.CheckAtModel();
        Save(ctx);
    }

    /// <summary>
    /// This stage run with <paramref name="deployment"/> (execution device, threads, caches): a new transformer when the
    /// stage has deployment settings, this one otherwise. Used by <see cref="EmotionModel.Load(MLContext, string, EmotionDeploymentOptions?)"/>.
    /// </summary>
    internal virtual EmotionTransformerBase WithDeployment(EmotionDeploymentOptions deployment) => this;

    private protected abstract BoundMapper Bind(DataViewSchema inputSchema);

    /// <summary>
    /// The stage bound for <see cref="Transform"/>: by default <see cref="Bind(DataViewSchema)"/> of the data's schema. A
    /// stage whose mapping depends on the data being transformed (statistics over its rows) reads the data here.
    /// </summary>
    private protected virtual BoundMapper BindData(IDataView input) => Bind(input.Schema);

    private protected abstract void Save(ModelSaveContext ctx);
}

/// <summary>
/// <see cref="EmotionTransformerBase"/> of a stage that runs with options: the base validates them and keeps its own
/// copy (<see cref="Settings"/>), and <see cref="Options"/> hands out another copy, once for every stage.
/// </summary>
/// <typeparam name="TOptions">The stage's options.</typeparam>
public abstract class EmotionTransformerBase<TOptions> : EmotionTransformerBase where TOptions : class
{
    private protected EmotionTransformerBase(IHostEnvironment env, string name, TOptions options) : base(env, name)
        => Settings = StageOptions.ValidatedCopyOf(options);

    /// <summary>A copy of the options this stage runs with (changing it has no effect).</summary>
    public TOptions Options => ((IStageOptions<TOptions>)Settings).Clone();

    /// <summary>The stage's own copy of its options (deployment settings may be routed in by the constructor).</summary>
    private protected TOptions Settings { get; }
}
