using System.Buffers;
using System.Buffers.Binary;

namespace Podnet.ApiServer.Streaming.Spdy;

/// <summary>A violation of SPDY/3.1 by the peer that ends the session (GOAWAY PROTOCOL_ERROR).</summary>
internal sealed class SpdyProtocolException(string message) : Exception(message);

internal enum SpdyFrameType : ushort
{
    SynStream = 1,
    SynReply = 2,
    RstStream = 3,
    Settings = 4,
    Ping = 6,
    GoAway = 7,
    Headers = 8,
    WindowUpdate = 9,
}

/// <summary>RST_STREAM status codes (SPDY/3.1 section 2.6.3).</summary>
internal enum SpdyRstStatus : uint
{
    ProtocolError = 1,
    InvalidStream = 2,
    RefusedStream = 3,
    UnsupportedVersion = 4,
    Cancel = 5,
    InternalError = 6,
    FlowControlError = 7,
    StreamInUse = 8,
    StreamAlreadyClosed = 9,
    FrameTooLarge = 11,
}

/// <summary>GOAWAY status codes.</summary>
internal enum SpdyGoAwayStatus : uint
{
    Ok = 0,
    ProtocolError = 1,
    InternalError = 2,
}

/// <summary>
/// The eight bytes that start every frame. Control: 1 bit set, 15-bit version, 16-bit type.
/// Data: 1 bit clear, 31-bit stream id. Both: 8-bit flags, 24-bit payload length.
/// </summary>
internal readonly record struct SpdyFrameHeader(bool IsControl, ushort Version, SpdyFrameType Type, uint StreamId, byte Flags, int Length)
{
    public const int Size = 8;
    public const byte FlagFin = 0x01;
    public const byte FlagUnidirectional = 0x02;
    public const ushort SpdyVersion = 3;

    public static SpdyFrameHeader Parse(ReadOnlySpan<byte> bytes)
    {
        var first = BinaryPrimitives.ReadUInt32BigEndian(bytes);
        var second = BinaryPrimitives.ReadUInt32BigEndian(bytes[4..]);
        var flags = (byte)(second >> 24);
        var length = (int)(second & 0xFFFFFF);
        return (first & 0x80000000) != 0
            ? new SpdyFrameHeader(true, (ushort)((first >> 16) & 0x7FFF), (SpdyFrameType)(first & 0xFFFF), 0, flags, length)
            : new SpdyFrameHeader(false, 0, 0, first & 0x7FFFFFFF, flags, length);
    }

    public static void WriteControl(Span<byte> destination, SpdyFrameType type, byte flags, int length)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, 0x80000000u | ((uint)SpdyVersion << 16) | (ushort)type);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], ((uint)flags << 24) | (uint)length);
    }

    public static void WriteData(Span<byte> destination, uint streamId, byte flags, int length)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, streamId & 0x7FFFFFFF);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], ((uint)flags << 24) | (uint)length);
    }
}

/// <summary>A control frame as received, its header block (if it has one) already inflated and parsed.</summary>
internal abstract record SpdyControlFrame(byte Flags)
{
    public bool Fin => (Flags & SpdyFrameHeader.FlagFin) != 0;
}

internal sealed record SynStreamFrame(byte Flags, uint StreamId, uint AssociatedStreamId, byte Priority, SpdyHeaders Headers) : SpdyControlFrame(Flags);

internal sealed record SynReplyFrame(byte Flags, uint StreamId, SpdyHeaders Headers) : SpdyControlFrame(Flags);

internal sealed record HeadersFrame(byte Flags, uint StreamId, SpdyHeaders Headers) : SpdyControlFrame(Flags);

internal sealed record RstStreamFrame(byte Flags, uint StreamId, uint Status) : SpdyControlFrame(Flags);

internal sealed record SettingsFrame(byte Flags, IReadOnlyList<(byte Flags, uint Id, uint Value)> Entries) : SpdyControlFrame(Flags)
{
    public const uint InitialWindowSize = 7;
}

internal sealed record PingFrame(byte Flags, uint Id) : SpdyControlFrame(Flags);

internal sealed record GoAwayFrame(byte Flags, uint LastGoodStreamId, uint Status) : SpdyControlFrame(Flags);

internal sealed record WindowUpdateFrame(byte Flags, uint StreamId, uint Delta) : SpdyControlFrame(Flags);

