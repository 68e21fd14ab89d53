using System.Net;
using System.Text.RegularExpressions;
using Podnet.Kernel;

namespace Podnet.Check.Trace;

/// <summary>
/// What the trace saw on one node: the nftrace lines, the kernel's route lookup for the packet
/// there, its link layer (<see cref="LinkEvidence"/>), and the route lookup for the reply.
/// </summary>
public sealed record NodeEvidence(string Node, IReadOnlyList<NftTraceLine> Trace, string? Route, LinkEvidence? Link = null, string? ReplyRoute = null);

/// <summary>
/// The link layer of one hop, each field read from the node's kernel (null when it had no
/// answer): the bridge port the sender's MAC is learned on (FDB), the route's device with its
/// MAC and kind, the next hop's neighbour entry, the bridge port behind which the next hop's
/// MAC is learned, and for a VXLAN device the VNI and the VTEP its FDB sends the next hop's MAC to.
/// </summary>
public sealed record LinkEvidence(
    string? SourceMac = null,
    string? ArrivalPort = null,
    string? OutDevice = null,
    string? OutMac = null,
    string? OutKind = null,
    string? NextHop = null,
    string? NextHopMac = null,
    string? NeighbourState = null,
    string? NextHopPort = null,
    string? Vxlan = null);

/// <summary>Everything a trace gathered, for <see cref="TraceExplainer"/>.</summary>
public sealed record TraceFacts
{
    public required string Pod { get; init; }

    public required string PodNode { get; init; }

    public required IPAddress PodIp { get; init; }

    public required IPAddress Destination { get; init; }

    public required int Port { get; init; }

    /// <summary>The name resolution, when the target was a name: (name, answer).</summary>
    public (string Name, string Answer)? Resolved { get; init; }

    /// <summary>The Service the destination belongs to by the API, as "NS/NAME port P/PROTO (kind)".</summary>
    public string? Service { get; init; }

    /// <summary>tcp or udp.</summary>
    public string Protocol { get; init; } = "tcp";

    /// <summary>Ready endpoints of <see cref="Service"/> by its EndpointSlices (null when there is no Service).</summary>
    public int? ServiceEndpoints { get; init; }

    /// <summary>The source node's conntrack entry of the probe's connection.</summary>
    public ConntrackEntry? Conntrack { get; init; }

    /// <summary>The endpoint's owner by the API: "NS/NAME on NODE".</summary>
    public string? EndpointPod { get; init; }

    /// <summary>Node evidence in the packet's order: the source node (for the outside host: the node it sent to) first, then the endpoint's when it is another.</summary>
    public required IReadOnlyList<NodeEvidence> Nodes { get; init; }
}

/// <summary>
/// Turns what a trace gathered into its steps, top down, each with the evidence it rests on.
/// Pure. A statement the kernel did not confirm (a Service the API names but no DNAT seen in
/// conntrack, a hop with no nftrace line) is marked unconfirmed rather than left out.
/// </summary>
public static partial class TraceExplainer
{
    public static IReadOnlyList<TraceStep> Explain(TraceFacts f)
    {
        var steps = new List<TraceStep>();
        if (f.Resolved is { } r)
        {
            steps.Add(new TraceStep("L7", null, $"{r.Name} resolved to {r.Answer} by the pod's resolver", "dig in the pod", true));
        }
        var endpoint = f.Conntrack is { } ct ? new IPEndPoint(ct.ReplySource, ct.ReplySourcePort) : null;
        var dnat = endpoint is not null && (!endpoint.Address.Equals(f.Destination) || endpoint.Port != f.Port);
        if (f.Service is { } service)
        {
            steps.Add(new TraceStep("L4", f.PodNode, $"Service {service}" + (dnat ? $" -> endpoint {endpoint}{(f.EndpointPod is { } p ? $" (pod {p})" : "")}" : ", no endpoint picked"),
                f.Conntrack is { } c ? $"conntrack on {f.PodNode}: {Describe(c)}" : "API only: no conntrack entry", dnat));
        }
        if (f.Conntrack is { } entry)
        {
            if (!dnat && f.Service is null)
            {
                steps.Add(new TraceStep("L4", f.PodNode, $"{entry.Protocol} {entry.OriginalSource}:{entry.OriginalSourcePort} -> {entry.OriginalDestination}:{entry.OriginalDestinationPort}, no address translation", $"conntrack on {f.PodNode}: {Describe(entry)}", true));
            }
            if (!entry.ReplyDestination.Equals(f.PodIp))
            {
                steps.Add(new TraceStep("L4", f.PodNode, $"masqueraded: the endpoint sees {entry.ReplyDestination}:{entry.ReplyDestinationPort}", $"conntrack on {f.PodNode}", true));
            }
        }
        var dropped = false;
        foreach (var node in f.Nodes)
        {
            dropped |= AddNode(steps, f, node);
        }
        if (dropped && f.Service is { } s && f.ServiceEndpoints == 0 && !dnat)
        {
            steps.Add(new TraceStep("L4", f.PodNode, $"why: Service {s} has no ready endpoints, so the proxy rejects its traffic", "EndpointSlices (API) and the rule above (nftrace)", true));
        }
        if (!dropped)
        {
            AddReply(steps, f, endpoint, dnat);
        }
        return steps;
    }

