using System.Net;
using System.Net.Sockets;
using System.Numerics;

namespace Podnet.Core.Net;

/// <summary>
/// Address arithmetic on top of <see cref="IPNetwork"/>: masking, offsets and ranges.
/// Every address is treated as an unsigned integer of its family's width.
/// </summary>
public static class IpMath
{
    public static int Width(AddressFamily family) => family == AddressFamily.InterNetwork ? 32 : 128;

    /// <summary>The address as a big-endian unsigned integer.</summary>
    public static UInt128 ToInteger(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        UInt128 value = 0;
        for (var i = 0; i < written; i++)
        {
            value = (value << 8) | bytes[i];
        }
        return value;
    }

    public static IPAddress FromInteger(UInt128 value, AddressFamily family)
    {
        var length = family == AddressFamily.InterNetwork ? 4 : 16;
        var bytes = new byte[length];
        for (var i = length - 1; i >= 0; i--)
        {
            bytes[i] = (byte)(value & 0xff);
            value >>= 8;
        }
        return new IPAddress(bytes);
    }

    /// <summary>The address with every bit past <paramref name="prefixLength"/> cleared.</summary>
    public static IPAddress Mask(IPAddress address, int prefixLength)
    {
        var width = Width(address.AddressFamily);
        var value = ToInteger(address);
        var hostBits = width - prefixLength;
        var masked = hostBits >= 128 ? UInt128.Zero : (value >> hostBits) << hostBits;
        return FromInteger(masked, address.AddressFamily);
    }

    /// <summary>The address <paramref name="offset"/> steps after <paramref name="address"/> (may be negative).</summary>
    public static IPAddress Add(IPAddress address, Int128 offset)
    {
        var width = Width(address.AddressFamily);
        var value = (UInt128)((Int128)ToInteger(address) + offset);
        if (width == 32)
        {
            value &= uint.MaxValue;
        }
        return FromInteger(value, address.AddressFamily);
    }

    /// <summary>The last address of <paramref name="network"/> (its broadcast address for IPv4).</summary>
    public static IPAddress LastAddress(IPNetwork network)
    {
        var width = Width(network.BaseAddress.AddressFamily);
        var hostBits = width - network.PrefixLength;
        var hostMask = hostBits >= 128 ? UInt128.MaxValue : (UInt128.One << hostBits) - 1;
        return FromInteger(ToInteger(network.BaseAddress) | hostMask, network.BaseAddress.AddressFamily);
    }

    /// <summary>Number of addresses in <paramref name="network"/>, saturated at <see cref="UInt128.MaxValue"/>.</summary>
    public static UInt128 Size(IPNetwork network)
    {
        var hostBits = Width(network.BaseAddress.AddressFamily) - network.PrefixLength;
        return hostBits >= 128 ? UInt128.MaxValue : UInt128.One << hostBits;
    }

    public static int Compare(IPAddress a, IPAddress b) => ToInteger(a).CompareTo(ToInteger(b));

    /// <summary>True when the two networks share at least one address.</summary>
    public static bool Overlaps(IPNetwork a, IPNetwork b) =>
        a.BaseAddress.AddressFamily == b.BaseAddress.AddressFamily && (a.Contains(b.BaseAddress) || b.Contains(a.BaseAddress));

    /// <summary>
    /// The <paramref name="index"/>-th subnet of length <paramref name="subnetLength"/> inside
    /// <paramref name="network"/>, or null when the index is past the end.
    /// </summary>
    public static IPNetwork? Subnet(IPNetwork network, int subnetLength, BigInteger index)
    {
        var width = Width(network.BaseAddress.AddressFamily);
        if (subnetLength < network.PrefixLength || subnetLength > width || index < 0)
        {
            return null;
        }
        var count = BigInteger.One << (subnetLength - network.PrefixLength);
        if (index >= count)
        {
            return null;
        }
        var offset = (UInt128)index << (width - subnetLength);
        var baseValue = ToInteger(network.BaseAddress) | offset;
        return new IPNetwork(FromInteger(baseValue, network.BaseAddress.AddressFamily), subnetLength);
    }
}
