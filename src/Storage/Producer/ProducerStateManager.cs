using System.Buffers.Binary;
using System.Globalization;
using Broker.Protocol;
using Broker.Protocol.Records;
using Microsoft.Win32.SafeHandles;

namespace Broker.Storage.Producer;

/// <summary>Outcome of checking an idempotent batch against the producer state.</summary>
public readonly record struct SequenceCheckResult(ErrorCode Error, bool IsDuplicate, long FirstOffset, long LastOffset)
{
    public static readonly SequenceCheckResult Ok = new(ErrorCode.None, false, -1, -1);

    public static SequenceCheckResult Failed(ErrorCode error) => new(error, false, -1, -1);
}

/// <summary>
/// Producer state of one partition for idempotence (KIP-98; Kafka <c>ProducerStateManager</c>):
/// producer id -> <see cref="ProducerStateEntry"/>. Updated by the partition writer as batches
/// are appended; rebuilt after a restart from the newest snapshot at or below the log end offset,
/// then by replaying the batch headers after it.
///
/// Sequence rules (Kafka <c>ProducerAppendInfo.checkProducerEpoch/checkSequence</c>):
/// an epoch lower than the known one is INVALID_PRODUCER_EPOCH; a new epoch must start at
/// sequence 0; under the same epoch the first sequence must follow the last one (wrapping from
/// int.MaxValue to 0); a batch matching one of the last 5 exactly is a duplicate and gets its
/// original offsets. A producer id with no state (new, or its state was removed by retention or
/// expiry) is accepted at any sequence, as Kafka does since KIP-360, so UNKNOWN_PRODUCER_ID is never
/// returned from here.
///
/// Snapshot file <c>&lt;20-digit offset&gt;.snapshot</c> (our own format, not Kafka's; all big-endian):
/// <code>
/// int16 version (1) | uint32 crc32c of everything after this field | int32 entryCount |
/// entries: int64 producerId, int16 epoch, int64 lastTimestamp, int32 coordinatorEpoch,
///          int64 currentTxnFirstOffset, int8 batchCount,
///          batchCount x (int32 firstSeq, int32 lastSeq, int64 firstOffset, int64 lastOffset)
/// </code>
/// The offset in the name is the log end offset the state covers: replay resumes there. A
/// snapshot with a bad CRC is deleted and an older one (or the log start) is used instead.
/// Threads: writer only, except <see cref="TryGet"/> which the owner must call under its lock.
/// </summary>
public sealed class ProducerStateManager
{
    public const string SnapshotSuffix = ".snapshot";
    private const short SnapshotVersion = 1;
    private const int KeptSnapshots = 3;

    private readonly Dictionary<long, ProducerStateEntry> _producers = new();
    private readonly string? _directory;

    internal ProducerStateManager(string? directory) => _directory = directory;

    public int ProducerCount => _producers.Count;

    /// <summary>The offset up to which the state was last loaded or snapshotted.</summary>
    public long MapEndOffset { get; private set; }

    public bool TryGet(long producerId, out ProducerStateEntry entry) => _producers.TryGetValue(producerId, out entry!);

    /// <summary>Checks a batch without changing anything.</summary>
    public SequenceCheckResult CheckSequence(long producerId, short producerEpoch, int firstSequence, int lastSequence)
    {
        if (!_producers.TryGetValue(producerId, out ProducerStateEntry? entry))
        {
            return SequenceCheckResult.Ok;
        }

        if (producerEpoch < entry.ProducerEpoch)
        {
            return SequenceCheckResult.Failed(ErrorCode.InvalidProducerEpoch);
        }

        if (entry.TryFindDuplicate(producerEpoch, firstSequence, lastSequence, out ProducerBatch duplicate))
        {
            return new SequenceCheckResult(ErrorCode.None, true, duplicate.FirstOffset, duplicate.LastOffset);
        }

        if (firstSequence == RecordBatchHeader.NoSequence)
        {
            return SequenceCheckResult.Ok; // idempotence off for this batch (e.g. a control batch)
        }

        if (producerEpoch != entry.ProducerEpoch)
        {
            return firstSequence == 0 ? SequenceCheckResult.Ok : SequenceCheckResult.Failed(ErrorCode.OutOfOrderSequenceNumber);
        }

        int lastSeen = entry.LastSequence;
        if (lastSeen == RecordBatchHeader.NoSequence || InSequence(lastSeen, firstSequence))
        {
            return SequenceCheckResult.Ok;
        }

        return SequenceCheckResult.Failed(ErrorCode.OutOfOrderSequenceNumber);
    }

