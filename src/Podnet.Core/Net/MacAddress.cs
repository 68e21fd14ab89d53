using System.Globalization;

namespace Podnet.Core.Net;

/// <summary>A 48-bit Ethernet address, printed as lower-case colon-separated hex as iproute2 does.</summary>
public readonly record struct MacAddress(ulong Value)
{
    public static MacAddress FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != 6)
        {
            throw new ArgumentException($"a MAC address has 6 bytes, not {bytes.Length}");
        }
        ulong value = 0;
        foreach (var b in bytes)
        {
            value = (value << 8) | b;
        }
        return new MacAddress(value);
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[6];
        var v = Value;
        for (var i = 5; i >= 0; i--)
        {
            bytes[i] = (byte)(v & 0xff);
            v >>= 8;
        }
        return bytes;
    }

    public static MacAddress Parse(string text) =>
        TryParse(text, out var mac) ? mac : throw new FormatException($"'{text}' is not a MAC address (like 02:42:ac:11:00:02)");

    public static bool TryParse(string? text, out MacAddress mac)
    {
        mac = default;
        var parts = text?.Split(':');
        if (parts is not { Length: 6 })
        {
            return false;
        }
        ulong value = 0;
        foreach (var part in parts)
        {
            if (part.Length is < 1 or > 2 || !byte.TryParse(part, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var b))
            {
                return false;
            }
            value = (value << 8) | b;
        }
        mac = new MacAddress(value);
        return true;
    }

    /// <summary>A locally administered unicast address made from <paramref name="seed"/> bytes.</summary>
    public static MacAddress LocalFrom(ReadOnlySpan<byte> seed)
    {
        Span<byte> bytes = stackalloc byte[6];
        seed[..Math.Min(6, seed.Length)].CopyTo(bytes);
        bytes[0] = (byte)((bytes[0] & 0xfe) | 0x02);
        return FromBytes(bytes);
    }

    public override string ToString()
    {
        var b = ToBytes();
        return string.Create(CultureInfo.InvariantCulture, $"{b[0]:x2}:{b[1]:x2}:{b[2]:x2}:{b[3]:x2}:{b[4]:x2}:{b[5]:x2}");
    }
}
