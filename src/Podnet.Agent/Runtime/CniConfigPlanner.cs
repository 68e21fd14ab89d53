using System.Net;
using System.Text.Json.Nodes;

namespace Podnet.Agent.Runtime;

/// <summary>
/// The node's CNI network configuration: podnet-cni on bridge pn0, the bridge as every pod's
/// default gateway, hairpin on (a pod reaching itself through a Service), no masquerade (the
/// agent owns egress), and podnet-ipam handing out the node's pod CIDRs (one range per
/// family) from an explicit data directory.
/// </summary>
public static class CniConfigPlanner
{
    public const string NetworkName = "podnet";
    public const string Bridge = "pn0";
    public const string CniVersion = "1.1.0";

    public static string Build(IReadOnlyList<IPNetwork> podCidrs, int mtu, string ipamDataDir)
    {
        if (podCidrs.Count == 0)
        {
            throw new ArgumentException("the node has no pod CIDR yet: spec.podCIDRs is empty");
        }
        var ranges = new JsonArray();
        foreach (var cidr in podCidrs)
        {
            ranges.Add((JsonNode)new JsonArray(new JsonObject { ["subnet"] = cidr.ToString() }));
        }
        var plugin = new JsonObject
        {
            ["type"] = "podnet-cni",
            ["bridge"] = Bridge,
            ["isGateway"] = true,
            ["isDefaultGateway"] = true,
            ["ipMasq"] = false,
            ["hairpinMode"] = true,
            ["ipam"] = new JsonObject
            {
                ["type"] = "podnet-ipam",
                ["ranges"] = ranges,
                ["dataDir"] = ipamDataDir,
            },
        };
        if (mtu > 0)
        {
            plugin["mtu"] = mtu;
        }
        var config = new JsonObject
        {
            ["cniVersion"] = CniVersion,
            ["name"] = NetworkName,
            ["plugins"] = new JsonArray(plugin),
        };
        return config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }
}
