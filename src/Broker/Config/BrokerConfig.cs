using System.Globalization;

namespace Broker.Config;

/// <summary>
/// The broker's configuration: Kafka property names to string values, validated against
/// <see cref="BrokerConfigCatalogue"/> when built, with typed getters that fall back to Kafka's
/// defaults. Built once at startup from server.properties &lt; KAFKA_* environment &lt; --override
/// (see <see cref="BrokerConfigLoader"/>). Dynamic broker configs set through
/// IncrementalAlterConfigs/AlterConfigs are applied with <see cref="SetDynamic"/>, which raises
/// <see cref="Changed"/>. Thread-safe: reads take a snapshot of an immutable dictionary.
/// </summary>
public sealed class BrokerConfig
{
    private volatile Snapshot _current;

    public BrokerConfig(IReadOnlyDictionary<string, string> values)
    {
        _current = Snapshot.Build(values, new Dictionary<string, string>(StringComparer.Ordinal));
    }

    /// <summary>Convenience for tests and tools: a config from key/value pairs.</summary>
    public static BrokerConfig From(params (string Key, string Value)[] values)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach ((string k, string v) in values) d[k] = v;
        return new BrokerConfig(d);
    }

    /// <summary>Raised after dynamic values change, with the keys that changed.</summary>
    public event Action<IReadOnlyCollection<string>>? Changed;

    /// <summary>Keys given by the operator that are not in the catalogue (warned about at startup).</summary>
    public IReadOnlyList<string> UnknownKeys => _current.Unknown;

    /// <summary>Every key explicitly set (static or dynamic), with its string value.</summary>
    public IReadOnlyDictionary<string, string> Originals => _current.Raw;

    /// <summary>The dynamic (cluster-wide/per-broker) overrides currently in effect.</summary>
    public IReadOnlyDictionary<string, string> DynamicValues => _current.Dynamic;

    public bool IsSet(string key) => _current.Raw.ContainsKey(key);

    /// <summary>Where the value of <paramref name="key"/> comes from, for DescribeConfigs.</summary>
    public ConfigValueSource SourceOf(string key) =>
        _current.Dynamic.ContainsKey(key) ? ConfigValueSource.DynamicBroker
        : _current.Static.ContainsKey(key) ? ConfigValueSource.Static
        : ConfigValueSource.Default;

    public string? GetString(string key) => Get(key) switch
    {
        null => null,
        string s => s,
        IReadOnlyList<string> list => string.Join(',', list),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        object o => o.ToString(),
    };

    public int GetInt(string key) => Convert.ToInt32(Require(key), CultureInfo.InvariantCulture);

    public short GetShort(string key) => Convert.ToInt16(Require(key), CultureInfo.InvariantCulture);

    public long GetLong(string key) => Convert.ToInt64(Require(key), CultureInfo.InvariantCulture);

    public double GetDouble(string key) => Convert.ToDouble(Require(key), CultureInfo.InvariantCulture);

    public bool GetBool(string key) => (bool)Require(key);

    private object Require(string key) =>
        Get(key) ?? throw new InvalidOperationException($"Configuration {key} has no value and no default");

    /// <summary>Null when neither set nor defaulted.</summary>
    public int? GetNullableInt(string key) => Get(key) is { } v ? Convert.ToInt32(v, CultureInfo.InvariantCulture) : null;

    public long? GetNullableLong(string key) => Get(key) is { } v ? Convert.ToInt64(v, CultureInfo.InvariantCulture) : null;

    public IReadOnlyList<string> GetList(string key) => Get(key) switch
    {
        null => Array.Empty<string>(),
        IReadOnlyList<string> list => list,
        string s => ConfigDef.SplitList(s),
        object o => new[] { Convert.ToString(o, CultureInfo.InvariantCulture)! },
    };

    /// <summary>The typed value (int, long, bool, double, string, IReadOnlyList&lt;string&gt;) or Kafka's default.</summary>
    public object? Get(string key)
    {
        Snapshot s = _current;
        if (s.Typed.TryGetValue(key, out object? value)) return value;
        ConfigDef? def = BrokerConfigCatalogue.Find(key);
        if (def is null) return s.Raw.TryGetValue(key, out string? raw) ? raw : null;
        return def.DefaultValue is null ? null : def.Parse(def.DefaultValue);
    }

    // ---- Derived values with Kafka's fallbacks -------------------------------------------

    public int NodeId => IsSet("node.id") ? GetInt("node.id") : IsSet("broker.id") && GetInt("broker.id") >= 0 ? GetInt("broker.id") : GetInt("node.id");

    /// <summary>log.dirs, else log.dir (Kafka's LogConfig.logDirs).</summary>
    public IReadOnlyList<string> LogDirs => GetList("log.dirs") is { Count: > 0 } dirs ? dirs : new[] { GetString("log.dir")! };

    /// <summary>log.retention.ms, else .minutes, else .hours (KafkaConfig.logRetentionTimeMillis); -1 = forever.</summary>
    public long LogRetentionMs
    {
        get
        {
            long ms = GetNullableLong("log.retention.ms") ?? (GetNullableInt("log.retention.minutes") is int m ? m * 60_000L : GetInt("log.retention.hours") * 3_600_000L);
            return ms < 0 ? -1 : ms;
        }
    }

    /// <summary>log.roll.ms, else log.roll.hours.</summary>
    public long LogRollMs => GetNullableLong("log.roll.ms") ?? GetInt("log.roll.hours") * 3_600_000L;

    /// <summary>log.flush.interval.ms, else log.flush.scheduler.interval.ms.</summary>
    public long LogFlushIntervalMs => GetNullableLong("log.flush.interval.ms") ?? GetLong("log.flush.scheduler.interval.ms");

    /// <summary>advertised.listeners, else listeners.</summary>
    public IReadOnlyList<string> AdvertisedListeners => GetList("advertised.listeners") is { Count: > 0 } a ? a : GetList("listeners");

    /// <summary>
    /// Applies dynamic broker config changes (null value = delete the override, back to the static
    /// value or default). Validates all first; throws <see cref="ConfigException"/> and changes nothing
    /// when one is invalid. Raises <see cref="Changed"/>.
    /// </summary>
    public void SetDynamic(IReadOnlyDictionary<string, string?> changes, bool validateOnly = false)
    {
        lock (this)
        {
            Snapshot s = _current;
            var dynamic = new Dictionary<string, string>(s.Dynamic, StringComparer.Ordinal);
            foreach (KeyValuePair<string, string?> change in changes)
            {
                if (change.Value is null) dynamic.Remove(change.Key);
                else dynamic[change.Key] = change.Value;
            }

            Snapshot next = Snapshot.Build(s.Static, dynamic);
            if (validateOnly) return;
            _current = next;
        }

        Changed?.Invoke(changes.Keys.ToArray());
    }

    /// <summary>Validates one value against the catalogue; throws <see cref="ConfigException"/>. Unknown keys pass.</summary>
    public static void Validate(string key, string? value) => BrokerConfigCatalogue.Find(key)?.Parse(value);

    private sealed class Snapshot
    {
        public required IReadOnlyDictionary<string, string> Static { get; init; }
        public required IReadOnlyDictionary<string, string> Dynamic { get; init; }
        public required IReadOnlyDictionary<string, string> Raw { get; init; }
        public required IReadOnlyDictionary<string, object?> Typed { get; init; }
        public required IReadOnlyList<string> Unknown { get; init; }

        public static Snapshot Build(IReadOnlyDictionary<string, string> statics, IReadOnlyDictionary<string, string> dynamic)
        {
            var raw = new Dictionary<string, string>(statics, StringComparer.Ordinal);
            foreach (KeyValuePair<string, string> d in dynamic) raw[d.Key] = d.Value;
            var typed = new Dictionary<string, object?>(StringComparer.Ordinal);
            var unknown = new List<string>();
            foreach (KeyValuePair<string, string> entry in raw)
            {
                ConfigDef? def = BrokerConfigCatalogue.Find(entry.Key);
                if (def is null)
                {
                    unknown.Add(entry.Key);
                    continue;
                }

                typed[entry.Key] = def.Parse(entry.Value);
            }

            CheckCrossKeys(raw, typed);
            return new Snapshot
            {
                Static = new Dictionary<string, string>(statics, StringComparer.Ordinal),
                Dynamic = new Dictionary<string, string>(dynamic, StringComparer.Ordinal),
                Raw = raw,
                Typed = typed,
                Unknown = unknown,
            };
        }

        private static void CheckCrossKeys(Dictionary<string, string> raw, Dictionary<string, object?> typed)
        {
            // Kafka requires broker.id == node.id when both are set (KafkaConfig validation).
            if (typed.TryGetValue("node.id", out object? node) && typed.TryGetValue("broker.id", out object? broker)
                && (int)broker! >= 0 && (int)broker != (int)node!)
            {
                throw new ConfigException("broker.id", $"broker.id ({broker}) must match node.id ({node})");
            }

            if (typed.TryGetValue("group.min.session.timeout.ms", out object? min) && typed.TryGetValue("group.max.session.timeout.ms", out object? max)
                && (int)min! > (int)max!)
            {
                throw new ConfigException("group.min.session.timeout.ms", "group.min.session.timeout.ms must not exceed group.max.session.timeout.ms");
            }

            _ = raw;
        }
    }
}

/// <summary>DescribeConfigs' ConfigSource values (Kafka's DescribeConfigsResponse.ConfigSource).</summary>
public enum ConfigValueSource : sbyte
{
    Unknown = 0,
    DynamicTopic = 1,
    DynamicBroker = 2,
    DynamicDefaultBroker = 3,
    Static = 4,
    Default = 5,
    DynamicBrokerLogger = 6,
}
