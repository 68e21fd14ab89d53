using System.Text.Json.Serialization;

namespace Podnet.Cni.Spec;

/// <summary>
/// An ADD result (and an IPAM result, which leaves out interfaces) with every field of spec
/// 1.1.0 plus the 0.x "version" of an IP; <see cref="ResultConverter"/> trims it to a version.
/// </summary>
public sealed class CniResult
{
    [JsonPropertyName("cniVersion")] public string? CniVersion { get; set; }
    [JsonPropertyName("interfaces")] public List<CniInterface>? Interfaces { get; set; }
    [JsonPropertyName("ips")] public List<CniIpConfig>? Ips { get; set; }
    [JsonPropertyName("routes")] public List<CniRoute>? Routes { get; set; }
    [JsonPropertyName("dns")] public CniDns? Dns { get; set; }
}

public sealed class CniInterface
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("mac")] public string? Mac { get; set; }
    [JsonPropertyName("mtu")] public int? Mtu { get; set; }
    [JsonPropertyName("sandbox")] public string? Sandbox { get; set; }
    [JsonPropertyName("socketPath")] public string? SocketPath { get; set; }
    [JsonPropertyName("pciID")] public string? PciId { get; set; }
}

public sealed class CniIpConfig
{
    /// <summary>"4" or "6"; only in 0.3.x and 0.4.0 results.</summary>
    [JsonPropertyName("version")] public string? Version { get; set; }
    [JsonPropertyName("address")] public string Address { get; set; } = "";
    [JsonPropertyName("gateway")] public string? Gateway { get; set; }
    [JsonPropertyName("interface")] public int? Interface { get; set; }
}

public sealed class CniRoute
{
    [JsonPropertyName("dst")] public string Dst { get; set; } = "";
    [JsonPropertyName("gw")] public string? Gw { get; set; }
    [JsonPropertyName("mtu")] public int? Mtu { get; set; }
    [JsonPropertyName("advmss")] public int? AdvMss { get; set; }
    [JsonPropertyName("priority")] public int? Priority { get; set; }
    [JsonPropertyName("table")] public int? Table { get; set; }
    [JsonPropertyName("scope")] public int? Scope { get; set; }
}

public sealed class CniDns
{
    [JsonPropertyName("nameservers")] public List<string>? Nameservers { get; set; }
    [JsonPropertyName("domain")] public string? Domain { get; set; }
    [JsonPropertyName("search")] public List<string>? Search { get; set; }
    [JsonPropertyName("options")] public List<string>? Options { get; set; }

    [JsonIgnore]
    public bool IsEmpty => (Nameservers is null or { Count: 0 }) && Domain is null && (Search is null or { Count: 0 }) && (Options is null or { Count: 0 });
}

/// <summary>The spec's error object.</summary>
public sealed class CniError
{
    [JsonPropertyName("cniVersion")] public string CniVersion { get; set; } = Spec.CniVersion.Current;
    [JsonPropertyName("code")] public int Code { get; set; }
    [JsonPropertyName("msg")] public string Msg { get; set; } = "";
    [JsonPropertyName("details")] public string? Details { get; set; }
}

/// <summary>The VERSION answer.</summary>
public sealed class CniVersionInfo
{
    [JsonPropertyName("cniVersion")] public string CniVersion { get; set; } = Spec.CniVersion.Current;
    [JsonPropertyName("supportedVersions")] public List<string> SupportedVersions { get; set; } = [];
}

/// <summary>One entry of cni.dev/valid-attachments (GC).</summary>
public sealed class CniAttachment
{
    [JsonPropertyName("containerID")] public string ContainerId { get; set; } = "";
    [JsonPropertyName("ifname")] public string IfName { get; set; } = "";
}
