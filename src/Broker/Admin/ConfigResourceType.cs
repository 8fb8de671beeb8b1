namespace Broker.Admin;

/// <summary>Kafka's ConfigResource.Type wire values (DescribeConfigs / AlterConfigs resource_type).</summary>
public static class ConfigResourceType
{
    public const sbyte Topic = 2;
    public const sbyte Broker = 4;
    public const sbyte BrokerLogger = 8;

    /// <summary>DescribeConfigs v3+ config_type (KIP-569) for our ConfigType.</summary>
    public static sbyte WireType(Config.ConfigType type) => type switch
    {
        Config.ConfigType.Boolean => 1,
        Config.ConfigType.String => 2,
        Config.ConfigType.Int => 3,
        Config.ConfigType.Short => 4,
        Config.ConfigType.Long => 5,
        Config.ConfigType.Double => 6,
        Config.ConfigType.List => 7,
        Config.ConfigType.Password => 9,
        _ => 0,
    };
}
