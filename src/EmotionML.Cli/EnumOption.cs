using System.CommandLine;

namespace EmotionML.Cli;

/// <summary>Options whose value is an enum member, named case-insensitively on the command line.</summary>
internal static class EnumOption
{
    /// <summary>An option <paramref name="name"/> taking one of <typeparamref name="T"/>'s names; the help lists them in lower case.</summary>
    public static Option<T> Create<T>(string name, string what, T defaultValue) where T : struct, System.Enum
        => new(name)
        {
            Description = $"{what}: {string.Join(", ", System.Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}. Default {defaultValue.ToString().ToLowerInvariant()}.",
            DefaultValueFactory = _ => defaultValue,
            CustomParser = r =>
            {
                var text = r.Tokens.Single().Value;
                if (System.Enum.TryParse<T>(text, ignoreCase: true, out var v)) return v;
                r.AddError($"{name} {text}: expected one of {string.Join(", ", System.Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}.");
                return defaultValue;
            },
        };
}
