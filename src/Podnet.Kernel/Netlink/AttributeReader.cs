using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Podnet.Kernel.Netlink;

/// <summary>Walks the attributes of a netlink message or of a nested attribute.</summary>
internal readonly ref struct AttributeReader
{
    private readonly ReadOnlySpan<byte> _data;

    public AttributeReader(ReadOnlySpan<byte> data) => _data = data;

    public Enumerator GetEnumerator() => new(_data);

    /// <summary>The value of the first attribute of <paramref name="type"/>, or an empty span.</summary>
    public bool TryGet(ushort type, out ReadOnlySpan<byte> value)
    {
        foreach (var attribute in this)
        {
            if (attribute.Type == type)
            {
                value = attribute.Value;
                return true;
            }
        }
        value = default;
        return false;
    }

    public ref struct Enumerator
    {
        private ReadOnlySpan<byte> _rest;

        public Enumerator(ReadOnlySpan<byte> data)
        {
            _rest = data;
            Current = default;
        }

        public Attribute Current { get; private set; }

        public bool MoveNext()
        {
            if (_rest.Length < 4)
            {
                return false;
            }
            var length = BinaryPrimitives.ReadUInt16LittleEndian(_rest);
            if (length < 4 || length > _rest.Length)
            {
                return false;
            }
            var type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(_rest[2..]) & ~Nlm.NestedFlag & 0x7fff);
            Current = new Attribute(type, _rest[4..length]);
            var next = MessageWriter.Align(length);
            _rest = next >= _rest.Length ? default : _rest[next..];
            return true;
        }
    }

    public readonly ref struct Attribute(ushort type, ReadOnlySpan<byte> value)
    {
        public ushort Type { get; } = type;

        public ReadOnlySpan<byte> Value { get; } = value;

        public byte U8 => Value[0];

        public ushort U16 => BinaryPrimitives.ReadUInt16LittleEndian(Value);

        public uint U32 => BinaryPrimitives.ReadUInt32LittleEndian(Value);

        public int I32 => BinaryPrimitives.ReadInt32LittleEndian(Value);

        public string String
        {
            get
            {
                var end = Value.IndexOf((byte)0);
                return Encoding.UTF8.GetString(end >= 0 ? Value[..end] : Value);
            }
        }

        public IPAddress Address => new(Value);

        public AttributeReader Nested => new(Value);
    }
}