/// <summary>A control frame of a type SPDY/3.1 does not define, which the spec says to ignore.</summary>
internal sealed record UnknownControlFrame(byte Flags, ushort Type) : SpdyControlFrame(Flags);

/// <summary>
/// Parses control frame payloads. Each frame's fixed fields are checked against its length; a
/// header block goes through the session's inflater (it must, whatever the frame's fate, or the
/// shared zlib history falls out of step) and then <see cref="SpdyHeaders.Parse"/>.
/// </summary>
internal static class SpdyControlParser
{
    public static SpdyControlFrame Parse(SpdyFrameHeader header, ReadOnlySpan<byte> payload, SpdyHeaderInflater inflater, SpdyLimits limits)
    {
        if (header.Version != SpdyFrameHeader.SpdyVersion)
        {
            throw new SpdyProtocolException($"a control frame of SPDY version {header.Version}; this server speaks 3.1");
        }
        switch (header.Type)
        {
            case SpdyFrameType.SynStream:
                Expect(payload.Length >= 10, "SYN_STREAM shorter than 10 bytes");
                return new SynStreamFrame(header.Flags, StreamId(payload), StreamId(payload[4..]), (byte)(payload[8] >> 5),
                    Headers(payload[10..], inflater, limits));
            case SpdyFrameType.SynReply:
                Expect(payload.Length >= 4, "SYN_REPLY shorter than 4 bytes");
                return new SynReplyFrame(header.Flags, StreamId(payload), Headers(payload[4..], inflater, limits));
            case SpdyFrameType.Headers:
                Expect(payload.Length >= 4, "HEADERS shorter than 4 bytes");
                return new HeadersFrame(header.Flags, StreamId(payload), Headers(payload[4..], inflater, limits));
            case SpdyFrameType.RstStream:
                Expect(payload.Length == 8, "RST_STREAM not 8 bytes long");
                return new RstStreamFrame(header.Flags, StreamId(payload), BinaryPrimitives.ReadUInt32BigEndian(payload[4..]));
            case SpdyFrameType.Settings:
                return Settings(header.Flags, payload);
            case SpdyFrameType.Ping:
                Expect(payload.Length == 4, "PING not 4 bytes long");
                return new PingFrame(header.Flags, BinaryPrimitives.ReadUInt32BigEndian(payload));
            case SpdyFrameType.GoAway:
                Expect(payload.Length == 8, "GOAWAY not 8 bytes long");
                return new GoAwayFrame(header.Flags, StreamId(payload), BinaryPrimitives.ReadUInt32BigEndian(payload[4..]));
            case SpdyFrameType.WindowUpdate:
                Expect(payload.Length == 8, "WINDOW_UPDATE not 8 bytes long");
                return new WindowUpdateFrame(header.Flags, StreamId(payload), BinaryPrimitives.ReadUInt32BigEndian(payload[4..]) & 0x7FFFFFFF);
            default:
                return new UnknownControlFrame(header.Flags, (ushort)header.Type);
        }
    }

    private static SettingsFrame Settings(byte flags, ReadOnlySpan<byte> payload)
    {
        Expect(payload.Length >= 4, "SETTINGS shorter than 4 bytes");
        var count = BinaryPrimitives.ReadUInt32BigEndian(payload);
        // The count is checked against the length before anything is allocated for it.
        Expect(count <= (uint)(payload.Length - 4) / 8 && payload.Length == 4 + (count * 8), $"SETTINGS of {payload.Length} bytes claims {count} entries");
        var entries = new (byte, uint, uint)[count];
        for (var i = 0; i < entries.Length; i++)
        {
            var entry = payload.Slice(4 + (i * 8), 8);
            var word = BinaryPrimitives.ReadUInt32BigEndian(entry);
            entries[i] = ((byte)(word >> 24), word & 0xFFFFFF, BinaryPrimitives.ReadUInt32BigEndian(entry[4..]));
        }
        return new SettingsFrame(flags, entries);
    }

    private static SpdyHeaders Headers(ReadOnlySpan<byte> compressed, SpdyHeaderInflater inflater, SpdyLimits limits) =>
        SpdyHeaders.Parse(inflater.Decompress(compressed, limits.MaxHeaderBlockBytes), limits.MaxHeaderCount);

    private static uint StreamId(ReadOnlySpan<byte> bytes) => BinaryPrimitives.ReadUInt32BigEndian(bytes) & 0x7FFFFFFF;

