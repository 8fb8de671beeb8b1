// Produce (API key 0), versions 3-11.
// Appends each partition's record batch as leader: the batch is validated (framing, CRC-32C,
// records, max.message.bytes of the topic, timestamps within message.timestamp.before/after.max.ms)
// with RecordBatchValidator, recompressed when the topic's compression.type is a codec other than
// the batch's, then appended; the log assigns offsets, stamps LogAppendTime when the topic uses it
// (log_append_time_ms in the response) and checks idempotent producers' sequences (a retried
// batch gets its original base offset, a gap OUT_OF_ORDER_SEQUENCE_NUMBER, an old epoch
// INVALID_PRODUCER_EPOCH). acks=0 sends no response, acks=1 answers after the append, acks=all
// waits in the produce purgatory for the high watermark (at once on a single node), after a
// min.insync.replicas check (NOT_ENOUGH_REPLICAS).
// Versions 0-2 are advertised but refused per partition with UNSUPPORTED_VERSION, exactly as
// Kafka 4.0 does (KAFKA-18659): librdkafka before 2.10 decides from the advertised Produce range
// whether the broker supports gzip/snappy/lz4 and silently stops compressing when v0 is missing.
// With acks=0 a failed partition closes the connection after the request, as Kafka does, so the
// client notices the error it gets no response for.
// Clients may not write to internal topics (INVALID_TOPIC_EXCEPTION), as Kafka.
// KIPs: 98 (idempotence), 110 (zstd needs v7), 467 (record errors), 951 (current leader, v10+:
// only on NOT_LEADER_OR_FOLLOWER, which a single node never answers).
using Broker.Config;
using Broker.Metrics;
using Broker.Produce;
using Broker.Protocol;
using Broker.Protocol.Compression;
using Broker.Protocol.Messages;
using Broker.Protocol.Records;
using Broker.Protocol.Wire;
using Broker.Replication;
using Broker.Replication.Metadata;
using Broker.Storage;
using Microsoft.Extensions.Logging;

namespace Broker.Handlers;