    /// <summary>
    /// The reply, nodes in reverse order: where it arrived, the rules it met (trace's table marks
    /// packets to the source as well) and the route back; on the source node, conntrack turning
    /// the endpoint's address back into the Service's.
    /// </summary>
    private static void AddReply(List<TraceStep> steps, TraceFacts f, IPEndPoint? endpoint, bool dnat)
    {
        foreach (var node in f.Nodes.Reverse())
        {
            var reply = node.Trace.FirstOrDefault(l => l.Kind == "packet" && l.Text.Contains($"daddr {f.PodIp} ", StringComparison.Ordinal));
            if (reply is null)
            {
                steps.Add(new TraceStep("reply", node.Node, "the reply was not seen here" + (f.Conntrack is { } c && !c.ReplyDestination.Equals(f.PodIp) ? $" (it goes to {c.ReplyDestination}, the masqueraded address, which trace does not mark)" : ""), $"no nftrace line to {f.PodIp} on {node.Node}", false));
                continue;
            }
            var iif = IifRegex().Match(reply.Text) is { Success: true } m ? m.Groups[1].Value : "?";
            var from = SaddrRegex().Match(reply.Text) is { Success: true } sm ? sm.Groups[1].Value : "?";
            steps.Add(new TraceStep("reply", node.Node, $"from {from} arrived on {iif}", $"nftrace {reply.Id}", true));
            foreach (var line in FirstPacket(node.Trace, reply).Where(Telling))
            {
                steps.Add(new TraceStep("reply", node.Node, Describe(line), $"nftrace {line.Id}", true));
            }
            if (node.Node == f.PodNode && dnat && endpoint is not null)
            {
                steps.Add(new TraceStep("reply", node.Node, $"source {endpoint} turned back into {Host(f.Destination)}:{f.Port} (un-DNAT)", $"conntrack on {f.PodNode}", true));
            }
            if (node.ReplyRoute is { } route)
            {
                steps.Add(new TraceStep("reply", node.Node, "route: " + route, "ip route get from the reply's source and interface", true));
            }
        }
    }

    private static void AddLink(List<TraceStep> steps, NodeEvidence node, string iif)
    {
        if (node.Link is not { } l)
        {
            return;
        }
        if (l.SourceMac is { } mac)
        {
            steps.Add(l.ArrivalPort is { } port
                ? new TraceStep("L2", node.Node, $"frame from {mac} entered bridge {iif} on port {port}", $"FDB of {iif}", true)
                : new TraceStep("L2", node.Node, $"frame from {mac} on {iif}", "nftrace (ether saddr)", true));
        }
        if (l.OutDevice is { } dev)
        {
            var device = $"{dev}{(l.OutKind is { } k ? " (" + k + ")" : "")}{(l.OutMac is { } om ? " " + om : "")}";
            steps.Add(l.NextHopMac is { } nh
                ? new TraceStep("L2", node.Node, $"out {device} to {l.NextHop} at {nh}{(l.NeighbourState is { } st ? " (" + st + ")" : "")}", "neighbour table", true)
                : new TraceStep("L2", node.Node, $"out {device} to {l.NextHop}: no neighbour entry (not resolved yet, or resolved and expired)", "neighbour table", false));
        }
        if (l.NextHopPort is { } hopPort)
        {
            steps.Add(new TraceStep("L2", node.Node, $"{l.NextHopMac} is behind bridge port {hopPort} of {l.OutDevice}", $"FDB of {l.OutDevice}", true));
        }
        if (l.Vxlan is { } vxlan)
        {
            steps.Add(new TraceStep("L3", node.Node, $"VXLAN encapsulation: {vxlan}", $"{l.OutDevice}'s link and FDB", true));
        }
    }

    private static string Describe(NftTraceLine line) =>
        line.Kind == "rule" ? $"{line.Family} {line.Table} {line.Chain}: {line.Text} ({line.Verdict})" : $"{line.Family} {line.Table} {line.Chain}: {line.Text}";

    private static string Host(IPAddress address) => address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();

