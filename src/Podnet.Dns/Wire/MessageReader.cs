using System.Buffers.Binary;

namespace Podnet.Dns.Wire;

/// <summary>One resource record of a message: where it sits and its fixed fields.</summary>
/// <param name="Section">0 answer, 1 authority, 2 additional.</param>
public readonly record struct RecordInfo(int Section, int Start, ushort Type, ushort Class, uint Ttl, int RDataStart, int RDataLength)
{
    public int End => RDataStart + RDataLength;

    /// <summary>Offset of the TTL field.</summary>
    public int TtlOffset => RDataStart - 6;
}

/// <summary>
/// Walks a whole message (an upstream's response, or one of ours in tests) under the same
/// bounds as the query parser; used off the hot path, so it fills a list.
/// </summary>
public static class MessageReader
{
    /// <summary>
    /// Reads the header's counts and every record into <paramref name="records"/>. Returns false
    /// when the message is malformed: truncated, counts beyond its length, a bad name.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> message, List<RecordInfo> records, out int questionEnd)
    {
        records.Clear();
        questionEnd = -1;
        if (message.Length < Limits.HeaderLength)
        {
            return false;
        }
        int questions = BinaryPrimitives.ReadUInt16BigEndian(message[4..]);
        Span<int> counts = [BinaryPrimitives.ReadUInt16BigEndian(message[6..]), BinaryPrimitives.ReadUInt16BigEndian(message[8..]), BinaryPrimitives.ReadUInt16BigEndian(message[10..])];
        if ((questions * 5) + ((counts[0] + counts[1] + counts[2]) * (1 + Limits.RecordFixedLength)) > message.Length - Limits.HeaderLength)
        {
            return false;
        }
        var position = Limits.HeaderLength;
        for (var i = 0; i < questions; i++)
        {
            position = Names.Skip(message, position);
            if (position < 0 || position + 4 > message.Length)
            {
                return false;
            }
            position += 4;
        }
        questionEnd = position;
        for (var section = 0; section < 3; section++)
        {
            for (var i = 0; i < counts[section]; i++)
            {
                var start = position;
                position = QueryParser.SkipRecord(message, position, out var type);
                if (position < 0)
                {
                    return false;
                }
                var fixedAt = Names.Skip(message, start);
                var rdLength = BinaryPrimitives.ReadUInt16BigEndian(message[(fixedAt + 8)..]);
                records.Add(new RecordInfo(
                    section,
                    start,
                    type,
                    BinaryPrimitives.ReadUInt16BigEndian(message[(fixedAt + 2)..]),
                    BinaryPrimitives.ReadUInt32BigEndian(message[(fixedAt + 4)..]),
                    fixedAt + Limits.RecordFixedLength,
                    rdLength));
            }
        }
        return true;
    }
}
