using System.Net;
using System.Text.Json;
using Podnet.Cni.Spec;
using Podnet.Core.Net;

namespace Podnet.Cni.Config;

/// <summary>Turns stdin into a <see cref="PluginConfig"/>, naming the key and value that is wrong.</summary>
internal static class NetConfParser
{
    public const string BuiltInIpam = "podnet-ipam";

    public static NetConfDto Decode(string json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            throw new CniException(CniErrorCode.DecodeFailure, "no network configuration on stdin");
        }
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Null
                ? throw new CniException(CniErrorCode.DecodeFailure, "network configuration is JSON null")
                : NetConfReader.Read(document.RootElement);
        }
        catch (JsonException e)
        {
            throw new CniException(CniErrorCode.DecodeFailure, $"network configuration cannot be decoded: {e.Message}", inner: e);
        }
        catch (InvalidOperationException e)
        {
            // System.Text.Json reads "\ud800" (half of a surrogate pair) only when the text is asked for.
            throw new CniException(CniErrorCode.DecodeFailure, "network configuration cannot be decoded: a string or key holds an unpaired surrogate escape (\\uD800-\\uDFFF)", inner: e);
        }
    }

    /// <summary>Validates the whole plugin configuration; <paramref name="ipamInProcess"/> also validates ipam.</summary>
    public static PluginConfig Parse(NetConfDto dto, CniEnvironment env)
    {
        var version = CniVersion.Require(dto.CniVersion);
        var name = RequireName(dto.Name);
        RefuseUnsupported(dto);
        if (dto.Mtu < 0 || dto.Mtu is > 0 and < 68 || dto.Mtu > 65535)
        {
            throw Invalid($"mtu {dto.Mtu} is out of range (68-65535, or 0 for the kernel's default)");
        }
        if (dto.Vlan is < 0 or > 4094)
        {
            throw Invalid($"vlan {dto.Vlan} is out of range (0-4094)");
        }
        if (dto.HairpinMode && dto.PromiscMode)
        {
            throw Invalid("hairpinMode and promiscMode cannot both be true");
        }
        var bridge = dto.Bridge ?? "cni0";
        if (!LinkNames.IsValid(bridge))
        {
            throw Invalid($"bridge '{bridge}' is not a valid interface name (1-15 characters)");
        }
        var ipamType = dto.Ipam?.Type;
        if (string.IsNullOrEmpty(ipamType))
        {
            throw Invalid("ipam.type is missing (use podnet-ipam, or another IPAM plugin in CNI_PATH)");
        }
        if (ipamType.Contains('/'))
        {
            throw Invalid($"ipam.type '{ipamType}' must be a plugin name, not a path");
        }
        return new PluginConfig
        {
            Version = version,
            Name = name,
            Bridge = bridge,
            IsGateway = dto.IsGateway || dto.IsDefaultGateway,
            IsDefaultGateway = dto.IsDefaultGateway,
            ForceAddress = dto.ForceAddress,
            IpMasq = dto.IpMasq,
            Mtu = dto.Mtu,
            HairpinMode = dto.HairpinMode,
            PromiscMode = dto.PromiscMode,
            Vlan = dto.Vlan,
            PreserveDefaultVlan = dto.PreserveDefaultVlan ?? true,
            EnableDad = dto.EnableDad,
            IpamType = ipamType,
            Ipam = ipamType == BuiltInIpam ? IpamConfigParser.Parse(dto, env) : null,
            Mac = ParseMac(dto, env),
            Dns = dto.Dns,
            PrevResult = dto.PrevResult is { ValueKind: JsonValueKind.Object } p ? p : null,
            ValidAttachments = dto.ValidAttachments ?? dto.Attachments,
        };
    }

    public static string RequireName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw Invalid("name is missing");
        }
        if (!CniEnvironment.IsValidContainerId(name))
        {
            throw Invalid($"name '{name}' must start with a letter or digit and contain only letters, digits, '_', '.' and '-'");
        }
        return name;
    }

    private static void RefuseUnsupported(NetConfDto dto)
    {
        if (dto.VlanTrunk is { ValueKind: not JsonValueKind.Null })
        {
            throw Unsupported("vlanTrunk", dto.VlanTrunk.Value.GetRawText());
        }
        if (dto.IpMasqBackend is { } backend && backend != "nftables")
        {
            throw Unsupported("ipMasqBackend", backend, "only nftables is implemented");
        }
        if (dto.MacSpoofCheck)
        {
            throw Unsupported("macspoofchk", "true");
        }
        if (dto.DisableContainerInterface)
        {
            throw Unsupported("disableContainerInterface", "true");
        }
        if (dto.PortIsolation)
        {
            throw Unsupported("portIsolation", "true");
        }
    }

    private static MacAddress? ParseMac(NetConfDto dto, CniEnvironment env)
    {
        // Precedence as in the reference plugin: args.cni.mac, then runtimeConfig.mac, then CNI_ARGS MAC.
        var (key, text) = dto.Args?.Cni?.Mac is { } a ? ("args.cni.mac", a)
            : dto.RuntimeConfig?.Mac is { } r ? ("runtimeConfig.mac", r)
            : env.Args.TryGetValue("MAC", out var m) ? ("CNI_ARGS MAC", m)
            : (null, null);
        if (text is null)
        {
            return null;
        }
        if (!MacAddress.TryParse(text, out var mac) || (mac.Value & 0x0100_0000_0000UL) != 0)
        {
            throw Invalid($"{key} '{text}' is not a unicast MAC address");
        }
        return mac;
    }

    internal static CniException Invalid(string message) => new(CniErrorCode.InvalidConfig, message);

    private static CniException Unsupported(string key, string value, string? why = null) =>
        new(CniErrorCode.UnsupportedField, $"{key}={value} is not supported by podnet-cni" + (why is null ? "" : $" ({why})"));

    internal static IPAddress ParseAddress(string key, string? text)
    {
        if (text is null || !IPAddress.TryParse(text, out var address) || text.Contains('/'))
        {
            throw Invalid($"{key} '{text}' is not an IP address");
        }
        return address;
    }
}
