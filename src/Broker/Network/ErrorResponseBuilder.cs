using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
using Broker.Protocol;
using Broker.Protocol.Messages;
using Broker.Protocol.Wire;

namespace Broker.Network;

/// <summary>
/// Builds the error response for any request from the generated message shapes, the way each
/// of Kafka's AbstractRequest.getErrorResponse implementations does by hand (used when a handler
/// throws: UNKNOWN_SERVER_ERROR without a message, as ApiError.fromThrowable withholds it so as
/// not to leak internals).
///
/// The rule, which matches Kafka's per-API code for every API we serve: the error goes at the
/// highest level of the response that has an error_code at the request's version. When the
/// response has a top-level error_code (JoinGroup, Heartbeat, InitProducerId, ...), that is all.
/// Otherwise each response list is filled by echoing the request's matching list (matched by
/// key fields: topic name or id, partition index, group id, resource, coordinator key), and
/// each echoed entry gets the error where it has an error_code, or one level further down
/// (Produce and OffsetCommit: per partition; CreateTopics and DescribeGroups: per topic/group).
/// Fetch below v13 is the one exception, as in Kafka: top-level error and every partition.
///
/// Whether a field exists at a version is not visible by reflection, so the builder writes the
/// response and reads it back to see whether the top-level error_code survived. Reflection is
/// fine here: this is the failure path, never the hot path.
/// </summary>
public static class ErrorResponseBuilder
{
    // Response fields that identify an entry; the request's field with an alias-equal name is copied.
    private static readonly string[] PartitionAliases = ["PartitionIndex", "Partition", "Index", "PartitionId"];
    private static readonly string[] TopicNameAliases = ["Name", "Topic", "TopicName"];
    private static readonly string[] ExactKeys = ["TopicId", "GroupId", "Key", "ResourceType", "ResourceName", "TransactionalId"];

    // When the request's list holds bare strings (DescribeGroups.Groups, DeleteTopics.TopicNames), the
    // first of these the response entry has receives the string.
    private static readonly string[] StringKeyPreference = ["GroupId", "Name", "Topic", "Key", "TransactionalId"];

    // Offsets Kafka reports as -1 (INVALID_OFFSET, INVALID_HIGH_WATERMARK, INVALID_LOW_WATERMARK) in an
    // error entry where the spec's default is 0.
    private static readonly string[] InvalidOffsetFields = ["BaseOffset", "HighWatermark", "LowWatermark"];

    private static readonly ConcurrentDictionary<Type, PropertyInfo[]> PropertiesByType = new();

    /// <summary>
    /// The response to <paramref name="request"/> at <paramref name="version"/> carrying
    /// <paramref name="error"/>, or null when none can be written (the caller closes the connection).
    /// </summary>
    public static IResponse? Build(IRequest request, short version, ErrorCode error)
    {
        ApiInfo? api = ApiMessages.Get(request.ApiKey);
        if (api is null) return null;
        IResponse response = api.CreateResponse();
        short code = (short)error;

        bool topLevel = TrySetErrorCode(response, code) && ErrorCodeSurvives(api, response, version, code);
        if (!topLevel)
        {
            TrySetErrorCode(response, 0);
        }

        bool fetchBelow13 = request is FetchRequest && version < 13;
        if (!topLevel || fetchBelow13)
        {
            EchoLists(response, request, code);
        }

        if (request is FetchRequest fetch && response is FetchResponse fetchResponse && version >= 7)
        {
            // KIP-227 sessions exist from v7; Kafka echoes the request's session id.
            fetchResponse.SessionId = fetch.SessionId;
        }

        return CanWrite(response, version) ? response : null;
    }

    private static bool TrySetErrorCode(object target, short code)
    {
        PropertyInfo? property = Find(target.GetType(), "ErrorCode");
        if (property is null || property.PropertyType != typeof(short)) return false;
        property.SetValue(target, code);
        return true;
    }

    /// <summary>Fills each list of <paramref name="target"/> from the matching list of <paramref name="source"/>.</summary>
    private static void EchoLists(object target, object source, short code)
    {
        foreach (PropertyInfo targetList in Properties(target.GetType()))
        {
            Type? elementType = ListElementType(targetList.PropertyType);
            if (elementType is null || !IsMessageClass(elementType)) continue;
            IList? sourceList = BestSourceList(source, elementType);
            if (sourceList is null) continue;

            var list = (IList)(targetList.GetValue(target) ?? Activator.CreateInstance(targetList.PropertyType)!);
            list.Clear();
            foreach (object? sourceEntry in sourceList)
            {
                if (sourceEntry is null) continue;
                object entry = Activator.CreateInstance(elementType)!;
                CopyKeys(entry, sourceEntry);
                if (TrySetErrorCode(entry, code))
                {
                    foreach (string name in InvalidOffsetFields)
                    {
                        PropertyInfo? offset = Find(elementType, name);
                        if (offset?.PropertyType == typeof(long)) offset.SetValue(entry, -1L);
                    }
                }
                else if (IsMessageClass(sourceEntry.GetType()))
                {
                    EchoLists(entry, sourceEntry, code);
                }

                list.Add(entry);
            }

            targetList.SetValue(target, list);
        }
    }

