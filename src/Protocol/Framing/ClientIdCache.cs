using System.Text;

namespace Broker.Protocol.Framing;

/// <summary>
/// The last client id decoded on one connection, kept as its UTF-8 bytes and its string. Clients
/// send the same client id in every request header of a connection, so comparing the bytes and
/// reusing the string makes steady-state header decoding allocation-free (the id is decoded
/// again only when it changes). One instance per connection, used by its single reading loop:
/// not thread-safe.
/// </summary>
public sealed class ClientIdCache
{
    /// <summary>
    /// Longer ids are decoded every time and not kept, so a hostile client cannot make a
    /// connection hold its 32 KiB id. librdkafka, the Java client and the rest send far less.
    /// </summary>
    public const int MaxCachedBytes = 256;

    private readonly byte[] _utf8 = new byte[MaxCachedBytes];
    private int _length = -1; // -1: nothing cached yet
    private string _clientId = string.Empty;

    /// <summary>The client id for these UTF-8 bytes: the cached string when the bytes are the last ones seen.</summary>
    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length == 0) return string.Empty;
        if (utf8.Length == _length && utf8.SequenceEqual(_utf8.AsSpan(0, _length))) return _clientId;

        // Invalid UTF-8 becomes U+FFFD, as in KafkaReader and Kafka's Utils.utf8.
        string clientId = Encoding.UTF8.GetString(utf8);
        if (utf8.Length <= MaxCachedBytes)
        {
            utf8.CopyTo(_utf8);
            _length = utf8.Length;
            _clientId = clientId;
        }
        return clientId;
    }
}
