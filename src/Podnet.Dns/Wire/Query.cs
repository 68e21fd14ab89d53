using System.Buffers.Binary;

namespace Podnet.Dns.Wire;

/// <summary>What a query parse found: a query to answer, a malformed one (FORMERR), or something to drop.</summary>
public enum ParseStatus
{
    Ok,

    /// <summary>The header is readable (its id and opcode are known) but the rest is malformed.</summary>
    FormErr,

    /// <summary>Shorter than a header, or a response (QR set): answering could start a loop, so nothing is sent.</summary>
    Drop,
}

/// <summary>
/// The parts of a query the server uses. The question's name is in the caller's buffer, in
/// the case it was asked in (answers echo it).
/// </summary>
public struct Query
{
    public ushort Id;
    public ushort Flags;
    public ushort Type;
    public ushort Class;

    /// <summary>Length of the question's name in wire form (root octet included); 0 when there is no question.</summary>
    public int NameLength;

    public bool HasEdns;

    /// <summary>The requestor's advertised UDP payload size (at least 512), when it sent OPT.</summary>
    public int EdnsUdpSize;

    public byte EdnsVersion;

    public readonly int Opcode => HeaderFlags.Opcode(Flags);

    /// <summary>The largest answer the requestor takes over UDP.</summary>
    public readonly int UdpLimit => HasEdns ? Math.Clamp(EdnsUdpSize, Limits.ClassicUdpSize, Limits.EdnsUdpSize) : Limits.ClassicUdpSize;
}

/// <summary>Parses queries: bounded, never throws, reports malformed input as a status.</summary>
public static class QueryParser
{
    /// <summary>
    /// Parses <paramref name="message"/>. <paramref name="name"/> (at least 255 bytes) receives
    /// the question's name. Answer and authority records (none in a normal query) are skipped
    /// under the same bounds; the additional section is searched for one OPT record.
    /// </summary>
    public static ParseStatus Parse(ReadOnlySpan<byte> message, Span<byte> name, out Query query)
    {
        query = default;
        if (message.Length < Limits.HeaderLength)
        {
            return ParseStatus.Drop;
        }
        query.Id = BinaryPrimitives.ReadUInt16BigEndian(message);
        query.Flags = BinaryPrimitives.ReadUInt16BigEndian(message[2..]);
        if ((query.Flags & HeaderFlags.Response) != 0)
        {
            return ParseStatus.Drop;
        }
        var questions = BinaryPrimitives.ReadUInt16BigEndian(message[4..]);
        int answers = BinaryPrimitives.ReadUInt16BigEndian(message[6..]);
        int authority = BinaryPrimitives.ReadUInt16BigEndian(message[8..]);
        int additional = BinaryPrimitives.ReadUInt16BigEndian(message[10..]);
        if (questions != 1)
        {
            return ParseStatus.FormErr;
        }
        var position = Names.Read(message, Limits.HeaderLength, name, out var nameLength);
        if (position < 0 || position + 4 > message.Length)
        {
            return ParseStatus.FormErr;
        }
        query.NameLength = nameLength;
        query.Type = BinaryPrimitives.ReadUInt16BigEndian(message[position..]);
        query.Class = BinaryPrimitives.ReadUInt16BigEndian(message[(position + 2)..]);
        position += 4;
        // Each record takes at least 11 octets (a root name and the fixed part): counts that
        // cannot fit in what is left are rejected before any walking.
        if ((answers + authority + additional) * (1 + Limits.RecordFixedLength) > message.Length - position)
        {
            return ParseStatus.FormErr;
        }
        for (var i = 0; i < answers + authority; i++)
        {
            position = SkipRecord(message, position, out _);
            if (position < 0)
            {
                return ParseStatus.FormErr;
            }
        }
        for (var i = 0; i < additional; i++)
        {
            var start = position;
            position = SkipRecord(message, position, out var type);
            if (position < 0)
            {
                return ParseStatus.FormErr;
            }
            if (type == RecordType.Opt && !ReadOpt(message, start, ref query))
            {
                return ParseStatus.FormErr;
            }
        }
        return ParseStatus.Ok;
    }

    /// <summary>Skips one resource record; returns the offset after it (-1 when malformed) and its type.</summary>
    public static int SkipRecord(ReadOnlySpan<byte> message, int offset, out ushort type)
    {
        type = 0;
        var position = Names.Skip(message, offset);
        if (position < 0 || position + Limits.RecordFixedLength > message.Length)
        {
            return -1;
        }
        type = BinaryPrimitives.ReadUInt16BigEndian(message[position..]);
        var rdLength = BinaryPrimitives.ReadUInt16BigEndian(message[(position + 8)..]);
        position += Limits.RecordFixedLength + rdLength;
        return position > message.Length ? -1 : position;
    }

    // RFC 6891 6.1.1: one OPT at most, owned by the root.
    private static bool ReadOpt(ReadOnlySpan<byte> message, int offset, ref Query query)
    {
        if (query.HasEdns || message[offset] != 0)
        {
            return false;
        }
        query.HasEdns = true;
        query.EdnsUdpSize = Math.Max((int)BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 3)..]), Limits.ClassicUdpSize);
        query.EdnsVersion = message[offset + 6];
        return true;
    }
}
