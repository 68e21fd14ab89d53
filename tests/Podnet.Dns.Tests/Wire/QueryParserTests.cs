using System.Buffers.Binary;
using Podnet.Dns.Wire;

namespace Podnet.Dns.Tests.Wire;

public class QueryParserTests
{
    private static ParseStatus Parse(byte[] message, out Query query, out string name)
    {
        var buffer = new byte[255];
        var status = QueryParser.Parse(message, buffer, out query);
        name = status == ParseStatus.Ok ? Names.ToText(buffer.AsSpan(0, query.NameLength)) : "";
        return status;
    }

    [Fact]
    public void Parse_PlainQuery_ReadsQuestionAndKeepsCase()
    {
        Assert.Equal(ParseStatus.Ok, Parse(DnsMessages.Query("Web.Default.svc.cluster.local", RecordType.Aaaa), out var query, out var name));
        Assert.Equal("Web.Default.svc.cluster.local.", name);
        Assert.Equal(RecordType.Aaaa, query.Type);
        Assert.Equal(RecordClass.In, query.Class);
        Assert.Equal(0x1234, query.Id);
        Assert.False(query.HasEdns);
        Assert.Equal(512, query.UdpLimit);
    }

    [Fact]
    public void Parse_Edns_ReadsSizeAndClampsTheLimit()
    {
        Assert.Equal(ParseStatus.Ok, Parse(DnsMessages.Query("a.b", RecordType.A, edns: true, udpSize: 4096), out var query, out _));
        Assert.True(query.HasEdns);
        Assert.Equal(4096, query.EdnsUdpSize);
        Assert.Equal(Limits.EdnsUdpSize, query.UdpLimit);
        Parse(DnsMessages.Query("a.b", RecordType.A, edns: true, udpSize: 100), out query, out _);
        Assert.Equal(512, query.UdpLimit);
    }

    [Fact]
    public void Parse_CompressedQuestionName_PointingBackIntoTheHeader_IsFormErr()
    {
        var message = DnsMessages.Query("a.b", RecordType.A);
        message[12] = 0xC0;
        message[13] = 0x02;
        Assert.Equal(ParseStatus.FormErr, Parse(message, out _, out _));
    }

    [Fact]
    public void Parse_NameOf255Octets_IsAccepted_And256_IsFormErr()
    {
        // 3 labels of 63 + one of 61: 4*1 + 3*63 + 61 + 1 = 255.
        var longest = string.Join('.', Enumerable.Repeat(new string('a', 63), 3)) + "." + new string('b', 61);
        Assert.Equal(ParseStatus.Ok, Parse(DnsMessages.Query(longest, RecordType.A), out var query, out _));
        Assert.Equal(255, query.NameLength);
        var message = DnsMessages.Query(longest, RecordType.A).ToList();
        // Make the last label one longer: the name becomes 256 octets.
        message[12 + 192] = 62;
        message.Insert(12 + 193, (byte)'b');
        Assert.Equal(ParseStatus.FormErr, Parse([.. message], out _, out _));
    }