    /// <summary>
    /// The list in <paramref name="source"/> whose entries share the most key fields with
    /// <paramref name="targetElement"/>; a non-empty list wins over an empty one (DeleteTopics has
    /// TopicNames before v6 and Topics from v6, only one of them filled).
    /// </summary>
    private static IList? BestSourceList(object source, Type targetElement)
    {
        IList? best = null;
        int bestScore = 0;
        foreach (PropertyInfo property in Properties(source.GetType()))
        {
            Type? sourceElement = ListElementType(property.PropertyType);
            if (sourceElement is null || sourceElement == typeof(RawTaggedField)) continue;
            int score = KeyOverlap(targetElement, sourceElement);
            if (score == 0) continue;
            var list = property.GetValue(source) as IList;
            if (list is { Count: > 0 }) score += 100;
            if (score > bestScore)
            {
                bestScore = score;
                best = list;
            }
        }

        return best;
    }

    private static int KeyOverlap(Type target, Type source)
    {
        if (source == typeof(string)) return StringKey(target) is null ? 0 : 1;
        if (source == typeof(int)) return PartitionKey(target) is null ? 0 : 1;
        if (!IsMessageClass(source)) return 0;
        int score = 0;
        foreach (PropertyInfo property in Properties(target))
        {
            if (IsKey(property.Name) && MatchingSourceProperty(source, property) is not null) score++;
        }

        return score;
    }

    private static void CopyKeys(object target, object source)
    {
        if (source is string text)
        {
            StringKey(target.GetType())!.SetValue(target, text);
            return;
        }

        if (source is int partition)
        {
            PartitionKey(target.GetType())!.SetValue(target, partition);
            return;
        }

        foreach (PropertyInfo property in Properties(target.GetType()))
        {
            if (!IsKey(property.Name)) continue;
            PropertyInfo? from = MatchingSourceProperty(source.GetType(), property);
            if (from is null) continue;
            object? value = from.GetValue(source);
            // Kafka answers a Metadata topic requested by id with "" as its name (the response field is not nullable there).
            if (value is null && property.PropertyType == typeof(string) && Array.IndexOf(TopicNameAliases, property.Name) >= 0) value = string.Empty;
            property.SetValue(target, value);
        }
    }

    private static PropertyInfo? MatchingSourceProperty(Type source, PropertyInfo target)
    {
        string[]? aliases = Array.IndexOf(PartitionAliases, target.Name) >= 0 ? PartitionAliases
            : Array.IndexOf(TopicNameAliases, target.Name) >= 0 ? TopicNameAliases
            : null;
        if (aliases is null)
        {
            PropertyInfo? exact = Find(source, target.Name);
            return exact?.PropertyType == target.PropertyType ? exact : null;
        }

        foreach (string alias in aliases)
        {
            PropertyInfo? candidate = Find(source, alias);
            if (candidate?.PropertyType == target.PropertyType) return candidate;
        }

        return null;
    }

    private static bool IsKey(string name) =>
        Array.IndexOf(PartitionAliases, name) >= 0 || Array.IndexOf(TopicNameAliases, name) >= 0 || Array.IndexOf(ExactKeys, name) >= 0;

    private static PropertyInfo? StringKey(Type type)
    {
        foreach (string name in StringKeyPreference)
        {
            PropertyInfo? property = Find(type, name);
            if (property?.PropertyType == typeof(string)) return property;
        }

        return null;
    }

    private static PropertyInfo? PartitionKey(Type type)
    {
        foreach (string name in PartitionAliases)
        {
            PropertyInfo? property = Find(type, name);
            if (property?.PropertyType == typeof(int)) return property;
        }

        return null;
    }

    /// <summary>Writes and reads back the response: an error_code absent at this version is dropped (ignorable) or refused (throws).</summary>
    private static bool ErrorCodeSurvives(ApiInfo api, IResponse response, short version, short code)
    {
        try
        {
            byte[] bytes = new byte[response.ComputeSize(version)];
            var writer = new KafkaWriter(bytes);
            response.Write(ref writer, version);
            IResponse copy = api.CreateResponse();
            var reader = new KafkaReader(bytes);
            copy.Read(ref reader, version);
            return !reader.Failed && Find(copy.GetType(), "ErrorCode")!.GetValue(copy) is short read && read == code;
        }
        catch (UnsupportedVersionException)
        {
            return false;
        }
    }

    private static bool CanWrite(IResponse response, short version)
    {
        try
        {
            byte[] bytes = new byte[response.ComputeSize(version)];
            var writer = new KafkaWriter(bytes);
            response.Write(ref writer, version);
            return true;
        }
        catch (Exception e) when (e is UnsupportedVersionException or ArgumentException or InvalidOperationException or NullReferenceException)
        {
            return false;
        }
    }

    // Generated messages and their nested structs (the nested ones implement no interface).
    private static bool IsMessageClass(Type type) => type.IsClass && type.Namespace == typeof(ProduceRequest).Namespace;

    private static Type? ListElementType(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>) ? type.GetGenericArguments()[0] : null;

    private static PropertyInfo? Find(Type type, string name)
    {
        foreach (PropertyInfo property in Properties(type))
        {
            if (property.Name == name) return property;
        }

        return null;
    }

    private static PropertyInfo[] Properties(Type type) =>
        PropertiesByType.GetOrAdd(type, static t =>
        {
            var settable = new List<PropertyInfo>();
            foreach (PropertyInfo property in t.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (property.CanRead && property.CanWrite && property.GetIndexParameters().Length == 0) settable.Add(property);
            }

            return settable.ToArray();
        });
}
