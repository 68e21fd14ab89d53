using System.Text.Json;
using System.Text.Json.Serialization;
using Podnet.Cni.Spec;

namespace Podnet.Cni.Config;

// The stdin configuration as JSON: the reference bridge plugin's keys, host-local's ipam keys,
// and what the runtime injects (runtimeConfig, args, prevResult, cni.dev/*). Unknown keys are
// ignored, as the reference plugins do. Validation happens in NetConfParser, not here.

internal sealed class NetConfDto
{
    [JsonPropertyName("cniVersion")] public string? CniVersion { get; set; }
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("bridge")] public string? Bridge { get; set; }
    [JsonPropertyName("isGateway")] public bool IsGateway { get; set; }
    [JsonPropertyName("isDefaultGateway")] public bool IsDefaultGateway { get; set; }
    [JsonPropertyName("forceAddress")] public bool ForceAddress { get; set; }
    [JsonPropertyName("ipMasq")] public bool IpMasq { get; set; }
    [JsonPropertyName("ipMasqBackend")] public string? IpMasqBackend { get; set; }
    [JsonPropertyName("mtu")] public int Mtu { get; set; }
    [JsonPropertyName("hairpinMode")] public bool HairpinMode { get; set; }
    [JsonPropertyName("promiscMode")] public bool PromiscMode { get; set; }
    [JsonPropertyName("vlan")] public int Vlan { get; set; }
    [JsonPropertyName("vlanTrunk")] public JsonElement? VlanTrunk { get; set; }
    [JsonPropertyName("preserveDefaultVlan")] public bool? PreserveDefaultVlan { get; set; }
    [JsonPropertyName("macspoofchk")] public bool MacSpoofCheck { get; set; }
    [JsonPropertyName("enabledad")] public bool EnableDad { get; set; }
    [JsonPropertyName("disableContainerInterface")] public bool DisableContainerInterface { get; set; }
    [JsonPropertyName("portIsolation")] public bool PortIsolation { get; set; }
    [JsonPropertyName("ipam")] public IpamDto? Ipam { get; set; }
    [JsonPropertyName("dns")] public CniDns? Dns { get; set; }
    [JsonPropertyName("runtimeConfig")] public RuntimeConfigDto? RuntimeConfig { get; set; }
    [JsonPropertyName("args")] public ArgsDto? Args { get; set; }
    [JsonPropertyName("prevResult")] public JsonElement? PrevResult { get; set; }
    [JsonPropertyName("cni.dev/valid-attachments")] public List<CniAttachment>? ValidAttachments { get; set; }
    [JsonPropertyName("cni.dev/attachments")] public List<CniAttachment>? Attachments { get; set; }
}

internal sealed class IpamDto
{
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("ranges")] public List<List<RangeDto>>? Ranges { get; set; }
    [JsonPropertyName("subnet")] public string? Subnet { get; set; }
    [JsonPropertyName("rangeStart")] public string? RangeStart { get; set; }
    [JsonPropertyName("rangeEnd")] public string? RangeEnd { get; set; }
    [JsonPropertyName("gateway")] public string? Gateway { get; set; }
    [JsonPropertyName("routes")] public List<RouteDto>? Routes { get; set; }
    [JsonPropertyName("dataDir")] public string? DataDir { get; set; }
    [JsonPropertyName("resolvConf")] public string? ResolvConf { get; set; }

    /// <summary>Podnet extension: how long an ADD may wait for a running GC before answering code 11.</summary>
    [JsonPropertyName("lockTimeoutMs")] public int? LockTimeoutMs { get; set; }
}

internal sealed class RangeDto
{
    [JsonPropertyName("subnet")] public string? Subnet { get; set; }
    [JsonPropertyName("rangeStart")] public string? RangeStart { get; set; }
    [JsonPropertyName("rangeEnd")] public string? RangeEnd { get; set; }
    [JsonPropertyName("gateway")] public string? Gateway { get; set; }
}

internal sealed class RouteDto
{
    [JsonPropertyName("dst")] public string? Dst { get; set; }
    [JsonPropertyName("gw")] public string? Gw { get; set; }
}

internal sealed class RuntimeConfigDto
{
    [JsonPropertyName("mac")] public string? Mac { get; set; }
    [JsonPropertyName("ips")] public List<string>? Ips { get; set; }
    [JsonPropertyName("ipRanges")] public List<List<RangeDto>>? IpRanges { get; set; }
}

internal sealed class ArgsDto
{
    [JsonPropertyName("cni")] public CniArgsDto? Cni { get; set; }
}

internal sealed class CniArgsDto
{
    [JsonPropertyName("ips")] public List<string>? Ips { get; set; }
    [JsonPropertyName("mac")] public string? Mac { get; set; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(NetConfDto))]
internal sealed partial class ConfJsonContext : JsonSerializerContext;
