namespace Podnet.Dns.Wire;

/// <summary>Record types this server knows by number (RFC 1035, 2782, 3596, 6891, 1995, 5936).</summary>
public static class RecordType
{
    public const ushort A = 1;
    public const ushort Ns = 2;
    public const ushort Cname = 5;
    public const ushort Soa = 6;
    public const ushort Ptr = 12;
    public const ushort Txt = 16;
    public const ushort Aaaa = 28;
    public const ushort Srv = 33;
    public const ushort Opt = 41;
    public const ushort Ixfr = 251;
    public const ushort Axfr = 252;
    public const ushort Any = 255;

    /// <summary>The name of a type for logs and metrics; types without one are "other", so the label set stays bounded.</summary>
    public static string Name(ushort type) => type switch
    {
        A => "A",
        Ns => "NS",
        Cname => "CNAME",
        Soa => "SOA",
        Ptr => "PTR",
        Txt => "TXT",
        Aaaa => "AAAA",
        Srv => "SRV",
        Ixfr => "IXFR",
        Axfr => "AXFR",
        Any => "ANY",
        _ => "other",
    };
}

public static class RecordClass
{
    public const ushort In = 1;
}

/// <summary>Response codes (RFC 1035 4.1.1; BADVERS is the extended code 16 of RFC 6891).</summary>
public static class ResponseCode
{
    public const byte NoError = 0;
    public const byte FormErr = 1;
    public const byte ServFail = 2;
    public const byte NxDomain = 3;
    public const byte NotImp = 4;
    public const byte Refused = 5;
    public const int BadVers = 16;

    public static string Name(int code) => code switch
    {
        NoError => "NOERROR",
        FormErr => "FORMERR",
        ServFail => "SERVFAIL",
        NxDomain => "NXDOMAIN",
        NotImp => "NOTIMP",
        Refused => "REFUSED",
        BadVers => "BADVERS",
        _ => "other",
    };
}

/// <summary>Bits and fields of the header's flags word.</summary>
public static class HeaderFlags
{
    public const ushort Response = 0x8000;
    public const ushort Authoritative = 0x0400;
    public const ushort Truncated = 0x0200;
    public const ushort RecursionDesired = 0x0100;
    public const ushort RecursionAvailable = 0x0080;
    public const ushort CheckingDisabled = 0x0010;

    public static int Opcode(ushort flags) => (flags >> 11) & 0xF;

    public static int Rcode(ushort flags) => flags & 0xF;
}

/// <summary>Sizes the codec is bounded by.</summary>
public static class Limits
{
    public const int HeaderLength = 12;

    /// <summary>A name's wire form, length octets and the root included (RFC 1035 3.1).</summary>
    public const int MaxNameLength = 255;

    public const int MaxLabelLength = 63;

    /// <summary>Without EDNS a UDP answer is at most this long (RFC 1035 4.2.1).</summary>
    public const int ClassicUdpSize = 512;

    /// <summary>What this server advertises and sends at most over UDP (DNS flag day 2020: no IP fragmentation).</summary>
    public const int EdnsUdpSize = 1232;

    /// <summary>A TCP message's length prefix is 16 bits.</summary>
    public const int MaxMessageLength = 65535;

    /// <summary>Compression pointers hold 14-bit offsets.</summary>
    public const int MaxPointerOffset = 0x3FFF;

    /// <summary>The fixed part of a resource record after its owner name: type, class, TTL, RDLENGTH.</summary>
    public const int RecordFixedLength = 10;
}