    /// <summary>next follows last, with the wrap at int.MaxValue (Kafka ProducerAppendInfo.inSequence).</summary>
    public static bool InSequence(int lastSequence, int nextSequence) =>
        nextSequence == lastSequence + 1 || (lastSequence == int.MaxValue && nextSequence == 0);

    /// <summary>Records an appended (or replayed) batch.</summary>
    internal void Update(in BatchInfo batch)
    {
        if (batch.ProducerId < 0)
        {
            return;
        }

        if (!_producers.TryGetValue(batch.ProducerId, out ProducerStateEntry? entry))
        {
            entry = new ProducerStateEntry(batch.ProducerId, batch.ProducerEpoch);
            _producers.Add(batch.ProducerId, entry);
        }

        if (batch.IsControl)
        {
            // A transaction marker ends the producer's open transaction (KIP-98).
            entry.SetEpoch(batch.ProducerEpoch);
            entry.CurrentTxnFirstOffset = -1;
            entry.LastTimestamp = Math.Max(entry.LastTimestamp, batch.MaxTimestamp);
            return;
        }

        entry.Add(batch.ProducerEpoch, new ProducerBatch(batch.BaseSequence, batch.LastSequence, batch.BaseOffset, batch.LastOffset), batch.MaxTimestamp);
        if (batch.IsTransactional && entry.CurrentTxnFirstOffset < 0)
        {
            entry.CurrentTxnFirstOffset = batch.BaseOffset;
        }

        MapEndOffset = Math.Max(MapEndOffset, batch.LastOffset + 1);
    }

    /// <summary>Removes producers idle for longer than producer.id.expiration.ms (Kafka removeExpiredProducers).</summary>
    public int RemoveExpired(long nowMs, long expirationMs)
    {
        List<long>? expired = null;
        foreach (KeyValuePair<long, ProducerStateEntry> pair in _producers)
        {
            if (pair.Value.CurrentTxnFirstOffset < 0 && pair.Value.LastTimestamp >= 0 && nowMs - pair.Value.LastTimestamp >= expirationMs)
            {
                (expired ??= new List<long>()).Add(pair.Key);
            }
        }

        if (expired is not null)
        {
            foreach (long id in expired)
            {
                _producers.Remove(id);
            }
        }

        return expired?.Count ?? 0;
    }

    internal void Clear(long offset)
    {
        _producers.Clear();
        MapEndOffset = offset;
    }

    /// <summary>Writes <c>&lt;offset&gt;.snapshot</c> for the current state and prunes old snapshots.</summary>
    internal void TakeSnapshot(long offset)
    {
        if (_directory is null)
        {
            return;
        }

        int size = 2 + 4 + 4;
        foreach (ProducerStateEntry entry in _producers.Values)
        {
            size += 8 + 2 + 8 + 4 + 8 + 1 + (entry.BatchCount * 24);
        }

        byte[] buffer = new byte[size];
        Span<byte> span = buffer;
        BinaryPrimitives.WriteInt16BigEndian(span, SnapshotVersion);
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(6), _producers.Count);
        int p = 10;
        foreach (ProducerStateEntry entry in _producers.Values)
        {
            BinaryPrimitives.WriteInt64BigEndian(span.Slice(p), entry.ProducerId);
            BinaryPrimitives.WriteInt16BigEndian(span.Slice(p + 8), entry.ProducerEpoch);
            BinaryPrimitives.WriteInt64BigEndian(span.Slice(p + 10), entry.LastTimestamp);
            BinaryPrimitives.WriteInt32BigEndian(span.Slice(p + 18), entry.CoordinatorEpoch);
            BinaryPrimitives.WriteInt64BigEndian(span.Slice(p + 22), entry.CurrentTxnFirstOffset);
            span[p + 30] = (byte)entry.BatchCount;
            p += 31;
            foreach (ProducerBatch batch in entry.Batches)
            {
                BinaryPrimitives.WriteInt32BigEndian(span.Slice(p), batch.FirstSequence);
                BinaryPrimitives.WriteInt32BigEndian(span.Slice(p + 4), batch.LastSequence);
                BinaryPrimitives.WriteInt64BigEndian(span.Slice(p + 8), batch.FirstOffset);
                BinaryPrimitives.WriteInt64BigEndian(span.Slice(p + 16), batch.LastOffset);
                p += 24;
            }
        }

