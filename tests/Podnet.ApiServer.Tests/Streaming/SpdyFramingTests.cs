using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Podnet.ApiServer.Streaming.Spdy;

namespace Podnet.ApiServer.Tests.Streaming;

public sealed class SpdyFramingTests
{
    private static readonly SpdyLimits Limits = new();

    [Fact]
    public void Dictionary_IsSpdy3s_ByLengthAndAdler32()
    {
        Assert.Equal(1423, SpdyDictionary.Bytes.Length);
        Assert.Equal(0xE3C6A7C2u, Adler32(SpdyDictionary.Bytes));
    }

    [Fact]
    public void Deflater_FirstBlock_NamesTheDictionaryInItsZlibHeader()
    {
        using var deflater = new SpdyHeaderDeflater();
        var output = new ArrayBufferWriter<byte>();
        deflater.Compress(new SpdyHeaders().Add("streamtype", "error").Encode(), output);
        var bytes = output.WrittenSpan;
        Assert.Equal(0, ((bytes[0] << 8) | bytes[1]) % 31);
        Assert.Equal(8, bytes[0] & 0x0F);
        Assert.NotEqual(0, bytes[1] & 0x20);
        Assert.Equal(0xE3C6A7C2u, BinaryPrimitives.ReadUInt32BigEndian(bytes[2..]));
        // A sync flush ends each block with an empty stored block.
        Assert.True(bytes[^4..].SequenceEqual(new byte[] { 0, 0, 0xFF, 0xFF }));
    }

    [Fact]
    public void HeaderBlocks_RoundTrip_InOrder_ThroughOneContextEachWay()
    {
        using var deflater = new SpdyHeaderDeflater();
        using var inflater = new SpdyHeaderInflater();
        for (var i = 0; i < 50; i++)
        {
            var headers = new SpdyHeaders().Add("streamtype", i % 2 == 0 ? "data" : "error").Add("port", $"{8000 + i}").Add("requestid", $"{i}");
            var compressed = SpdyFrameWriter.Compress(deflater, headers);
            var back = SpdyHeaders.Parse(inflater.Decompress(compressed, Limits.MaxHeaderBlockBytes), Limits.MaxHeaderCount);
            Assert.Equal(headers.ToString(), back.ToString());
            Assert.Equal($"{8000 + i}", back.Get("Port"));
        }
    }