    public static TheoryData<string, byte[], ParseStatus> Hostile()
    {
        var valid = DnsMessages.Query("web.default.svc.cluster.local", RecordType.A);
        byte[] With(Action<byte[]> change)
        {
            var copy = (byte[])valid.Clone();
            change(copy);
            return copy;
        }
        var data = new TheoryData<string, byte[], ParseStatus>
        {
            { "empty", [], ParseStatus.Drop },
            { "truncated header", valid[..11], ParseStatus.Drop },
            { "header only", valid[..12], ParseStatus.FormErr },
            { "a response", With(m => m[2] |= 0x80), ParseStatus.Drop },
            { "no question", With(m => m[5] = 0), ParseStatus.FormErr },
            { "two questions", With(m => m[5] = 2), ParseStatus.FormErr },
            { "65535 questions", With(m => { m[4] = 0xFF; m[5] = 0xFF; }), ParseStatus.FormErr },
            { "65535 answers", With(m => { m[6] = 0xFF; m[7] = 0xFF; }), ParseStatus.FormErr },
            { "65535 additional", With(m => { m[10] = 0xFF; m[11] = 0xFF; }), ParseStatus.FormErr },
            { "name cut short", valid[..20], ParseStatus.FormErr },
            { "type cut short", valid[..^3], ParseStatus.FormErr },
            { "label longer than the message", With(m => m[12] = 60), ParseStatus.FormErr },
            { "label of 64 (extended label type)", With(m => m[12] = 0x40), ParseStatus.FormErr },
            { "label type 10", With(m => m[12] = 0x80), ParseStatus.FormErr },
            { "pointer to itself", With(m => { m[12] = 0xC0; m[13] = 12; }), ParseStatus.FormErr },
            { "pointer forwards", With(m => { m[12] = 0xC0; m[13] = 20; }), ParseStatus.FormErr },
            { "pointer cut in half", valid[..12].Concat(new byte[] { 0xC0 }).ToArray(), ParseStatus.FormErr },
        };
        // A loop through the additional section: a record whose name points at itself.
        var loop = valid.Concat(new byte[] { 0xC0, (byte)valid.Length, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0 }).ToArray();
        loop[11] = 1;
        data.Add("compression loop in a record", loop, ParseStatus.FormErr);
        // Two pointers pointing at each other.
        var pingPong = valid.Concat(new byte[] { 0xC0, (byte)(valid.Length + 2), 0xC0, (byte)valid.Length, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0 }).ToArray();
        pingPong[11] = 1;
        data.Add("two pointers at each other", pingPong, ParseStatus.FormErr);
        var twoOpts = DnsMessages.Query("a.b", RecordType.A, edns: true);
        twoOpts = twoOpts.Concat(twoOpts[^11..]).ToArray();
        twoOpts[11] = 2;
        data.Add("two OPT records", twoOpts, ParseStatus.FormErr);
        var optNotRoot = DnsMessages.Query("a.b", RecordType.A).Concat(new byte[] { 1, (byte)'x', 0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0 }).ToArray();
        optNotRoot[11] = 1;
        data.Add("OPT not owned by the root", optNotRoot, ParseStatus.FormErr);
        var rdOverrun = DnsMessages.Query("a.b", RecordType.A, edns: true);
        rdOverrun[^1] = 200;
        data.Add("OPT RDATA past the end", rdOverrun, ParseStatus.FormErr);
        return data;
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Parse_HostilePacket_IsRejectedWithoutThrowing(string what, byte[] message, ParseStatus expected)
    {
        Assert.True(expected == Parse(message, out _, out _), what);
    }

    [Fact]
    public void Parse_WrongClass_ParsesAndKeepsTheClass()
    {
        Assert.Equal(ParseStatus.Ok, Parse(DnsMessages.Query("a.b", RecordType.A, cls: 3), out var query, out _));
        Assert.Equal(3, query.Class);
    }

    [Fact]
    public void Fuzz_RandomAndMutatedPackets_NeverThrowOrOverrun()
    {
        // Bounded: a fixed seed and at most ten seconds (the brief allows 30).
        var random = new Random(16);
        var seeds = new[]
        {
            DnsMessages.Query("web.default.svc.cluster.local", RecordType.A),
            DnsMessages.Query("_http._tcp.web.default.svc.cluster.local", RecordType.Srv, edns: true),
            DnsMessages.Query("x", RecordType.Any, edns: true, udpSize: 4096),
        };
        var name = new byte[255];
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var runs = 0;
        for (; runs < 2_000_000 && stopwatch.Elapsed < TimeSpan.FromSeconds(10); runs++)
        {
            byte[] message;
            if (runs % 4 == 0)
            {
                message = new byte[random.Next(0, 80)];
                random.NextBytes(message);
            }
            else
            {
                message = (byte[])seeds[random.Next(seeds.Length)].Clone();
                for (var flips = random.Next(1, 6); flips > 0; flips--)
                {
                    message[random.Next(message.Length)] = random.Next(3) == 0 ? (byte)0xC0 : (byte)random.Next(256);
                }
                message = message[..random.Next(message.Length / 2, message.Length + 1)];
            }
            var status = QueryParser.Parse(message, name, out var query);
            if (status == ParseStatus.Ok)
            {
                Assert.InRange(query.NameLength, 1, 255);
            }
            var records = new List<RecordInfo>();
            if (MessageReader.TryRead(message, records, out _))
            {
                Assert.All(records, r => Assert.True(r.End <= message.Length));
            }
        }
        Assert.True(runs > 10_000, $"only {runs} runs");
    }

    [Fact]
    public void SkipRecord_RDataBeyondMessage_IsMalformed()
    {
        var record = new byte[] { 0, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 10, 0 };
        Assert.Equal(-1, QueryParser.SkipRecord(record, 0, out _));
        BinaryPrimitives.WriteUInt16BigEndian(record.AsSpan(9), 2);
        Assert.Equal(record.Length, QueryParser.SkipRecord(record, 0, out var type));
        Assert.Equal(RecordType.A, type);
    }
}
