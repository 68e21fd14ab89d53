using System.Buffers.Binary;

namespace Podnet.Dns.Wire;

/// <summary>
/// Domain names in wire form: reading with decompression under hard bounds, encoding dotted
/// names, and the lower-cased dotted key the index is looked up by.
/// </summary>
/// <remarks>
/// Reading is bounded three ways, so no input can loop or overrun: every label is at most 63
/// octets and the whole name at most 255; a compression pointer must point strictly before the
/// pointer itself (so a chain of jumps always moves backwards and ends) and after the header; and every read is
/// checked against the message's length. Label types 01 and 10 (RFC 6891's extended labels,
/// never deployed) are malformed here.
/// </remarks>
public static class Names
{
    /// <summary>
    /// Reads the name at <paramref name="offset"/>, decompressed into <paramref name="name"/>
    /// (at least 255 bytes), original case kept. Returns the offset just after the name as it
    /// sits in the message (after its first pointer, if any), or -1 when the name is malformed.
    /// </summary>
    public static int Read(ReadOnlySpan<byte> message, int offset, Span<byte> name, out int nameLength)
    {
        nameLength = 0;
        var position = offset;
        var end = -1;
        var written = 0;
        while (true)
        {
            if (position >= message.Length)
            {
                return -1;
            }
            var length = message[position];
            if ((length & 0xC0) == 0xC0)
            {
                if (position + 1 >= message.Length)
                {
                    return -1;
                }
                var target = BinaryPrimitives.ReadUInt16BigEndian(message[position..]) & 0x3FFF;
                if (target >= position || target < Limits.HeaderLength)
                {
                    return -1;
                }
                if (end < 0)
                {
                    end = position + 2;
                }
                position = target;
                continue;
            }
            if ((length & 0xC0) != 0)
            {
                return -1;
            }
            if (written + 1 + length > Limits.MaxNameLength || position + 1 + length > message.Length)
            {
                return -1;
            }
            message.Slice(position, 1 + length).CopyTo(name[written..]);
            written += 1 + length;
            position += 1 + length;
            if (length == 0)
            {
                nameLength = written;
                return end < 0 ? position : end;
            }
        }
    }

    /// <summary>Skips the name at <paramref name="offset"/> under the same bounds as <see cref="Read"/>; -1 when malformed.</summary>
    public static int Skip(ReadOnlySpan<byte> message, int offset)
    {
        Span<byte> scratch = stackalloc byte[Limits.MaxNameLength];
        return Read(message, offset, scratch, out _);
    }

    /// <summary>
    /// The index key of a wire name: its labels lower-cased (ASCII) and joined by dots, without
    /// the root's trailing dot. Returns the key's length, or -1 when the name cannot be a key:
    /// a label holding a dot or a byte outside printable ASCII matches no name Podnet serves.
    /// </summary>
    public static int ToKey(ReadOnlySpan<byte> name, Span<char> key)
    {
        var length = ToKey(name, key, out var exact);
        return exact ? length : -1;
    }

    /// <summary>
    /// As <see cref="ToKey(ReadOnlySpan{byte}, Span{char})"/>, but a byte that cannot be in a key
    /// becomes U+0001 and <paramref name="exact"/> is false: the key then matches nothing, yet its
    /// last labels still tell which zone the name is in. -1 only for a name without its root octet.
    /// </summary>
    public static int ToKey(ReadOnlySpan<byte> name, Span<char> key, out bool exact)
    {
        exact = true;
        var written = 0;
        var position = 0;
        while (position < name.Length)
        {
            var length = name[position];
            if (length == 0)
            {
                return written;
            }
            if (written > 0)
            {
                key[written++] = '.';
            }
            foreach (var b in name.Slice(position + 1, length))
            {
                if (b <= 0x20 || b >= 0x7F || b == (byte)'.')
                {
                    exact = false;
                    key[written++] = '\u0001';
                    continue;
                }
                key[written++] = (char)(b is >= (byte)'A' and <= (byte)'Z' ? b + 32 : b);
            }
            position += 1 + length;
        }
        return -1;
    }

    /// <summary>The wire form of a dotted name (a trailing dot is optional; "" and "." are the root).</summary>
    public static byte[] Encode(string dotted)
    {
        if (!TryEncode(dotted, out var wire))
        {
            throw new FormatException($"'{dotted}' is not a domain name: labels must be 1-63 characters of printable ASCII and the name at most 253");
        }
        return wire;
    }

    public static bool TryEncode(string dotted, out byte[] wire)
    {
        wire = [];
        var name = dotted.AsSpan();
        if (name.EndsWith("."))
        {
            name = name[..^1];
        }
        if (name.Length == 0)
        {
            wire = [0];
            return true;
        }
        if (name.Length + 2 > Limits.MaxNameLength)
        {
            return false;
        }
        // The wire form is the dotted form shifted by one, each dot replaced by the length of the label after it.
        var buffer = new byte[name.Length + 2];
        var labelStart = 0;
        for (var i = 0; i <= name.Length; i++)
        {
            if (i < name.Length && name[i] != '.')
            {
                if (name[i] <= ' ' || name[i] >= (char)0x7F)
                {
                    return false;
                }
                buffer[i + 1] = (byte)name[i];
                continue;
            }
            var length = i - labelStart;
            if (length is 0 or > Limits.MaxLabelLength)
            {
                return false;
            }
            buffer[labelStart] = (byte)length;
            labelStart = i + 1;
        }
        buffer[^1] = 0;
        wire = buffer;
        return true;
    }

    /// <summary>The dotted form of a wire name, for messages and tests (trailing dot included).</summary>
    public static string ToText(ReadOnlySpan<byte> name)
    {
        var parts = new List<string>();
        var position = 0;
        while (position < name.Length && name[position] != 0)
        {
            parts.Add(System.Text.Encoding.ASCII.GetString(name.Slice(position + 1, name[position])));
            position += 1 + name[position];
        }
        return string.Join('.', parts) + ".";
    }
}
