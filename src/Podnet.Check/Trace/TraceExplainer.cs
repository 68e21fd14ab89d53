using System.Net;
using System.Text.RegularExpressions;
using Podnet.Kernel;

namespace Podnet.Check.Trace;

/// <summary>What the trace saw on one node: the nftrace lines, and the kernel's route lookup for the packet there.</summary>
public sealed record NodeEvidence(string Node, IReadOnlyList<NftTraceLine> Trace, string? Route);

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

    /// <summary>The source node's conntrack entry of the probe's connection.</summary>
    public ConntrackEntry? Conntrack { get; init; }

    /// <summary>The endpoint's owner by the API: "NS/NAME on NODE".</summary>
    public string? EndpointPod { get; init; }

    /// <summary>Node evidence in the packet's order: the source node first, then the endpoint's when it is another.</summary>
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
                steps.Add(new TraceStep("L4", f.PodNode, $"tcp {entry.OriginalSource}:{entry.OriginalSourcePort} -> {entry.OriginalDestination}:{entry.OriginalDestinationPort}, no address translation", $"conntrack on {f.PodNode}: {Describe(entry)}", true));
            }
            if (!entry.ReplyDestination.Equals(f.PodIp))
            {
                steps.Add(new TraceStep("L4", f.PodNode, $"masqueraded: the endpoint sees {entry.ReplyDestination}:{entry.ReplyDestinationPort}", $"conntrack on {f.PodNode}", true));
            }
        }
        foreach (var node in f.Nodes)
        {
            AddNode(steps, f, node);
        }
        return steps;
    }

    private static void AddNode(List<TraceStep> steps, TraceFacts f, NodeEvidence node)
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
            return;
        }
        var lines = FirstPacket(node.Trace, first);
        var iif = IifRegex().Match(first.Text) is { Success: true } m ? m.Groups[1].Value : "?";
        steps.Add(new TraceStep("L3", node.Node, $"arrived on {iif}", $"nftrace {first.Id}", true));
        foreach (var line in lines.Where(Telling))
        {
            var layer = line.Text.Contains("nat", StringComparison.Ordinal) || line.Table.Contains("proxy", StringComparison.Ordinal) ? "L4" : "L3";
            var what = line.Kind == "rule" ? $"{line.Family} {line.Table} {line.Chain}: {line.Text} ({line.Verdict})" : $"{line.Family} {line.Table} {line.Chain}: {line.Text}";
            steps.Add(new TraceStep(layer, node.Node, what, $"nftrace {line.Id}", true));
        }
        if (lines.LastOrDefault(l => l.Verdict is "drop" or "reject" || (l.Verdict?.StartsWith("reject", StringComparison.Ordinal) ?? false)) is { } dropped)
        {
            steps.Add(new TraceStep("L3", node.Node, $"DROPPED by {dropped.Family} {dropped.Table} {dropped.Chain}: {dropped.Text}", $"nftrace {dropped.Id}", true));
        }
        else if (node.Route is { } route)
        {
            steps.Add(new TraceStep("L3", node.Node, "route: " + route, "ip route get from the packet's source and interface", true));
        }
    }

    /// <summary>
    /// The lines of one packet: a flow's packets share a trace id, and trace's own table sees
    /// each packet once at prerouting before any other, so its next line under the same id
    /// starts the next packet.
    /// </summary>
    public static IReadOnlyList<NftTraceLine> FirstPacket(IReadOnlyList<NftTraceLine> trace, NftTraceLine first)
    {
        var packet = new List<NftTraceLine>();
        var own = true;
        foreach (var line in trace.SkipWhile(l => !ReferenceEquals(l, first)).Skip(1).Where(l => l.Id == first.Id))
        {
            var ours = line.Table.StartsWith(TracePlan.TablePrefix, StringComparison.Ordinal);
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
}
