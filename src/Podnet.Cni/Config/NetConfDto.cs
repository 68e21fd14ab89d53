using System.Text.Json;
using Podnet.Cni.Spec;
using static Podnet.Cni.Spec.JsonFields;

namespace Podnet.Cni.Config;

// The stdin configuration as JSON: the reference bridge plugin's keys, host-local's ipam keys,
// and what the runtime injects (runtimeConfig, args, prevResult, cni.dev/*). Unknown keys are
// ignored, as the reference plugins do. Validation happens in NetConfParser, not here.

internal sealed class NetConfDto
{
    public string? CniVersion { get; set; }
    public string? Name { get; set; }
    public string? Type { get; set; }
    public string? Bridge { get; set; }
    public bool IsGateway { get; set; }
    public bool IsDefaultGateway { get; set; }
    public bool ForceAddress { get; set; }
    public bool IpMasq { get; set; }
    public string? IpMasqBackend { get; set; }
    public int Mtu { get; set; }
    public bool HairpinMode { get; set; }
    public bool PromiscMode { get; set; }
    public int Vlan { get; set; }
    public JsonElement? VlanTrunk { get; set; }
    public bool? PreserveDefaultVlan { get; set; }
    public bool MacSpoofCheck { get; set; }
    public bool EnableDad { get; set; }
    public bool DisableContainerInterface { get; set; }
    public bool PortIsolation { get; set; }
    public IpamDto? Ipam { get; set; }
    public CniDns? Dns { get; set; }
    public RuntimeConfigDto? RuntimeConfig { get; set; }
    public ArgsDto? Args { get; set; }
    public JsonElement? PrevResult { get; set; }
    public List<CniAttachment>? ValidAttachments { get; set; }
    public List<CniAttachment>? Attachments { get; set; }
}

internal sealed class IpamDto
{
    public string? Type { get; set; }
    public List<List<RangeDto>>? Ranges { get; set; }
    public string? Subnet { get; set; }
    public string? RangeStart { get; set; }
    public string? RangeEnd { get; set; }
    public string? Gateway { get; set; }
    public List<RouteDto>? Routes { get; set; }
    public string? DataDir { get; set; }
    public string? ResolvConf { get; set; }

    /// <summary>Podnet extension: how long an ADD may wait for a running GC before answering code 11.</summary>
    public int? LockTimeoutMs { get; set; }
}

internal sealed class RangeDto
{
    public string? Subnet { get; set; }
    public string? RangeStart { get; set; }
    public string? RangeEnd { get; set; }
    public string? Gateway { get; set; }
}

internal sealed class RouteDto
{
    public string? Dst { get; set; }
    public string? Gw { get; set; }
}

internal sealed class RuntimeConfigDto
{
    public string? Mac { get; set; }
    public List<string>? Ips { get; set; }
    public List<List<RangeDto>>? IpRanges { get; set; }
}

internal sealed class ArgsDto
{
    public CniArgsDto? Cni { get; set; }
}

internal sealed class CniArgsDto
{
    public List<string>? Ips { get; set; }
    public string? Mac { get; set; }
}

