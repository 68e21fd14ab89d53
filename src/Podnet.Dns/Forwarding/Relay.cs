using System.Buffers.Binary;
using System.Text;
using Podnet.Dns.Wire;

namespace Podnet.Dns.Forwarding;

/// <summary>
/// Upstream messages in and out: the query sent upstream, the check that a reply answers it,
/// the normal form kept in the cache (id 0, no OPT), and the response composed from it for a
/// client (its id, its question's case, its EDNS, fitted to its transport).
/// </summary>
public static class Relay
{
    /// <summary>A query for <paramref name="name"/> (wire form) with RD set and our OPT.</summary>
    public static byte[] BuildQuery(ReadOnlySpan<byte> name, ushort type, ushort cls, ushort id)
    {
        var message = new byte[Limits.HeaderLength + name.Length + 4 + EdnsOpt.Length];
        BinaryPrimitives.WriteUInt16BigEndian(message, id);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), HeaderFlags.RecursionDesired);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(10), 1);
        name.CopyTo(message.AsSpan(Limits.HeaderLength));
        var position = Limits.HeaderLength + name.Length;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(position), type);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(position + 2), cls);
        EdnsOpt.Write(message.AsSpan(position + 4), 0);
        return message;
    }

    /// <summary>Whether <paramref name="reply"/> is a response to the query with this id and question (name compared without case).</summary>
    public static bool Answers(ReadOnlySpan<byte> reply, ushort id, ReadOnlySpan<byte> name, ushort type, ushort cls)
    {
        if (reply.Length < Limits.HeaderLength || BinaryPrimitives.ReadUInt16BigEndian(reply) != id
            || (reply[2] & 0x80) == 0 || BinaryPrimitives.ReadUInt16BigEndian(reply[4..]) != 1)
        {
            return false;
        }
        Span<byte> asked = stackalloc byte[Limits.MaxNameLength];
        var end = Names.Read(reply, Limits.HeaderLength, asked, out var length);
        return end > 0 && end + 4 <= reply.Length
            && Ascii.EqualsIgnoreCase(asked[..length], name)
            && BinaryPrimitives.ReadUInt16BigEndian(reply[end..]) == type
            && BinaryPrimitives.ReadUInt16BigEndian(reply[(end + 2)..]) == cls;
    }

    /// <summary>
    /// The cache's form of a reply: id 0 and its OPT removed (our clients get our own OPT). Null
    /// when the reply is malformed or its OPT is not the last record (it cannot be cut off cleanly).
    /// </summary>
    public static byte[]? Normalize(ReadOnlySpan<byte> reply)
    {
        var records = new List<RecordInfo>();
        if (!MessageReader.TryRead(reply, records, out _))
        {
            return null;
        }
        var end = reply.Length;
        var additional = BinaryPrimitives.ReadUInt16BigEndian(reply[10..]);
        var opt = records.FindIndex(r => r.Type == RecordType.Opt);
        if (opt >= 0)
        {
            if (opt != records.Count - 1)
            {
                return null;
            }
            end = records[opt].Start;
            additional--;
        }
        var message = reply[..end].ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(message, 0);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(10), additional);
        return message;
    }

    /// <summary>Takes <paramref name="seconds"/> off every record's TTL (down to 0).</summary>
    public static void AgeTtls(byte[] message, uint seconds)
    {
        if (seconds == 0)
        {
            return;
        }
        var records = new List<RecordInfo>();
        if (!MessageReader.TryRead(message, records, out _))
        {
            return;
        }
        foreach (var record in records.Where(r => r.Type != RecordType.Opt))
        {
            BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(record.TtlOffset), record.Ttl > seconds ? record.Ttl - seconds : 0);
        }
    }

    /// <summary>
    /// The client's response from a normalized reply: its id, RD and CD; RA set; AA cleared (the
    /// answer is not ours); its question's spelling; our OPT when it sent one; cut to the header
    /// and question with TC set when it exceeds <paramref name="limit"/>. Returns the length.
    /// </summary>
    public static int Compose(ReadOnlySpan<byte> normalized, in Query query, ReadOnlySpan<byte> name, Span<byte> output, int limit)
    {
        var opt = query.HasEdns ? EdnsOpt.Length : 0;
        var length = normalized.Length;
        normalized.CopyTo(output);
        BinaryPrimitives.WriteUInt16BigEndian(output, query.Id);
        var flags = BinaryPrimitives.ReadUInt16BigEndian(normalized[2..]);
        flags = (ushort)((flags & ~(HeaderFlags.Authoritative | HeaderFlags.RecursionDesired | HeaderFlags.CheckingDisabled))
            | (query.Flags & (HeaderFlags.RecursionDesired | HeaderFlags.CheckingDisabled)) | HeaderFlags.RecursionAvailable);
        if (Names.Skip(normalized, Limits.HeaderLength) == Limits.HeaderLength + query.NameLength)
        {
            name[..query.NameLength].CopyTo(output[Limits.HeaderLength..]);
        }
        if (length + opt > limit)
        {
            length = Limits.HeaderLength + query.NameLength + 4;
            flags |= HeaderFlags.Truncated;
            output.Slice(6, 6).Clear();
        }
        BinaryPrimitives.WriteUInt16BigEndian(output[2..], flags);
        if (query.HasEdns)
        {
            length += EdnsOpt.Write(output[length..], 0);
            BinaryPrimitives.WriteUInt16BigEndian(output[10..], (ushort)(BinaryPrimitives.ReadUInt16BigEndian(output[10..]) + 1));
        }
        return length;
    }

    /// <summary>
    /// The A, AAAA and CNAME records of a normalized reply's answer section, rewritten without
    /// compression so they can follow our own records in another message; returns the length
    /// written and how many records.
    /// </summary>
    public static int AnswerRecords(ReadOnlySpan<byte> normalized, Span<byte> output, out int count)
    {
        count = 0;
        var records = new List<RecordInfo>();
        if (!MessageReader.TryRead(normalized, records, out _))
        {
            return 0;
        }
        Span<byte> owner = stackalloc byte[Limits.MaxNameLength];
        Span<byte> target = stackalloc byte[Limits.MaxNameLength];
        var written = 0;
        foreach (var record in records.Where(r => r.Section == 0 && r.Type is RecordType.A or RecordType.Aaaa or RecordType.Cname))
        {
            Names.Read(normalized, record.Start, owner, out var ownerLength);
            scoped var rdata = normalized.Slice(record.RDataStart, record.RDataLength);
            if (record.Type == RecordType.Cname)
            {
                if (Names.Read(normalized, record.RDataStart, target, out var targetLength) < 0)
                {
                    continue;
                }
                rdata = target[..targetLength];
            }
            if (written + ownerLength + Limits.RecordFixedLength + rdata.Length > output.Length)
            {
                break;
            }
            owner[..ownerLength].CopyTo(output[written..]);
            written += ownerLength;
            normalized.Slice(record.TtlOffset - 4, 8).CopyTo(output[written..]);
            BinaryPrimitives.WriteUInt16BigEndian(output[(written + 8)..], (ushort)rdata.Length);
            rdata.CopyTo(output[(written + Limits.RecordFixedLength)..]);
            written += Limits.RecordFixedLength + rdata.Length;
            count++;
        }
        return written;
    }
}
