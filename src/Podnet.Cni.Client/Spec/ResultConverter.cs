using System.Text.Json;

namespace Podnet.Cni.Spec;

/// <summary>Writes a result in the shape of one spec version, and reads results of any supported version.</summary>
public static class ResultConverter
{
    /// <summary>A copy of <paramref name="result"/> with only the fields <paramref name="version"/> defines.</summary>
    public static CniResult Convert(CniResult result, string version)
    {
        var v1 = CniVersion.AtLeast(version, "1.0.0");
        var v11 = CniVersion.AtLeast(version, "1.1.0");
        return new CniResult
        {
            CniVersion = version,
            Interfaces = result.Interfaces?.Select(i => new CniInterface
            {
                Name = i.Name,
                Mac = i.Mac,
                Sandbox = i.Sandbox,
                Mtu = v11 ? i.Mtu : null,
                SocketPath = v11 ? i.SocketPath : null,
                PciId = v11 ? i.PciId : null,
            }).ToList(),
            Ips = result.Ips?.Select(ip => new CniIpConfig
            {
                Version = v1 ? null : (ip.Address.Contains(':') ? "6" : "4"),
                Address = ip.Address,
                Gateway = ip.Gateway,
                Interface = ip.Interface,
            }).ToList(),
            Routes = result.Routes?.Select(r => new CniRoute
            {
                Dst = r.Dst,
                Gw = r.Gw,
                Mtu = v11 ? r.Mtu : null,
                AdvMss = v11 ? r.AdvMss : null,
                Priority = v11 ? r.Priority : null,
                Table = v11 ? r.Table : null,
                Scope = v11 ? r.Scope : null,
            }).ToList(),
            Dns = result.Dns is { IsEmpty: false } ? result.Dns : (v1 ? null : new CniDns()),
        };
    }

    public static string Serialize(CniResult result, string version) => CniJson.Write(Convert(result, version));

    /// <summary>Reads a result of any supported version (0.3.0 … 1.1.0).</summary>
    public static CniResult Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return Parse(document.RootElement, "result");
    }

    public static CniResult Parse(JsonElement element) => Parse(element, "prevResult");

    private static CniResult Parse(JsonElement element, string what)
    {
        if (element.ValueKind == JsonValueKind.Null)
        {
            throw new CniException(CniErrorCode.DecodeFailure, $"{what} is JSON null");
        }
        var result = CniJson.ReadResult(element);
        Validate(result);
        return result;
    }

    private static void Validate(CniResult result)
    {
        if (result.CniVersion is { } v && CniVersion.Compare(v, "0.3.0") < 0)
        {
            throw new CniException(CniErrorCode.IncompatibleVersion, $"result version {v} (ip4/ip6 shape) is not supported");
        }
        foreach (var ip in result.Ips ?? [])
        {
            if (!Core.Net.AddressPrefix.TryParse(ip.Address, out _))
            {
                throw new CniException(CniErrorCode.DecodeFailure, $"result ips[].address '{ip.Address}' is not an address with a prefix length");
            }
        }
    }
}
