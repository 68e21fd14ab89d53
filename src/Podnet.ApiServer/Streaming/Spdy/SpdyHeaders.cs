using System.Buffers.Binary;
using System.Text;

namespace Podnet.ApiServer.Streaming.Spdy;

/// <summary>
/// A SPDY/3 name/value header block (section 2.6.10): a 32-bit count, then per pair a 32-bit
/// length and a lowercase name, a 32-bit length and the value (several values of one name are
/// joined by NUL). Names are unique and lowercase on the wire; lookups here ignore case.
/// </summary>
internal sealed class SpdyHeaders
{
    private readonly List<KeyValuePair<string, string>> _pairs = [];

    public int Count => _pairs.Count;

    public IReadOnlyList<KeyValuePair<string, string>> Pairs => _pairs;

    public SpdyHeaders Add(string name, string value)
    {
        _pairs.Add(new(name.ToLowerInvariant(), value));
        return this;
    }

    /// <summary>The first value of <paramref name="name"/> (values joined by NUL are split), or null.</summary>
    public string? Get(string name)
    {
        foreach (var pair in _pairs)
        {
            if (string.Equals(pair.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                var nul = pair.Value.IndexOf('\0', StringComparison.Ordinal);
                return nul < 0 ? pair.Value : pair.Value[..nul];
            }
        }
        return null;
    }

    public byte[] Encode()
    {
        var size = 4 + _pairs.Sum(p => 8 + Encoding.UTF8.GetByteCount(p.Key) + Encoding.UTF8.GetByteCount(p.Value));
        var bytes = new byte[size];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)_pairs.Count);
        var at = 4;
        foreach (var (name, value) in _pairs)
        {
            at += WriteString(span[at..], name);
            at += WriteString(span[at..], value);
        }
        return bytes;
    }

    /// <summary>
    /// Parses an inflated block. Everything is checked against the bytes that are there: a count
    /// or a length past the end, an empty or non-lowercase or repeated name, more than
    /// <paramref name="maxCount"/> pairs, or bytes left over throw <see cref="SpdyProtocolException"/>.
    /// </summary>
    public static SpdyHeaders Parse(ReadOnlySpan<byte> block, int maxCount)
    {
        if (block.Length < 4)
        {
            throw new SpdyProtocolException("a header block shorter than its 4-byte count");
        }
        var count = BinaryPrimitives.ReadUInt32BigEndian(block);
        if (count > (uint)maxCount)
        {
            throw new SpdyProtocolException($"a header block of {count} pairs (at most {maxCount})");
        }
        var headers = new SpdyHeaders();
        var at = 4;
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var name = ReadString(block, ref at, "name");
            if (name.Length == 0)
            {
                throw new SpdyProtocolException("a header with an empty name");
            }
            if (!string.Equals(name, name.ToLowerInvariant(), StringComparison.Ordinal))
            {
                throw new SpdyProtocolException($"header name \"{name}\" is not lowercase");
            }
            if (!names.Add(name))
            {
                throw new SpdyProtocolException($"header \"{name}\" appears twice");
            }
            headers._pairs.Add(new(name, ReadString(block, ref at, "value")));
        }
        if (at != block.Length)
        {
            throw new SpdyProtocolException($"{block.Length - at} bytes after the last header");
        }
        return headers;
    }

    private static string ReadString(ReadOnlySpan<byte> block, ref int at, string what)
    {
        if (block.Length - at < 4)
        {
            throw new SpdyProtocolException($"a header {what}'s length runs past the block");
        }
        var length = BinaryPrimitives.ReadUInt32BigEndian(block[at..]);
        at += 4;
        if (length > (uint)(block.Length - at))
        {
            throw new SpdyProtocolException($"a header {what} of {length} bytes runs past the block");
        }
        var text = Encoding.UTF8.GetString(block.Slice(at, (int)length));
        at += (int)length;
        return text;
    }

    private static int WriteString(Span<byte> destination, string text)
    {
        var length = Encoding.UTF8.GetBytes(text, destination[4..]);
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)length);
        return 4 + length;
    }

    public override string ToString() => string.Join(", ", _pairs.Select(p => $"{p.Key}: {p.Value}"));
}

/// <summary>
/// What one SPDY session may make this server hold. Every bound is checked before the memory is
/// taken; a peer past one gets RST_STREAM (streams) or GOAWAY (the rest).
/// </summary>
internal sealed record SpdyLimits
{
    /// <summary>A control frame's payload (header blocks are a few dozen bytes in practice).</summary>
    public int MaxControlFrameBytes { get; init; } = 64 * 1024;

    /// <summary>An inflated header block.</summary>
    public int MaxHeaderBlockBytes { get; init; } = 64 * 1024;

    public int MaxHeaderCount { get; init; } = 100;

    /// <summary>Streams open at once (port-forward opens two per forwarded connection).</summary>
    public int MaxConcurrentStreams { get; init; } = 256;

    /// <summary>Bytes received on a stream and not yet read by the session's user; past it the
    /// reader stops taking frames off the connection (TCP pushes back on the peer).</summary>
    public int StreamBufferBytes { get; init; } = 256 * 1024;

    /// <summary>The largest data frame this server sends.</summary>
    public int MaxDataFrameBytes { get; init; } = 32 * 1024;

    /// <summary>SPDY/3.1's default window, stream and session, until SETTINGS says otherwise.</summary>
    public int InitialWindowBytes { get; init; } = 64 * 1024;
}
