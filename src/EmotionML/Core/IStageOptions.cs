namespace EmotionML.Core;

/// <summary>
/// The contract every stage's options keep inside EmotionML: <see cref="Validate"/> throws for an unusable setting,
/// <see cref="Clone"/> returns an independent copy. Estimators and trainers take options through
/// <see cref="StageOptions.ValidatedCopy{T}"/>, so a caller who changes its object afterwards changes nothing.
/// </summary>
/// <typeparam name="TSelf">The options type itself.</typeparam>
internal interface IStageOptions<TSelf> where TSelf : class
{
    /// <summary>Throws <see cref="ArgumentException"/> (or a subclass) for an unusable setting.</summary>
    void Validate();

    /// <summary>An independent copy (callbacks shared).</summary>
    TSelf Clone();
}

/// <summary>Helpers over <see cref="IStageOptions{TSelf}"/>.</summary>
internal static class StageOptions
{
    /// <summary>Checks <paramref name="options"/> for null, validates it and returns a copy.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    public static T ValidatedCopy<T>(T options) where T : class, IStageOptions<T>
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options.Clone();
    }

    /// <summary>
    /// <see cref="ValidatedCopy{T}"/> for a type parameter without the constraint (a public generic base cannot name the
    /// internal contract in its constraints); throws <see cref="InvalidOperationException"/> when the type does not keep it.
    /// </summary>
    public static T ValidatedCopyOf<T>(T options) where T : class
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options is not IStageOptions<T> contract)
            throw new InvalidOperationException($"{typeof(T).Name} does not implement the stage-options contract.");
        contract.Validate();
        return contract.Clone();
    }
}
