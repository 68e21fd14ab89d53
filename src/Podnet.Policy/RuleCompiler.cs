using System.Net.Sockets;
using Podnet.Core.Cluster;
using Podnet.Core.Nft;

namespace Podnet.Policy;

/// <summary>
/// One NetworkPolicy rule in one family as nft rule texts: every combination of a peer match
/// (pods by selectors, ipBlocks, or any) and a port match (a number, a range, a protocol, the
/// named ports, or any), each ending in a verdict (for a NetworkPolicy
/// <c>return</c>: "allowed"; a ClusterNetworkPolicy rule gives its action's verdict).
/// </summary>
/// <remarks>
/// Peers and named ports become shared sets named by what they are compiled from, so two
/// policies with the same selector use one set. Named ports are resolved on the destination
/// pod (the isolated pod for ingress, the peer for egress) by name and protocol, over every pod:
/// the set holds "address . protocol . port" for each pod that serves the name, and the rule
/// keeps its peer match, so a pod that does not serve the name is matched by nothing.
/// </remarks>
internal static class RuleCompiler
{
    public static IEnumerable<string> Texts(CompileContext context, Direction direction, string policyNamespace, PolicyRuleInfo rule, AddressFamily family, string verdict = "return")
    {
        var peers = PeerMatches(context, direction, policyNamespace, rule, family);
        var ports = PortMatches(context, rule, family);
        foreach (var peer in peers)
        {
            foreach (var port in ports)
            {
                yield return string.Join(' ', new[] { peer, port, verdict }.Where(s => s.Length > 0));
            }
        }
    }

    private static List<string> PeerMatches(CompileContext context, Direction direction, string policyNamespace, PolicyRuleInfo rule, AddressFamily family)
    {
        if (rule.Peers.Count == 0)
        {
            return [""];
        }
        var field = $"{PolicyNames.IpKeyword(family)} {(direction == Direction.Ingress ? "saddr" : "daddr")}";
        var type = PolicyNames.AddressType(family);
        var matches = new List<string>();
        var selectors = rule.Peers.Where(p => p.IpBlock is null && (p.PodSelector is not null || p.NamespaceSelector is not null)).ToArray();
        if (selectors.Length > 0)
        {
            var key = string.Join("\n", selectors.Select(p => PeerKey(policyNamespace, p)).Distinct().Order(StringComparer.Ordinal));
            var name = context.Set(PolicyNames.SharedSet("pods", family, key), type, NftSetFlags.None, () =>
                context.SelectedBy(policyNamespace, selectors)
                    .SelectMany(pod => pod.Addresses.Where(a => a.AddressFamily == family))
                    .Select(a => a.ToString()));
            matches.Add($"{field} @{name}");
        }
        var blocks = rule.Peers.Select(p => p.IpBlock).OfType<IpBlockInfo>().Where(b => b.Cidr.BaseAddress.AddressFamily == family).ToArray();
        if (blocks.Length > 0)
        {
            var key = string.Join("\n", blocks.Select(b => $"{b.Cidr} except {string.Join(",", b.Except.Select(e => e.ToString()).Order(StringComparer.Ordinal))}").Distinct().Order(StringComparer.Ordinal));
            var name = context.Set(PolicyNames.SharedSet("cidr", family, key), type, NftSetFlags.Interval, () => AddressRanges.Elements(blocks, family));
            matches.Add($"{field} @{name}");
        }
        return matches;
    }

    private static string PeerKey(string policyNamespace, PolicyPeerInfo peer) => peer.NamespaceSelector is null
        ? $"ns={policyNamespace} pods={peer.PodSelector!.Canonical}"
        : $"nss={peer.NamespaceSelector.Canonical} pods={peer.PodSelector?.Canonical ?? "*"}";

    private static List<string> PortMatches(CompileContext context, PolicyRuleInfo rule, AddressFamily family)
    {
        if (rule.Ports.Count == 0)
        {
            return [""];
        }
        var matches = new List<string>();
        foreach (var port in rule.Ports.Where(p => p.PortName is null))
        {
            if (Protocol(port.Protocol) is not { } proto)
            {
                continue; // a protocol nft cannot match by port matches nothing
            }
            if (port.Port is not { } number)
            {
                matches.Add($"meta l4proto {proto}");
            }
            else if (port.EndPort is { } end && end > number)
            {
                matches.Add($"{proto} dport {number}-{end}");
            }
            else if (port.EndPort is null || port.EndPort == number)
            {
                matches.Add($"{proto} dport {number}");
            }
            // endPort below port is refused by validation; it matches nothing here.
        }
        var named = rule.Ports.Where(p => p.PortName is not null && Protocol(p.Protocol) is not null)
            .Select(p => (Name: p.PortName!, Protocol: p.Protocol.ToUpperInvariant())).Distinct().ToArray();
        if (named.Length > 0)
        {
            var key = string.Join(",", named.Select(n => $"{n.Protocol}/{n.Name}").Order(StringComparer.Ordinal));
            var type = $"{PolicyNames.AddressType(family)} . inet_proto . inet_service";
            var name = context.Set(PolicyNames.SharedSet("port", family, key), type, NftSetFlags.None, () =>
                from pod in context.Peers
                from address in pod.Addresses.Where(a => a.AddressFamily == family)
                from port in pod.Ports
                where named.Contains((port.Name, port.Protocol)) && port.Name.Length > 0
                select $"{address} . {Protocol(port.Protocol)} . {port.Port}");
            matches.Add($"{PolicyNames.IpKeyword(family)} daddr . meta l4proto . th dport @{name}");
        }
        return matches;
    }

    private static string? Protocol(string protocol) => protocol.ToUpperInvariant() switch
    {
        "TCP" => "tcp",
        "UDP" => "udp",
        "SCTP" => "sctp",
        _ => null,
    };
}
