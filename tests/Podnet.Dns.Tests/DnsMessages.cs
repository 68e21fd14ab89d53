using System.Buffers.Binary;
using System.Net;
using Podnet.Dns.Wire;

namespace Podnet.Dns.Tests;

/// <summary>A response decoded into text, for assertions.</summary>
internal sealed record Decoded(ushort Id, int Rcode, ushort Flags, string? Question, string[] Answers, string[] Authority, string[] Additional)
{
    public bool Authoritative => (Flags & HeaderFlags.Authoritative) != 0;

    public bool Truncated => (Flags & HeaderFlags.Truncated) != 0;
}

/// <summary>Builds queries and decodes responses in tests.</summary>
internal static class DnsMessages
{
    public static byte[] Query(string name, ushort type, ushort id = 0x1234, bool edns = false, int udpSize = 1232, ushort flags = HeaderFlags.RecursionDesired, ushort cls = RecordClass.In, byte ednsVersion = 0)
    {
        var wire = Names.Encode(name);
        var message = new byte[12 + wire.Length + 4 + (edns ? 11 : 0)];
        BinaryPrimitives.WriteUInt16BigEndian(message, id);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), flags);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(10), (ushort)(edns ? 1 : 0));
        wire.CopyTo(message, 12);
        var position = 12 + wire.Length;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(position), type);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(position + 2), cls);
        if (edns)
        {
            var opt = message.AsSpan(position + 4);
            BinaryPrimitives.WriteUInt16BigEndian(opt[1..], RecordType.Opt);
            BinaryPrimitives.WriteUInt16BigEndian(opt[3..], (ushort)udpSize);
            opt[6] = ednsVersion;
        }
        return message;
    }

    /// <summary>Sends <paramref name="query"/> over UDP to <paramref name="server"/> and returns the reply (3 s at most).</summary>
    public static async Task<byte[]> AskUdpAsync(System.Net.IPEndPoint server, byte[] query)
    {
        using var socket = new System.Net.Sockets.Socket(server.AddressFamily, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        await socket.ConnectAsync(server);
        await socket.SendAsync(query);
        var buffer = new byte[65535];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        var length = await socket.ReceiveAsync(buffer, System.Net.Sockets.SocketFlags.None, timeout.Token);
        return buffer[..length];
    }

    public static async Task<Decoded> AskAsync(System.Net.IPEndPoint server, byte[] query) => Decode(await AskUdpAsync(server, query));

    public static Decoded Decode(ReadOnlySpan<byte> message)
    {
        var records = new List<RecordInfo>();
        Assert.True(MessageReader.TryRead(message, records, out _), "the response is malformed");
        var flags = BinaryPrimitives.ReadUInt16BigEndian(message[2..]);
        var rcode = HeaderFlags.Rcode(flags);
        string? question = null;
        Span<byte> name = stackalloc byte[255];
        if (BinaryPrimitives.ReadUInt16BigEndian(message[4..]) == 1)
        {
            var end = Names.Read(message, 12, name, out var length);
            question = $"{Names.ToText(name[..length])} {RecordType.Name(BinaryPrimitives.ReadUInt16BigEndian(message[end..]))}";
        }
        var sections = new List<string>[] { [], [], [] };
        foreach (var record in records)
        {
            if (record.Type == RecordType.Opt)
            {
                rcode |= (int)(record.Ttl >> 24) << 4;
                continue;
            }
            Names.Read(message, record.Start, name, out var length);
            sections[record.Section].Add($"{Names.ToText(name[..length])} {record.Ttl} {RecordType.Name(record.Type)} {RData(message, record)}");
        }
        return new Decoded(BinaryPrimitives.ReadUInt16BigEndian(message), rcode, flags, question, [.. sections[0]], [.. sections[1]], [.. sections[2]]);
    }

    private static string RData(ReadOnlySpan<byte> message, RecordInfo record)
    {
        var rdata = message.Slice(record.RDataStart, record.RDataLength);
        Span<byte> name = stackalloc byte[255];
        switch (record.Type)
        {
            case RecordType.A:
            case RecordType.Aaaa:
                return new IPAddress(rdata).ToString();
            case RecordType.Cname:
            case RecordType.Ptr:
                Names.Read(message, record.RDataStart, name, out var length);
                return Names.ToText(name[..length]);
            case RecordType.Srv:
                Names.Read(message, record.RDataStart + 6, name, out length);
                return $"{BinaryPrimitives.ReadUInt16BigEndian(rdata)} {BinaryPrimitives.ReadUInt16BigEndian(rdata[2..])} {BinaryPrimitives.ReadUInt16BigEndian(rdata[4..])} {Names.ToText(name[..length])}";
            case RecordType.Txt:
                return $"\"{System.Text.Encoding.ASCII.GetString(rdata.Slice(1, rdata[0]))}\"";
            case RecordType.Soa:
                var end = Names.Read(message, record.RDataStart, name, out length);
                var mname = Names.ToText(name[..length]);
                end = Names.Read(message, end, name, out length);
                var numbers = message[end..];
                return $"{mname} {Names.ToText(name[..length])} {BinaryPrimitives.ReadUInt32BigEndian(numbers)} {BinaryPrimitives.ReadUInt32BigEndian(numbers[4..])} {BinaryPrimitives.ReadUInt32BigEndian(numbers[8..])} {BinaryPrimitives.ReadUInt32BigEndian(numbers[12..])} {BinaryPrimitives.ReadUInt32BigEndian(numbers[16..])}";
            default:
                return Convert.ToHexString(rdata);
        }
    }
}