        BinaryPrimitives.WriteUInt32BigEndian(span.Slice(2), Crc32C.Compute(span.Slice(6)));
        Checkpoints.CheckpointFile.WriteAtomically(SnapshotPath(offset), buffer);
        MapEndOffset = offset;

        List<long> offsets = ListSnapshotOffsets(_directory);
        for (int i = 0; i < offsets.Count - KeptSnapshots; i++)
        {
            File.Delete(SnapshotPath(offsets[i]));
        }
    }

    /// <summary>
    /// Loads the newest valid snapshot at or below <paramref name="logEndOffset"/> (deleting newer
    /// ones, which describe truncated data); returns its offset, or -1 when there is none.
    /// </summary>
    internal long LoadLatestSnapshot(long logEndOffset)
    {
        _producers.Clear();
        MapEndOffset = 0;
        if (_directory is null)
        {
            return -1;
        }

        List<long> offsets = ListSnapshotOffsets(_directory);
        for (int i = offsets.Count - 1; i >= 0; i--)
        {
            long offset = offsets[i];
            if (offset > logEndOffset)
            {
                File.Delete(SnapshotPath(offset));
                continue;
            }

            if (TryReadSnapshot(SnapshotPath(offset)))
            {
                MapEndOffset = offset;
                return offset;
            }

            File.Delete(SnapshotPath(offset));
            _producers.Clear();
        }

        return -1;
    }

    /// <summary>Deletes snapshots above <paramref name="offset"/> (log truncated).</summary>
    internal void DeleteSnapshotsAbove(long offset)
    {
        if (_directory is null)
        {
            return;
        }

        foreach (long snapshot in ListSnapshotOffsets(_directory))
        {
            if (snapshot > offset)
            {
                File.Delete(SnapshotPath(snapshot));
            }
        }
    }

    private bool TryReadSnapshot(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException)
        {
            return false;
        }

        ReadOnlySpan<byte> span = bytes;
        if (span.Length < 10 || BinaryPrimitives.ReadInt16BigEndian(span) != SnapshotVersion
            || BinaryPrimitives.ReadUInt32BigEndian(span.Slice(2)) != Crc32C.Compute(span.Slice(6)))
        {
            return false;
        }

        int count = BinaryPrimitives.ReadInt32BigEndian(span.Slice(6));
        int p = 10;
        for (int i = 0; i < count; i++)
        {
            if (p + 31 > span.Length)
            {
                return false;
            }

            var entry = new ProducerStateEntry(BinaryPrimitives.ReadInt64BigEndian(span.Slice(p)), BinaryPrimitives.ReadInt16BigEndian(span.Slice(p + 8)));
            long lastTimestamp = BinaryPrimitives.ReadInt64BigEndian(span.Slice(p + 10));
            entry.CoordinatorEpoch = BinaryPrimitives.ReadInt32BigEndian(span.Slice(p + 18));
            entry.CurrentTxnFirstOffset = BinaryPrimitives.ReadInt64BigEndian(span.Slice(p + 22));
            int batches = span[p + 30];
            p += 31;
            if (p + (batches * 24) > span.Length)
            {
                return false;
            }

            for (int b = 0; b < batches; b++)
            {
                var batch = new ProducerBatch(
                    BinaryPrimitives.ReadInt32BigEndian(span.Slice(p)),
                    BinaryPrimitives.ReadInt32BigEndian(span.Slice(p + 4)),
                    BinaryPrimitives.ReadInt64BigEndian(span.Slice(p + 8)),
                    BinaryPrimitives.ReadInt64BigEndian(span.Slice(p + 16)));
                entry.Add(entry.ProducerEpoch, batch, lastTimestamp);
                p += 24;
            }

            entry.LastTimestamp = lastTimestamp;
            _producers[entry.ProducerId] = entry;
        }

        return true;
    }

    private string SnapshotPath(long offset) =>
        Path.Combine(_directory!, offset.ToString("D20", CultureInfo.InvariantCulture) + SnapshotSuffix);

    internal static List<long> ListSnapshotOffsets(string directory)
    {
        var offsets = new List<long>();
        foreach (string file in Directory.EnumerateFiles(directory, "*" + SnapshotSuffix))
        {
            string name = Path.GetFileNameWithoutExtension(file);
            if (name.Length == 20 && long.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out long offset))
            {
                offsets.Add(offset);
            }
        }

        offsets.Sort();
        return offsets;
    }
}
