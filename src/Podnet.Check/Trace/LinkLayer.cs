using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Podnet.Kernel;

namespace Podnet.Check.Trace;

/// <summary>
/// The link layer of one hop, read from the node's kernel with iproute2's JSON output (the
/// same tools and namespace entry as the route lookup): the bridge port the sender's MAC was
/// learned on, the route's device, the next hop's neighbour entry and, behind a bridge or a
/// VXLAN device, where the kernel's FDB sends that MAC.
/// </summary>
/// <remarks>
/// These are the kernel's tables at the moment trace reads them, right after the request: an
/// entry that exists is what the kernel used (a bridge learns the source of each frame, and a
/// neighbour entry in REACHABLE or STALE is the one the packet was sent with). A missing entry
/// is reported as such, never guessed.
/// </remarks>
public static partial class LinkLayer
{
    public static LinkEvidence Read(Netns netns, string packetText, string? iif, JsonNode? route, IPAddress endpoint)
    {
        var sourceMac = EtherSaddr().Match(packetText) is { Success: true } m ? m.Groups[1].Value : null;
        string? arrivalPort = null;
        if (iif is not null && sourceMac is not null && Kind(Link(netns, iif)) == "bridge")
        {
            arrivalPort = PortOf(netns, iif, sourceMac);
        }
        if (route is null || (string?)route["dev"] is not { } dev)
        {
            return new LinkEvidence(sourceMac, arrivalPort);
        }
        var link = Link(netns, dev);
        var kind = Kind(link);
        var nextHop = (string?)route["gateway"] ?? endpoint.ToString();
        var neighbour = Json(netns, "ip", ["-j", "neigh", "show", "to", nextHop, "dev", dev]) is JsonArray { Count: > 0 } n ? n[0] : null;
        var mac = (string?)neighbour?["lladdr"];
        var state = neighbour?["state"] is JsonArray states ? string.Join(",", states.Select(x => (string?)x)) : null;
        string? hopPort = null;
        string? vxlan = null;
        if (mac is not null && kind == "bridge")
        {
            hopPort = PortOf(netns, dev, mac);
        }
        if (kind == "vxlan")
        {
            var data = link?["linkinfo"]?["info_data"];
            var vtep = mac is null ? null : Fdb(netns, ["show", "dev", dev]).FirstOrDefault(e => (string?)e["mac"] == mac && e["dst"] is not null);
            vxlan = $"VNI {(int?)data?["id"]}, UDP port {(int?)data?["port"]}" + (vtep is null ? ", no FDB entry for the next hop's MAC" : $", {mac} -> VTEP {(string?)vtep["dst"]}");
        }
        return new LinkEvidence(sourceMac, arrivalPort, dev, (string?)link?["address"], kind, nextHop, mac, state, hopPort, vxlan);
    }

    private static JsonNode? Link(Netns netns, string dev) =>
        Json(netns, "ip", ["-j", "-d", "link", "show", "dev", dev]) is JsonArray { Count: > 0 } links ? links[0] : null;

    private static string? Kind(JsonNode? link) => (string?)link?["linkinfo"]?["info_kind"];

    /// <summary>The bridge port the bridge learned <paramref name="mac"/> on (its FDB), if it did.</summary>
    private static string? PortOf(Netns netns, string bridge, string mac) =>
        Fdb(netns, ["show", "br", bridge]).Where(e => (string?)e["mac"] == mac && (string?)e["ifname"] is { } port && port != bridge)
            .Select(e => (string?)e["ifname"]).FirstOrDefault();

    private static IEnumerable<JsonNode> Fdb(Netns netns, string[] arguments) =>
        Json(netns, "bridge", ["-j", "fdb", .. arguments]) is JsonArray entries ? entries.OfType<JsonNode>() : [];

    private static JsonNode? Json(Netns netns, string tool, string[] arguments)
    {
        var result = ProcessRunner.Run(netns, tool, arguments, timeout: TimeSpan.FromSeconds(10));
        if (!result.Success || result.StandardOutput.Trim().Length == 0)
        {
            return null;
        }
        try
        {
            return JsonNode.Parse(result.StandardOutput);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    [GeneratedRegex("ether saddr ([0-9a-f:]{17})")]
    private static partial Regex EtherSaddr();
}
