namespace Podnet.Cni.Spec;

/// <summary>
/// An ADD result (and an IPAM result, which leaves out interfaces) with every field of spec
/// 1.1.0 plus the 0.x "version" of an IP; <see cref="ResultConverter"/> trims it to a version,
/// <see cref="CniJson"/> reads and writes it (the JSON keys are there).
/// </summary>
public sealed class CniResult
{
    public string? CniVersion { get; set; }
    public List<CniInterface>? Interfaces { get; set; }
    public List<CniIpConfig>? Ips { get; set; }
    public List<CniRoute>? Routes { get; set; }
    public CniDns? Dns { get; set; }
}

public sealed class CniInterface
{
    public string Name { get; set; } = "";
    public string? Mac { get; set; }
    public int? Mtu { get; set; }
    public string? Sandbox { get; set; }
    public string? SocketPath { get; set; }
    public string? PciId { get; set; }
}

public sealed class CniIpConfig
{
    /// <summary>"4" or "6"; only in 0.3.x and 0.4.0 results.</summary>
    public string? Version { get; set; }
    public string Address { get; set; } = "";
    public string? Gateway { get; set; }
    public int? Interface { get; set; }
}

public sealed class CniRoute
{
    public string Dst { get; set; } = "";
    public string? Gw { get; set; }
    public int? Mtu { get; set; }
    public int? AdvMss { get; set; }
    public int? Priority { get; set; }
    public int? Table { get; set; }
    public int? Scope { get; set; }
}

public sealed class CniDns
{
    public List<string>? Nameservers { get; set; }
    public string? Domain { get; set; }
    public List<string>? Search { get; set; }
    public List<string>? Options { get; set; }

    public bool IsEmpty => (Nameservers is null or { Count: 0 }) && Domain is null && (Search is null or { Count: 0 }) && (Options is null or { Count: 0 });
}

/// <summary>The spec's error object.</summary>
public sealed class CniError
{
    public string CniVersion { get; set; } = Spec.CniVersion.Current;
    public int Code { get; set; }
    public string Msg { get; set; } = "";
    public string? Details { get; set; }
}

/// <summary>The VERSION answer.</summary>
public sealed class CniVersionInfo
{
    public string CniVersion { get; set; } = Spec.CniVersion.Current;
    public List<string> SupportedVersions { get; set; } = [];
}

/// <summary>One entry of cni.dev/valid-attachments (GC).</summary>
public sealed class CniAttachment
{
    public string ContainerId { get; set; } = "";
    public string IfName { get; set; } = "";
}