    private static void Expect(bool condition, string problem)
    {
        if (!condition)
        {
            throw new SpdyProtocolException(problem);
        }
    }
}

/// <summary>Serialises the frames this server sends.</summary>
internal static class SpdyFrameWriter
{
    public static byte[] SynReply(uint streamId, ReadOnlySpan<byte> compressedHeaders, bool fin) =>
        WithStreamId(SpdyFrameType.SynReply, fin ? SpdyFrameHeader.FlagFin : (byte)0, streamId, compressedHeaders);

    public static byte[] Headers(uint streamId, ReadOnlySpan<byte> compressedHeaders, bool fin) =>
        WithStreamId(SpdyFrameType.Headers, fin ? SpdyFrameHeader.FlagFin : (byte)0, streamId, compressedHeaders);

    public static byte[] RstStream(uint streamId, SpdyRstStatus status) => Two(SpdyFrameType.RstStream, streamId & 0x7FFFFFFF, (uint)status);

    public static byte[] GoAway(uint lastGoodStreamId, SpdyGoAwayStatus status) => Two(SpdyFrameType.GoAway, lastGoodStreamId & 0x7FFFFFFF, (uint)status);

    public static byte[] WindowUpdate(uint streamId, uint delta) => Two(SpdyFrameType.WindowUpdate, streamId & 0x7FFFFFFF, delta & 0x7FFFFFFF);

    public static byte[] Ping(uint id)
    {
        var frame = new byte[SpdyFrameHeader.Size + 4];
        SpdyFrameHeader.WriteControl(frame, SpdyFrameType.Ping, 0, 4);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(8), id);
        return frame;
    }

    public static byte[] SynStream(uint streamId, ReadOnlySpan<byte> compressedHeaders, bool fin)
    {
        var frame = new byte[SpdyFrameHeader.Size + 10 + compressedHeaders.Length];
        SpdyFrameHeader.WriteControl(frame, SpdyFrameType.SynStream, fin ? SpdyFrameHeader.FlagFin : (byte)0, 10 + compressedHeaders.Length);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(8), streamId & 0x7FFFFFFF);
        compressedHeaders.CopyTo(frame.AsSpan(18));
        return frame;
    }

    public static byte[] Settings(params (byte Flags, uint Id, uint Value)[] entries)
    {
        var frame = new byte[SpdyFrameHeader.Size + 4 + (entries.Length * 8)];
        SpdyFrameHeader.WriteControl(frame, SpdyFrameType.Settings, 0, 4 + (entries.Length * 8));
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(8), (uint)entries.Length);
        for (var i = 0; i < entries.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(12 + (i * 8)), ((uint)entries[i].Flags << 24) | (entries[i].Id & 0xFFFFFF));
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(16 + (i * 8)), entries[i].Value);
        }
        return frame;
    }

    public static byte[] Data(uint streamId, ReadOnlySpan<byte> data, bool fin)
    {
        var frame = new byte[SpdyFrameHeader.Size + data.Length];
        SpdyFrameHeader.WriteData(frame, streamId, fin ? SpdyFrameHeader.FlagFin : (byte)0, data.Length);
        data.CopyTo(frame.AsSpan(SpdyFrameHeader.Size));
        return frame;
    }

    private static byte[] WithStreamId(SpdyFrameType type, byte flags, uint streamId, ReadOnlySpan<byte> compressedHeaders)
    {
        var frame = new byte[SpdyFrameHeader.Size + 4 + compressedHeaders.Length];
        SpdyFrameHeader.WriteControl(frame, type, flags, 4 + compressedHeaders.Length);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(8), streamId & 0x7FFFFFFF);
        compressedHeaders.CopyTo(frame.AsSpan(12));
        return frame;
    }

    private static byte[] Two(SpdyFrameType type, uint first, uint second)
    {
        var frame = new byte[SpdyFrameHeader.Size + 8];
        SpdyFrameHeader.WriteControl(frame, type, 0, 8);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(8), first);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(12), second);
        return frame;
    }

    /// <summary>Compresses a header block with the session's deflater into a fresh array.</summary>
    public static byte[] Compress(SpdyHeaderDeflater deflater, SpdyHeaders headers)
    {
        var output = new ArrayBufferWriter<byte>(64);
        deflater.Compress(headers.Encode(), output);
        return output.WrittenSpan.ToArray();
    }
}