    /// <summary>This node's steps for the first packet; true when it was dropped here.</summary>
    private static bool AddNode(List<TraceStep> steps, TraceFacts f, NodeEvidence node)
    {
        // The first packet the pod sent as this node saw it (the SYN), all of its hooks under one trace id.
        var first = node.Trace.FirstOrDefault(l => l.Kind == "packet" && l.Text.Contains($"saddr {f.PodIp} ", StringComparison.Ordinal));
        if (first is null)
        {
            steps.Add(new TraceStep("L3", node.Node, "the packet was not seen here", $"no nftrace line on {node.Node}", false));
            if (node.Route is { } lookup)
            {
                steps.Add(new TraceStep("L3", node.Node, "route: " + lookup, "ip route get (the kernel's lookup, not the packet's)", false));
            }
            return false;
        }
        var lines = FirstPacket(node.Trace, first);
        var iif = IifRegex().Match(first.Text) is { Success: true } m ? m.Groups[1].Value : "?";
        steps.Add(new TraceStep("L3", node.Node, $"arrived on {iif}", $"nftrace {first.Id}", true));
        foreach (var line in lines.Where(Telling))
        {
            var layer = line.Text.Contains("nat", StringComparison.Ordinal) || line.Table.Contains("proxy", StringComparison.Ordinal) ? "L4" : "L3";
            steps.Add(new TraceStep(layer, node.Node, Describe(line), $"nftrace {line.Id}", true));
        }
        if (lines.LastOrDefault(l => l.Verdict is "drop" or "reject" || (l.Verdict?.StartsWith("reject", StringComparison.Ordinal) ?? false)) is { } dropped)
        {
            steps.Add(new TraceStep("L3", node.Node, $"DROPPED by {dropped.Family} {dropped.Table} {dropped.Chain}: {dropped.Text}", $"nftrace {dropped.Id}", true));
            return true;
        }
        if (node.Route is { } route)
        {
            steps.Add(new TraceStep("L3", node.Node, "route: " + route, "ip route get from the packet's source and interface", true));
        }
        AddLink(steps, node, iif);
        return false;
    }

    /// <summary>
    /// The lines of one packet. A packet keeps its trace id through a hook's chains, but may get
    /// a new one at a later hook (seen here: prerouting and forward of one SYN under two ids),
    /// where nft prints a fresh "packet:" line; that line is this packet's when it carries the
    /// same IPv4 id and source port (neither changes before postrouting). Trace's own table sees
    /// each packet once at prerouting before any other, so its next line under one of the
    /// packet's ids starts the next packet.
    /// </summary>
    public static IReadOnlyList<NftTraceLine> FirstPacket(IReadOnlyList<NftTraceLine> trace, NftTraceLine first)
    {
        var packet = new List<NftTraceLine>();
        var ids = new HashSet<string>(StringComparer.Ordinal) { first.Id };
        var key = PacketKey(first.Text);
        var own = true;
        foreach (var line in trace.SkipWhile(l => !ReferenceEquals(l, first)).Skip(1))
        {
            var ours = line.Table.StartsWith(TracePlan.TablePrefix, StringComparison.Ordinal);
            if (!ids.Contains(line.Id))
            {
                if (ours || line.Kind != "packet" || key is null || PacketKey(line.Text) != key)
                {
                    continue;
                }
                ids.Add(line.Id);
            }
            if (ours && !own)
            {
                break;
            }
            own = ours;
            if (!ours)
            {
                packet.Add(line);
            }
        }
        return packet;
    }

    /// <summary>What names one packet across hooks: its IPv4 id (absent in IPv6) and its source port.</summary>
    private static string? PacketKey(string text)
    {
        var id = IpIdRegex().Match(text);
        var sport = SportRegex().Match(text);
        return sport.Success ? (id.Success ? id.Groups[1].Value : "-") + "/" + sport.Groups[1].Value : null;
    }

    /// <summary>
    /// Rule lines that decide or rewrite something, and base-chain policies that drop or that
    /// are NetworkPolicy's verdict; "continue" is noise.
    /// </summary>
    private static bool Telling(NftTraceLine line) =>
        (line.Kind == "rule" && line.Verdict is not null and not "continue")
        || (line.Kind == "rule" && (line.Text.Contains("nat", StringComparison.Ordinal) || line.Text.Contains("masquerade", StringComparison.Ordinal)))
        || (line.Kind == "policy" && (line.Verdict == "drop" || line.Table.Contains("policy", StringComparison.Ordinal)));

    private static string Describe(ConntrackEntry c) =>
        $"{c.Protocol} {c.OriginalSource}:{c.OriginalSourcePort} -> {c.OriginalDestination}:{c.OriginalDestinationPort}, reply {c.ReplySource}:{c.ReplySourcePort} -> {c.ReplyDestination}:{c.ReplyDestinationPort}{(c.State is { } s ? " " + s : "")}";

    [GeneratedRegex("iif \"([^\"]+)\"")]
    private static partial Regex IifRegex();

    [GeneratedRegex(@" ip id (\d+) ")]
    private static partial Regex IpIdRegex();

    [GeneratedRegex(@"(?:tcp|udp|th) sport (\d+)")]
    private static partial Regex SportRegex();

    [GeneratedRegex(@"ip6? saddr (\S+) ")]
    private static partial Regex SaddrRegex();
}
