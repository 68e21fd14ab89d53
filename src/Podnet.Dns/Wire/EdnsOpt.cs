using System.Buffers.Binary;

namespace Podnet.Dns.Wire;

/// <summary>The OPT record this server sends (RFC 6891 6.1.2): root owner, our UDP size, no options.</summary>
public static class EdnsOpt
{
    public const int Length = 11;

    /// <summary>Writes OPT with the upper bits of <paramref name="rcode"/> as its extended rcode; returns its length.</summary>
    public static int Write(Span<byte> destination, int rcode)
    {
        var opt = destination[..Length];
        opt[0] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(opt[1..], RecordType.Opt);
        BinaryPrimitives.WriteUInt16BigEndian(opt[3..], Limits.EdnsUdpSize);
        BinaryPrimitives.WriteUInt32BigEndian(opt[5..], (uint)(rcode >> 4) << 24);
        BinaryPrimitives.WriteUInt16BigEndian(opt[9..], 0);
        return Length;
    }
}