    [Fact]
    public void Inflater_ABlockPastTheBound_IsAProtocolError()
    {
        using var deflater = new SpdyHeaderDeflater();
        using var inflater = new SpdyHeaderInflater();
        var big = SpdyFrameWriter.Compress(deflater, new SpdyHeaders().Add("x", new string('a', 100_000)));
        Assert.True(big.Length < 2_000, "a run of one letter compresses well: the bound is on what it inflates to");
        var error = Assert.Throws<SpdyProtocolException>(() => inflater.Decompress(big, 64 * 1024));
        Assert.Contains("more than 65536 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inflater_AnotherDictionary_IsAProtocolError()
    {
        using var inflater = new SpdyHeaderInflater();
        // CMF 0x78, FLG with FDICT set and a valid check, dictionary id 1.
        byte flg = 0x20;
        flg += (byte)(31 - (((0x78 << 8) | flg) % 31));
        var error = Assert.Throws<SpdyProtocolException>(() => inflater.Decompress([0x78, flg, 0, 0, 0, 1, 0x01, 0x00], 1024));
        Assert.Contains("dictionary", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inflater_Garbage_IsAProtocolError()
    {
        using var inflater = new SpdyHeaderInflater();
        Assert.Throws<SpdyProtocolException>(() => inflater.Decompress(Encoding.ASCII.GetBytes("not zlib at all"), 1024));
    }

    [Fact]
    public void SynStream_Parses_IdsPriorityAndHeaders()
    {
        using var deflater = new SpdyHeaderDeflater();
        using var inflater = new SpdyHeaderInflater();
        var frame = SpdyFrameWriter.SynStream(5, SpdyFrameWriter.Compress(deflater, new SpdyHeaders().Add("streamType", "stdin")), fin: true);
        var header = SpdyFrameHeader.Parse(frame);
        Assert.True(header is { IsControl: true, Version: 3, Type: SpdyFrameType.SynStream, Flags: SpdyFrameHeader.FlagFin });
        var syn = Assert.IsType<SynStreamFrame>(SpdyControlParser.Parse(header, frame.AsSpan(8), inflater, Limits));
        Assert.Equal(5u, syn.StreamId);
        Assert.True(syn.Fin);
        Assert.Equal("stdin", syn.Headers.Get("streamtype"));
    }

    [Theory]
    [InlineData(3, 7, "RST_STREAM not 8 bytes long")]
    [InlineData(6, 5, "PING not 4 bytes long")]
    [InlineData(7, 4, "GOAWAY not 8 bytes long")]
    [InlineData(9, 9, "WINDOW_UPDATE not 8 bytes long")]
    [InlineData(1, 9, "SYN_STREAM shorter than 10 bytes")]
    [InlineData(2, 3, "SYN_REPLY shorter than 4 bytes")]
    [InlineData(8, 0, "HEADERS shorter than 4 bytes")]
    [InlineData(4, 2, "SETTINGS shorter than 4 bytes")]
    public void ControlFrame_OfTheWrongLength_IsNamed(ushort type, int length, string problem)
    {
        using var inflater = new SpdyHeaderInflater();
        var header = new SpdyFrameHeader(true, 3, (SpdyFrameType)type, 0, 0, length);
        var error = Assert.Throws<SpdyProtocolException>(() => SpdyControlParser.Parse(header, new byte[length], inflater, Limits));
        Assert.Equal(problem, error.Message);
    }

    [Fact]
    public void Settings_ClaimingMoreEntriesThanItHolds_IsRefusedBeforeAnyAllocation()
    {
        using var inflater = new SpdyHeaderInflater();
        var payload = new byte[12];
        BinaryPrimitives.WriteUInt32BigEndian(payload, uint.MaxValue);
        var error = Assert.Throws<SpdyProtocolException>(() => SpdyControlParser.Parse(new SpdyFrameHeader(true, 3, SpdyFrameType.Settings, 0, 0, 12), payload, inflater, Limits));
        Assert.Contains("claims 4294967295 entries", error.Message, StringComparison.Ordinal);
        var one = SpdyFrameWriter.Settings((0, SettingsFrame.InitialWindowSize, 1 << 20));
        var settings = Assert.IsType<SettingsFrame>(SpdyControlParser.Parse(SpdyFrameHeader.Parse(one), one.AsSpan(8), inflater, Limits));
        Assert.Equal((SettingsFrame.InitialWindowSize, 1u << 20), (settings.Entries[0].Id, settings.Entries[0].Value));
    }

    [Fact]
    public void ControlFrame_OfAnotherVersion_IsAProtocolError()
    {
        using var inflater = new SpdyHeaderInflater();
        var error = Assert.Throws<SpdyProtocolException>(() => SpdyControlParser.Parse(new SpdyFrameHeader(true, 2, SpdyFrameType.Ping, 0, 0, 4), new byte[4], inflater, Limits));
        Assert.Contains("version 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ControlFrame_OfAnUnknownType_IsIgnoredAsTheSpecSays()
    {
        using var inflater = new SpdyHeaderInflater();
        var frame = SpdyControlParser.Parse(new SpdyFrameHeader(true, 3, (SpdyFrameType)77, 0, 0, 3), new byte[3], inflater, Limits);
        Assert.Equal(77, Assert.IsType<UnknownControlFrame>(frame).Type);
    }

    [Theory]
    [InlineData(new byte[] { 0, 0, 0 }, "shorter than its 4-byte count")]
    [InlineData(new byte[] { 0, 0, 0, 200 }, "200 pairs (at most 100)")]
    [InlineData(new byte[] { 0, 0, 0, 1, 0, 0, 0, 9, (byte)'a' }, "name of 9 bytes runs past")]
    [InlineData(new byte[] { 0, 0, 0, 1, 0, 0, 0, 1, (byte)'A', 0, 0, 0, 0 }, "not lowercase")]
    [InlineData(new byte[] { 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0 }, "empty name")]
    [InlineData(new byte[] { 0, 0, 0, 2, 0, 0, 0, 1, (byte)'a', 0, 0, 0, 0, 0, 0, 0, 1, (byte)'a', 0, 0, 0, 0 }, "appears twice")]
    [InlineData(new byte[] { 0, 0, 0, 1, 0, 0, 0, 1, (byte)'a', 0, 0, 0, 0, 7 }, "1 bytes after the last header")]
    [InlineData(new byte[] { 0, 0, 0, 1, 0, 0, 0, 1, (byte)'a', 0xFF, 0xFF, 0xFF, 0xFF }, "value of 4294967295 bytes runs past")]
    public void HeaderBlock_Malformed_IsNamed(byte[] block, string problem)
    {
        var error = Assert.Throws<SpdyProtocolException>(() => SpdyHeaders.Parse(block, 100));
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HeaderBlock_ValuesJoinedByNul_GetReturnsTheFirst()
    {
        var block = new SpdyHeaders().Add("port", "80\08080").Encode();
        Assert.Equal("80", SpdyHeaders.Parse(block, 10).Get("port"));
    }

    private static uint Adler32(byte[] data)
    {
        uint a = 1, b = 0;
        foreach (var d in data)
        {
            a = (a + d) % 65521;
            b = (b + a) % 65521;
        }
        return (b << 16) | a;
    }
}