/// <summary>
/// Reads the DTOs above from JSON by hand, with <see cref="JsonFields"/>' strictness (see there
/// for why not the serializer); the JSON keys are the ones below.
/// </summary>
internal static class NetConfReader
{
    public static NetConfDto Read(JsonElement element)
        => Fill<NetConfDto>(RequireObject(element, "the network configuration"), static (dto, p) =>
        {
            switch (p.Name)
            {
                case "cniVersion": dto.CniVersion = String(p); break;
                case "name": dto.Name = String(p); break;
                case "type": dto.Type = String(p); break;
                case "bridge": dto.Bridge = String(p); break;
                case "isGateway": dto.IsGateway = Bool(p); break;
                case "isDefaultGateway": dto.IsDefaultGateway = Bool(p); break;
                case "forceAddress": dto.ForceAddress = Bool(p); break;
                case "ipMasq": dto.IpMasq = Bool(p); break;
                case "ipMasqBackend": dto.IpMasqBackend = String(p); break;
                case "mtu": dto.Mtu = Int(p); break;
                case "hairpinMode": dto.HairpinMode = Bool(p); break;
                case "promiscMode": dto.PromiscMode = Bool(p); break;
                case "vlan": dto.Vlan = Int(p); break;
                // Kept beyond the document's lifetime: cloned.
                case "vlanTrunk": dto.VlanTrunk = p.Value.Clone(); break;
                case "preserveDefaultVlan": dto.PreserveDefaultVlan = NullableBool(p); break;
                case "macspoofchk": dto.MacSpoofCheck = Bool(p); break;
                case "enabledad": dto.EnableDad = Bool(p); break;
                case "disableContainerInterface": dto.DisableContainerInterface = Bool(p); break;
                case "portIsolation": dto.PortIsolation = Bool(p); break;
                case "ipam": dto.Ipam = Object(p, ReadIpam); break;
                case "dns": dto.Dns = Object(p, CniJson.ReadDns); break;
                case "runtimeConfig": dto.RuntimeConfig = Object(p, ReadRuntimeConfig); break;
                case "args": dto.Args = Object(p, ReadArgs); break;
                case "prevResult": dto.PrevResult = p.Value.Clone(); break;
                case "cni.dev/valid-attachments": dto.ValidAttachments = CniJson.ReadAttachments(p); break;
                case "cni.dev/attachments": dto.Attachments = CniJson.ReadAttachments(p); break;
            }
        });

    private static IpamDto ReadIpam(JsonElement element)
        => Fill<IpamDto>(element, static (dto, p) =>
        {
            switch (p.Name)
            {
                case "type": dto.Type = String(p); break;
                case "ranges": dto.Ranges = RangeSets(p); break;
                case "subnet": dto.Subnet = String(p); break;
                case "rangeStart": dto.RangeStart = String(p); break;
                case "rangeEnd": dto.RangeEnd = String(p); break;
                case "gateway": dto.Gateway = String(p); break;
                case "routes": dto.Routes = List(p, r => Item(r, "routes", ReadRoute)); break;
                case "dataDir": dto.DataDir = String(p); break;
                case "resolvConf": dto.ResolvConf = String(p); break;
                case "lockTimeoutMs": dto.LockTimeoutMs = NullableInt(p); break;
            }
        });

    /// <summary>A list of range sets, each a list of ranges (host-local's "ranges", runtimeConfig's "ipRanges").</summary>
    private static List<List<RangeDto>>? RangeSets(JsonProperty p) => List<List<RangeDto>>(p, set => set.ValueKind == JsonValueKind.Array
        ? [.. set.EnumerateArray().Select(r => Item(r, p.Name, ReadRange))]
        : throw new JsonException($"the items of '{p.Name}' must be arrays of ranges"));

    private static RangeDto ReadRange(JsonElement element)
        => Fill<RangeDto>(element, static (dto, p) =>
        {
            switch (p.Name)
            {
                case "subnet": dto.Subnet = String(p); break;
                case "rangeStart": dto.RangeStart = String(p); break;
                case "rangeEnd": dto.RangeEnd = String(p); break;
                case "gateway": dto.Gateway = String(p); break;
            }
        });

    private static RouteDto ReadRoute(JsonElement element)
        => Fill<RouteDto>(element, static (dto, p) =>
        {
            switch (p.Name)
            {
                case "dst": dto.Dst = String(p); break;
                case "gw": dto.Gw = String(p); break;
            }
        });

    private static RuntimeConfigDto ReadRuntimeConfig(JsonElement element)
        => Fill<RuntimeConfigDto>(element, static (dto, p) =>
        {
            switch (p.Name)
            {
                case "mac": dto.Mac = String(p); break;
                case "ips": dto.Ips = Strings(p); break;
                case "ipRanges": dto.IpRanges = RangeSets(p); break;
            }
        });

    private static ArgsDto ReadArgs(JsonElement element) => Fill<ArgsDto>(element, static (dto, p) =>
    {
        if (p.Name == "cni")
        {
            dto.Cni = Object(p, cni => Fill<CniArgsDto>(cni, static (args, a) =>
            {
                switch (a.Name)
                {
                    case "ips": args.Ips = Strings(a); break;
                    case "mac": args.Mac = String(a); break;
                }
            }));
        }
    });
}
