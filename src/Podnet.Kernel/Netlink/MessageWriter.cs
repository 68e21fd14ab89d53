using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Podnet.Kernel.Netlink;

/// <summary>
/// Builds one netlink request: the 16-byte header, a fixed family header, then attributes
/// (type-length-value, each padded to 4 bytes), with nesting by <see cref="BeginNested"/>.
/// </summary>
internal sealed class MessageWriter
{
    private byte[] _buffer = new byte[256];
    private int _length;

    public MessageWriter(ushort type, ushort flags)
    {
        _length = Nlm.HeaderLength;
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(4), type);
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(6), (ushort)(flags | Nlm.Request));
    }

    public ushort Type => BinaryPrimitives.ReadUInt16LittleEndian(_buffer.AsSpan(4));

    /// <summary>Reserves <paramref name="size"/> zeroed bytes and returns them to fill.</summary>
    public Span<byte> Reserve(int size)
    {
        Grow(Align(size));
        var span = _buffer.AsSpan(_length, size);
        span.Clear();
        _length += Align(size);
        return span;
    }

    public void Attribute(ushort type, ReadOnlySpan<byte> value)
    {
        var total = 4 + value.Length;
        var span = Reserve(total);
        BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)total);
        BinaryPrimitives.WriteUInt16LittleEndian(span[2..], type);
        value.CopyTo(span[4..]);
    }

    public void AttributeU8(ushort type, byte value) => Attribute(type, [value]);

    public void AttributeU16(ushort type, ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        Attribute(type, b);
    }

    public void AttributeU16BigEndian(ushort type, ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(b, value);
        Attribute(type, b);
    }

    public void AttributeU32(ushort type, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        Attribute(type, b);
    }

    public void AttributeString(ushort type, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value + "\0");
        Attribute(type, bytes);
    }

    public void AttributeAddress(ushort type, IPAddress address) => Attribute(type, address.GetAddressBytes());

    /// <summary>Starts a nested attribute; dispose the result to close it.</summary>
    public Nested BeginNested(ushort type)
    {
        var start = _length;
        Reserve(4);
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(start + 2), (ushort)(type | Nlm.NestedFlag));
        return new Nested(this, start);
    }

    /// <summary>The finished message with its length and sequence number set.</summary>
    public ReadOnlySpan<byte> Finish(uint sequence)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer, (uint)_length);
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(8), sequence);
        return _buffer.AsSpan(0, _length);
    }

    internal static int Align(int size) => (size + 3) & ~3;

    private void Grow(int extra)
    {
        if (_length + extra > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + extra));
        }
    }

    internal readonly struct Nested(MessageWriter writer, int start) : IDisposable
    {
        public void Dispose() =>
            BinaryPrimitives.WriteUInt16LittleEndian(writer._buffer.AsSpan(start), (ushort)(writer._length - start));
    }
}
