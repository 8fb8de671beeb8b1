using System.Buffers.Binary;
using Broker.Protocol.Messages;
using Broker.Protocol.Wire;

namespace Broker.Protocol.Framing;

/// <summary>
/// Request header parsing. The header version depends on the API and its version, which are the
/// first four bytes of every header version, so we peek them first (Kafka's RequestHeader.parse).
/// Header v2 (flexible APIs) adds tagged fields, but its client id stays a classic nullable
/// string ("flexibleVersions": "none" on RequestHeader.ClientId) so that any broker can log it.
/// </summary>
public static class RequestHeaderCodec
{
    /// <summary>Reads the api key and version without consuming anything; false if under 4 bytes.</summary>
    public static bool TryPeekApiKeyAndVersion(ReadOnlySpan<byte> frame, out short apiKey, out short apiVersion)
    {
        if (frame.Length < 4)
        {
            apiKey = -1;
            apiVersion = -1;
            return false;
        }
        apiKey = BinaryPrimitives.ReadInt16BigEndian(frame);
        apiVersion = BinaryPrimitives.ReadInt16BigEndian(frame.Slice(2));
        return true;
    }

    /// <summary>
    /// Header version for a request (Kafka's ApiKeys.requestHeaderVersion): v2 when the API version is
    /// flexible, else v1; ControlledShutdown v0 used header v0 (no client id). Versions beyond the
    /// highest known still use the flexible rule so a newer ApiVersions request can be parsed and
    /// answered with UNSUPPORTED_VERSION (KIP-511). Unknown api keys get v1.
    /// </summary>
    public static short HeaderVersion(short apiKey, short apiVersion)
    {
        if (apiKey == ControlledShutdownRequest.ApiKey && apiVersion == 0) return 0;
        ApiInfo? info = ApiMessages.Get(apiKey);
        return info is not null && info.IsFlexible(apiVersion) ? (short)2 : (short)1;
    }

    /// <summary>
    /// Reads the header into <paramref name="header"/> (reusable, so parsing allocates nothing but
    /// the client id). Returns false when the header is malformed (reader.Failed is then set);
    /// <paramref name="headerVersion"/> is the version used, for the body's reader position.
    /// </summary>
    public static bool TryRead(ref KafkaReader reader, RequestHeader header, out short headerVersion) =>
        TryRead(ref reader, header, clientIds: null, out headerVersion);

    /// <summary>
    /// As <see cref="TryRead(ref KafkaReader, RequestHeader, out short)"/>, taking the client id
    /// string from the connection's <paramref name="clientIds"/> when it is the one last seen, so
    /// a steady stream of requests decodes its headers without allocating.
    /// </summary>
    public static bool TryRead(ref KafkaReader reader, RequestHeader header, ClientIdCache? clientIds, out short headerVersion)
    {
        headerVersion = 1;
        if (reader.Remaining < 4)
        {
            reader.Fail();
            return false;
        }
        // Peek through a throwaway reader positioned at the same place.
        var peek = reader;
        short apiKey = peek.ReadInt16();
        short apiVersion = peek.ReadInt16();
        headerVersion = HeaderVersion(apiKey, apiVersion);
        header.UnknownTaggedFields = null;
        header.ClientId = "";
        if (clientIds is null)
        {
            header.Read(ref reader, headerVersion);
            return !reader.Failed;
        }

        // The generated RequestHeader.Read, with the client id taken from the cache.
        header.RequestApiKey = reader.ReadInt16();
        header.RequestApiVersion = reader.ReadInt16();
        header.CorrelationId = reader.ReadInt32();
        if (headerVersion >= 1) header.ClientId = ReadClientId(ref reader, clientIds);
        if (headerVersion >= 2) header.UnknownTaggedFields = ReadTaggedFields(ref reader);
        return !reader.Failed;
    }

    /// <summary>Client id: a classic nullable string in every header version (never compact).</summary>
    private static string? ReadClientId(ref KafkaReader reader, ClientIdCache clientIds)
    {
        // Failures yield null, as the generated reader's ReadString(compact: false, nullable: true) does.
        short length = reader.ReadInt16();
        if (reader.Failed) return null;
        if (length < 0)
        {
            if (length != -1) reader.Fail();
            return null;
        }
        ReadOnlyMemory<byte> utf8 = reader.ReadRawMemory(length);
        return reader.Failed ? null : clientIds.Get(utf8.Span);
    }

    /// <summary>Header v2 defines no tagged fields: every one is kept as unknown, as the generated code does.</summary>
    private static List<RawTaggedField>? ReadTaggedFields(ref KafkaReader reader)
    {
        List<RawTaggedField>? unknown = null;
        uint taggedCount = reader.ReadUnsignedVarInt();
        for (uint t = 0; t < taggedCount && !reader.Failed; t++)
        {
            uint tag = reader.ReadUnsignedVarInt();
            int tagSize = reader.ReadTaggedFieldSize();
            if (tagSize < 0) break;
            reader.ReadUnknownTaggedField(ref unknown, tag, tagSize);
        }
        return unknown;
    }
}

/// <summary>
/// Response header and frame writing: size prefix, correlation id, tagged fields (v1), body.
/// </summary>
public static class ResponseFraming
{
    /// <summary>Response header size: correlation id, plus an empty tagged-field count in v1.</summary>
    public static int HeaderSize(short headerVersion) => headerVersion >= 1 ? 5 : 4;

    public static void WriteHeader(ref KafkaWriter writer, int correlationId, short headerVersion)
    {
        writer.WriteInt32(correlationId);
        if (headerVersion >= 1) writer.WriteUnsignedVarInt(0); // no tagged fields
    }

    /// <summary>Whole frame size on the wire: 4-byte size prefix, header and body (spliced records included).</summary>
    public static int ComputeFrameSize(IMessage body, short apiVersion, short headerVersion) =>
        4 + HeaderSize(headerVersion) + body.ComputeSize(apiVersion);

    /// <summary>
    /// Writes size prefix, header and body into <paramref name="destination"/> (at least
    /// ComputeFrameSize bytes). Returns the bytes written, which is less than the frame size when
    /// records were spliced (see <see cref="KafkaWriter"/>).
    /// </summary>
    public static int WriteFrame(Span<byte> destination, int correlationId, short headerVersion, IMessage body, short apiVersion,
        List<RecordsSplice>? splices = null)
    {
        int bodySize = body.ComputeSize(apiVersion);
        int frameSize = HeaderSize(headerVersion) + bodySize;
        var writer = new KafkaWriter(destination, splices);
        writer.WriteInt32(frameSize);
        WriteHeader(ref writer, correlationId, headerVersion);
        body.Write(ref writer, apiVersion);
        return writer.Position;
    }
}