public sealed class ProduceHandler(ReplicaManager replicaManager, BrokerConfig config, ILogger<ProduceHandler> logger,
    BrokerMetrics? metrics = null) : IApiHandler
{
    private readonly ProduceSettingsCache _settings = new(config);

    public short ApiKey => ProduceRequest.ApiKey;
    public short MinVersion => 0;
    public short MaxVersion => 11;

    public async ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken)
    {
        var req = (ProduceRequest)request;
        short acks = req.Acks;
        bool validAcks = acks is 0 or 1 or -1;
        var response = new ProduceResponse();
        response.Responses.EnsureCapacity(req.TopicData.Count);
        List<Partition>? waitPartitions = null;
        List<long>? waitOffsets = null;
        List<ProduceResponse.PartitionProduceResponse>? waitResponses = null;
        long nowMs = replicaManager.NowMs;
        foreach (ProduceRequest.TopicProduceData topic in req.TopicData)
        {
            var topicResponse = new ProduceResponse.TopicProduceResponse { Name = topic.Name };
            topicResponse.PartitionResponses.EnsureCapacity(topic.PartitionData.Count);
            response.Responses.Add(topicResponse);
            TopicMetadata? metadata = replicaManager.Metadata.GetTopic(topic.Name);
            foreach (ProduceRequest.PartitionProduceData data in topic.PartitionData)
            {
                var partitionResponse = new ProduceResponse.PartitionProduceResponse { Index = data.Index, BaseOffset = -1 };
                topicResponse.PartitionResponses.Add(partitionResponse);
                if (context.ApiVersion < 3)
                {
                    // Message formats v0/v1 are gone (KIP-896); only the advertisement remains.
                    partitionResponse.ErrorCode = (short)ErrorCode.UnsupportedVersion;
                    continue;
                }

                if (!validAcks)
                {
                    partitionResponse.ErrorCode = (short)ErrorCode.InvalidRequiredAcks;
                    continue;
                }

                Partition? partition = ProducePartition(context.ApiVersion, acks, topic.Name, metadata, data, partitionResponse, nowMs, out long endOffset);
                if (partition is not null && acks == -1)
                {
                    (waitPartitions ??= new()).Add(partition);
                    (waitOffsets ??= new()).Add(endOffset);
                    (waitResponses ??= new()).Add(partitionResponse);
                }
            }
        }

        if (acks == 0)
        {
            // No response carries the error, so Kafka closes the connection and the client notices (KafkaApis.handleProduceRequest).
            string? failed = AcksZeroFailures(response);
            if (failed is not null) context.CloseConnection("acks=0 produce failed: " + failed);
            return null;
        }

        if (waitPartitions is not null)
        {
            ErrorCode[]? errors = await replicaManager.WaitForHighWatermarkAsync(
                waitPartitions.ToArray(), waitOffsets!.ToArray(), req.TimeoutMs, cancellationToken).ConfigureAwait(false);
            if (errors is not null)
            {
                for (int i = 0; i < errors.Length; i++)
                {
                    if (errors[i] != ErrorCode.None)
                    {
                        waitResponses![i].ErrorCode = (short)errors[i];
                    }
                }
            }
        }

        return response;
    }

    /// <summary>
    /// Validates and appends one partition's records; fills the response. Returns the partition
    /// when the append succeeded, with the offset after the appended records in
    /// <paramref name="endOffset"/> (the high watermark acks=all waits for).
    /// </summary>
    private Partition? ProducePartition(short apiVersion, short acks, string topicName, TopicMetadata? metadata,
        ProduceRequest.PartitionProduceData data, ProduceResponse.PartitionProduceResponse response, long nowMs, out long endOffset)
    {
        endOffset = -1;
        if (metadata is null)
        {
            return Fail(response, ErrorCode.UnknownTopicOrPartition, null, acks, topicName, data.Index);
        }

        if (metadata.IsInternal)
        {
            return Fail(response, ErrorCode.InvalidTopicException, $"Cannot append to internal topic {topicName}", acks, topicName, data.Index);
        }

        ErrorCode lookup = replicaManager.TryGetPartition(new TopicPartition(topicName, data.Index), out Partition? partition);
        if (lookup != ErrorCode.None)
        {
            return Fail(response, lookup, null, acks, topicName, data.Index);
        }

        TopicProduceSettings settings = _settings.For(metadata);
        ReadOnlyMemory<byte> records = data.Records switch
        {
            MemoryRecords memory => memory.Buffer,
            null => ReadOnlyMemory<byte>.Empty,
            BaseRecords other => CopyRecords(other),
        };

        // LogAppendTime topics overwrite the timestamps, so Kafka does not bound the producer's.
        RecordValidationOptions options = RecordValidationOptions.ForProduce(apiVersion, settings.MaxMessageBytes, settings.Compacted,
            settings.LogAppendTime ? null : nowMs, settings.TimestampBeforeMaxMs, settings.TimestampAfterMaxMs);
        ErrorCode validation = RecordBatchValidator.Validate(records.Span, options, null, out RecordValidationFailure failure);
        if (validation != ErrorCode.None)
        {
            if (apiVersion >= 8 && failure.BatchIndex >= 0 && validation is ErrorCode.InvalidRecord or ErrorCode.InvalidTimestamp)
            {
                response.RecordErrors.Add(new ProduceResponse.BatchIndexAndErrorMessage
                {
                    BatchIndex = Math.Max(0, failure.RecordIndex),
                    BatchIndexErrorMessage = failure.Message,
                });
            }

            return Fail(response, validation, failure.Message, acks, topicName, data.Index);
        }

        PooledBufferWriter? recompressed = null;
        try
        {
            if (settings.TargetCompression is CompressionType target && NeedsRecompression(records.Span, target))
            {
                ErrorCode error = BatchRecompressor.Recompress(records.Span, target, RecordValidationOptions.DefaultMaxDecompressedBytes, out recompressed);
                if (error != ErrorCode.None)
                {
                    return Fail(response, error, "The record batch could not be recompressed.", acks, topicName, data.Index);
                }

                records = recompressed!.WrittenMemory;
                if (records.Length > settings.MaxMessageBytes)
                {
                    return Fail(response, ErrorCode.MessageTooLarge, "The recompressed batch exceeds max.message.bytes.", acks, topicName, data.Index);
                }
            }

            LogAppendInfo info = replicaManager.AppendToLeader(partition!, records, acks);
            if (info.Error != ErrorCode.None)
            {
                response.LogStartOffset = info.LogStartOffset;
                return Fail(response, info.Error, null, acks, topicName, data.Index);
            }

            if (!info.IsDuplicate)
            {
                metrics?.Topics.RecordProduce(topicName, data.Records?.SizeInBytes ?? 0, info.RecordCount);
            }

            response.BaseOffset = info.FirstOffset;
            response.LogAppendTimeMs = info.LogAppendTimeMs;
            response.LogStartOffset = info.LogStartOffset;
            endOffset = info.LastOffset + 1;
            return partition;
        }
        finally
        {
            recompressed?.Dispose();
        }
    }

    private Partition? Fail(ProduceResponse.PartitionProduceResponse response, ErrorCode error, string? message, short acks, string topic, int partition)
    {
        response.ErrorCode = (short)error;
        response.ErrorMessage = message;
        if (acks == 0)
        {
            logger.LogDebug("acks=0 produce to {Topic}-{Partition} failed with {Error}", topic, partition, error);
        }

        return null;
    }

    /// <summary>"topic-partition ERROR, ..." for the failed partitions of an acks=0 produce, or null when none failed.</summary>
    private static string? AcksZeroFailures(ProduceResponse response)
    {
        System.Text.StringBuilder? failed = null;
        foreach (ProduceResponse.TopicProduceResponse topic in response.Responses)
        {
            foreach (ProduceResponse.PartitionProduceResponse partition in topic.PartitionResponses)
            {
                if (partition.ErrorCode == 0) continue;
                failed = failed is null ? new System.Text.StringBuilder() : failed.Append(", ");
                failed.Append(topic.Name).Append('-').Append(partition.Index).Append(' ').Append((ErrorCode)partition.ErrorCode);
            }
        }

        return failed?.ToString();
    }

    private static bool NeedsRecompression(ReadOnlySpan<byte> batches, CompressionType target)
    {
        int position = 0;
        while (position < batches.Length && RecordBatchHeader.TryRead(batches.Slice(position), out RecordBatchHeader header))
        {
            if (header.CompressionType != target)
            {
                return true;
            }

            position += header.SizeInBytes;
        }

        return false;
    }

    private static ReadOnlyMemory<byte> CopyRecords(BaseRecords records)
    {
        byte[] copy = new byte[records.SizeInBytes];
        records.CopyTo(copy);
        return copy;
    }
}
