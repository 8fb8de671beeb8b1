using Broker.Protocol;

namespace Broker.Replication.Metadata;

/// <summary>
/// Kafka's topic name rules (org.apache.kafka.common.internals.Topic.validate): 1..249 characters
/// of [a-zA-Z0-9._-], not "." or "..". 249 leaves room for the partition suffix and the
/// ".uuid-delete" rename in a 255-byte file name.
/// </summary>
public static class TopicNameValidator
{
    public const int MaxNameLength = 249;

    /// <summary>INVALID_TOPIC_EXCEPTION with Kafka's reason, or None.</summary>
    public static ErrorCode Validate(string? name, out string? message)
    {
        message = null;
        if (string.IsNullOrEmpty(name))
        {
            message = "Topic name is illegal, it can't be empty";
            return ErrorCode.InvalidTopicException;
        }

        if (name == "." || name == "..")
        {
            message = "Topic name cannot be \".\" or \"..\"";
            return ErrorCode.InvalidTopicException;
        }

        if (name.Length > MaxNameLength)
        {
            message = $"Topic name is illegal, it can't be longer than {MaxNameLength} characters, topic name: {name}";
            return ErrorCode.InvalidTopicException;
        }

        foreach (char c in name)
        {
            if (!IsLegal(c))
            {
                message = $"Topic name \"{name}\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'";
                return ErrorCode.InvalidTopicException;
            }
        }

        return ErrorCode.None;
    }

    public static bool IsValid(string? name) => Validate(name, out _) == ErrorCode.None;

    /// <summary>
    /// Kafka treats '.' and '_' as the same character in metric names, so it refuses a topic whose
    /// name differs from an existing one only there (Topic.hasCollision).
    /// </summary>
    public static bool HasCollision(string a, string b) =>
        a.Length == b.Length && a != b && a.Replace('.', '_') == b.Replace('.', '_');

    private static bool IsLegal(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '.' or '_' or '-';
}
