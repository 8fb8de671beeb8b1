using System.Globalization;

namespace Broker.Config;

/// <summary>Value types of Kafka's ConfigDef that the broker uses.</summary>
public enum ConfigType
{
    Boolean,
    Short,
    Int,
    Long,
    Double,
    String,
    List,
    Password,
}

/// <summary>
/// One known broker property: name, type, Kafka's default (as the string Kafka documents, null
/// for none) and an optional validator. <see cref="IsDynamic"/> marks keys that Kafka lets
/// IncrementalAlterConfigs change per broker without a restart (KIP-226).
/// </summary>
public sealed class ConfigDef(string name, ConfigType type, string? defaultValue, string documentation)
{
    public string Name { get; } = name;
    public ConfigType Type { get; } = type;
    public string? DefaultValue { get; } = defaultValue;
    public string Documentation { get; } = documentation;
    /// <summary>Returns an error message or null when the parsed value is acceptable.</summary>
    public Func<object?, string?>? Validator { get; init; }
    public bool IsDynamic { get; init; }
    /// <summary>True for keys that are ours, not Apache Kafka's (documented as such).</summary>
    public bool IsExtension { get; init; }
    public bool IsSensitive => Type == ConfigType.Password;

    /// <summary>Parses a raw string to the typed value; throws <see cref="ConfigException"/> naming the key.</summary>
    public object? Parse(string? raw)
    {
        if (raw is null) return null;
        string v = raw.Trim();
        object? value;
        switch (Type)
        {
            case ConfigType.Boolean:
                if (string.Equals(v, "true", StringComparison.OrdinalIgnoreCase)) value = true;
                else if (string.Equals(v, "false", StringComparison.OrdinalIgnoreCase)) value = false;
                else throw Invalid(raw, "expected true or false");
                break;
            case ConfigType.Short:
                value = short.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out short s) ? s : throw Invalid(raw, "expected a 16-bit integer");
                break;
            case ConfigType.Int:
                value = int.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int i) ? i : throw Invalid(raw, "expected a 32-bit integer");
                break;
            case ConfigType.Long:
                value = long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l) ? l : throw Invalid(raw, "expected a 64-bit integer");
                break;
            case ConfigType.Double:
                value = double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : throw Invalid(raw, "expected a number");
                break;
            case ConfigType.List:
                value = SplitList(v);
                break;
            default:
                // Kafka keeps strings as written (trimmed).
                value = v;
                break;
        }

        string? error = Validator?.Invoke(value);
        if (error is not null) throw Invalid(raw, error);
        return value;
    }

    public static IReadOnlyList<string> SplitList(string v)
    {
        if (v.Length == 0) return Array.Empty<string>();
        string[] parts = v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return parts;
    }

    private ConfigException Invalid(string raw, string why) =>
        new(Name, $"Invalid value {raw} for configuration {Name}: {why}");
}

/// <summary>A property with an invalid value: startup stops, admin APIs answer INVALID_CONFIG.</summary>
public sealed class ConfigException(string key, string message) : Exception(message)
{
    public string Key { get; } = key;
}

/// <summary>Validators in the shape of Kafka's ConfigDef.Range / ValidString.</summary>
internal static class Validators
{
    public static Func<object?, string?> AtLeast(long min) => v =>
        v is null || Convert.ToDouble(v, CultureInfo.InvariantCulture) >= min ? null : $"Value must be at least {min}";

    public static Func<object?, string?> Between(long min, long max) => v =>
        v is null || (Convert.ToDouble(v, CultureInfo.InvariantCulture) >= min && Convert.ToDouble(v, CultureInfo.InvariantCulture) <= max)
            ? null
            : $"Value must be between {min} and {max}";

    public static Func<object?, string?> In(params string[] allowed) => v =>
    {
        if (v is null) return null;
        string s = (string)v;
        foreach (string a in allowed)
        {
            if (string.Equals(a, s, StringComparison.OrdinalIgnoreCase)) return null;
        }

        return $"String must be one of: {string.Join(", ", allowed)}";
    };

    public static Func<object?, string?> ListIn(params string[] allowed) => v =>
    {
        if (v is null) return null;
        foreach (string item in (IReadOnlyList<string>)v)
        {
            bool ok = false;
            foreach (string a in allowed) ok |= string.Equals(a, item, StringComparison.OrdinalIgnoreCase);
            if (!ok) return $"List items must be among: {string.Join(", ", allowed)}";
        }

        return null;
    };

    public static Func<object?, string?> NonEmptyList => v =>
        v is IReadOnlyList<string> { Count: > 0 } || v is null ? null : "Empty list";
}
