using Broker.Protocol;
using Broker.Replication.Metadata;

namespace Broker.Tests.Replication;

public sealed class TopicMetadataStoreTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private TopicMetadataStore Open(int defaultPartitions = 1)
    {
        var store = new TopicMetadataStore(new TopicMetadataStoreOptions { MetadataDir = _dir.Path, DefaultNumPartitions = defaultPartitions });
        store.Load();
        return store;
    }

    [Fact]
    public void Topics_survive_a_reload_with_their_ids_partitions_and_configs()
    {
        TopicMetadataStore store = Open();
        TopicOperationResult created = store.CreateTopic("orders", 3, 1, new Dictionary<string, string> { ["retention.ms"] = "1000" });
        Assert.True(created.Succeeded);
        Assert.True(store.CreateTopic("__consumer_offsets", 5, 1).Succeeded);
        Assert.True(store.CreatePartitions("orders", 4).Succeeded);

        TopicMetadataStore reloaded = Open();
        TopicMetadata orders = reloaded.GetTopic("orders")!;
        Assert.Equal(created.Topic!.TopicId, orders.TopicId);
        Assert.Equal(4, orders.PartitionCount);
        Assert.Equal("1000", orders.Configs["retention.ms"]);
        Assert.False(orders.IsInternal);
        Assert.True(reloaded.GetTopic("__consumer_offsets")!.IsInternal);
        Assert.Same(orders, reloaded.GetTopic(orders.TopicId));
        Assert.Equal(2, reloaded.TopicCount);
    }

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("has space")]
    [InlineData("slash/name")]
    [InlineData("ünicode")]
    public void Illegal_names_are_INVALID_TOPIC_EXCEPTION(string name)
    {
        TopicMetadataStore store = Open();
        Assert.Equal(ErrorCode.InvalidTopicException, store.CreateTopic(name, 1, 1).Error);
        Assert.Equal(0, store.TopicCount);
    }

    [Fact]
    public void Name_length_limit_is_249()
    {
        TopicMetadataStore store = Open();
        Assert.True(store.CreateTopic(new string('a', 249), 1, 1).Succeeded);
        Assert.Equal(ErrorCode.InvalidTopicException, store.CreateTopic(new string('b', 250), 1, 1).Error);
    }

    [Fact]
    public void Duplicates_collisions_and_bad_counts_are_refused()
    {
        TopicMetadataStore store = Open();
        Assert.True(store.CreateTopic("a.b", 1, 1).Succeeded);
        Assert.Equal(ErrorCode.TopicAlreadyExists, store.CreateTopic("a.b", 1, 1).Error);
        Assert.Equal(ErrorCode.InvalidTopicException, store.CreateTopic("a_b", 1, 1).Error);
        Assert.Equal(ErrorCode.InvalidPartitions, store.CreateTopic("zero", 0, 1).Error);
        Assert.Equal(ErrorCode.InvalidReplicationFactor, store.CreateTopic("three", 1, 3).Error);
        Assert.Equal(ErrorCode.InvalidConfig, store.CreateTopic("badcfg", 1, 1, new Dictionary<string, string> { ["retention.ms"] = "soon" }).Error);
        Assert.Equal(ErrorCode.InvalidPartitions, store.CreatePartitions("a.b", 1).Error);
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, store.CreatePartitions("missing", 2).Error);
    }

    [Fact]
    public void Defaults_apply_for_minus_one_and_validate_only_changes_nothing()
    {
        TopicMetadataStore store = Open(defaultPartitions: 6);
        TopicOperationResult dry = store.CreateTopic("dry", -1, -1, validateOnly: true);
        Assert.True(dry.Succeeded);
        Assert.Equal(6, dry.Topic!.PartitionCount);
        Assert.Null(store.GetTopic("dry"));
        Assert.Null(Open().GetTopic("dry"));

        Assert.Equal(6, store.CreateTopic("real", -1, -1).Topic!.PartitionCount);
    }

    [Fact]
    public void Delete_by_name_and_by_id_persist()
    {
        TopicMetadataStore store = Open();
        store.CreateTopic("gone", 1, 1);
        Guid id = store.CreateTopic("gone-by-id", 1, 1).Topic!.TopicId;
        Assert.True(store.DeleteTopic("gone").Succeeded);
        Assert.True(store.DeleteTopic(id).Succeeded);
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, store.DeleteTopic("gone").Error);
        Assert.Equal(ErrorCode.UnknownTopicId, store.DeleteTopic(id).Error);
        Assert.Equal(0, Open().TopicCount);
    }

    [Fact]
    public void Incremental_config_changes_set_and_remove_overrides()
    {
        TopicMetadataStore store = Open();
        store.CreateTopic("cfg", 1, 1, new Dictionary<string, string> { ["retention.ms"] = "1", ["segment.bytes"] = "1048576" });
        TopicOperationResult altered = store.IncrementalAlterTopicConfigs("cfg",
            new Dictionary<string, string?> { ["retention.ms"] = null, ["cleanup.policy"] = "compact" });
        Assert.True(altered.Succeeded);
        IReadOnlyDictionary<string, string> configs = Open().GetTopic("cfg")!.Configs;
        Assert.False(configs.ContainsKey("retention.ms"));
        Assert.Equal("compact", configs["cleanup.policy"]);
        Assert.Equal("1048576", configs["segment.bytes"]);

        Assert.True(store.ReplaceTopicConfigs("cfg", new Dictionary<string, string>()).Succeeded);
        Assert.Empty(Open().GetTopic("cfg")!.Configs);
    }

    [Fact]
    public void Events_follow_the_changes_in_order()
    {
        TopicMetadataStore store = Open();
        var seen = new List<string>();
        store.TopicCreated += t => seen.Add("created " + t.Name);
        store.PartitionsCreated += e => seen.Add($"grown {e.Topic.Name} {e.OldPartitionCount}->{e.Topic.PartitionCount}");
        store.TopicConfigChanged += t => seen.Add("config " + t.Name);
        store.TopicDeleted += t => seen.Add("deleted " + t.Name);
        store.TopicCreated += _ => throw new InvalidOperationException("a failing listener must not undo the change");

        store.CreateTopic("ev", 1, 1);
        store.CreatePartitions("ev", 3);
        store.IncrementalAlterTopicConfigs("ev", new Dictionary<string, string?> { ["retention.ms"] = "5" });
        store.DeleteTopic("ev");
        Assert.Equal(new[] { "created ev", "grown ev 1->3", "config ev", "deleted ev" }, seen);
        long version = store.MetadataVersion;
        store.CreateTopic("ev2", 1, 1);
        Assert.True(store.MetadataVersion > version);
    }

    [Fact]
    public void Producer_id_blocks_never_repeat_across_reloads()
    {
        TopicMetadataStore store = Open();
        long first = store.AllocateProducerIdBlock(1000);
        long second = store.AllocateProducerIdBlock(1000);
        Assert.Equal(first + 1000, second);
        long afterReload = Open().AllocateProducerIdBlock(1000);
        Assert.Equal(second + 1000, afterReload);
    }

    [Fact]
    public void Mutations_before_load_are_refused()
    {
        var store = new TopicMetadataStore(new TopicMetadataStoreOptions { MetadataDir = _dir.Path });
        Assert.Throws<InvalidOperationException>(() => store.CreateTopic("early", 1, 1));
    }
}
