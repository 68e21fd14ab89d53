using System.Net.Sockets;
using Podnet.Core.Cluster;
using Podnet.Core.Nft;

namespace Podnet.Policy;

/// <summary>One side of a connection: the pod, its node, the policies isolating it in that direction, and what they decided.</summary>
/// <param name="Rule">
/// The rule that decided: the NetworkPolicy rule that allowed it ("ns/name ingress[0]"), or the
/// ClusterNetworkPolicy rule that accepted or denied it ("cnp:name Admin/10 ingress[0] rule-name").
/// </param>
public sealed record CheckSide(string Pod, string? Node, IReadOnlyList<string> Isolating, bool Allowed, string? Rule);

/// <summary>The answer of <see cref="PolicyCheck"/>: the verdict, and each side's part in it.</summary>
public sealed record CheckResult(string Verdict, CheckSide Egress, CheckSide Ingress)
{
    public bool Allowed => Verdict == "accept";

    public IEnumerable<string> Lines()
    {
        yield return $"{Egress.Pod} -> {Ingress.Pod}: {(Allowed ? "allowed" : $"denied ({Verdict})")}";
        yield return Describe("egress", Egress);
        yield return Describe("ingress", Ingress);
    }

    private static string Describe(string direction, CheckSide side)
    {
        var head = $"  {direction} of {side.Pod} (node {side.Node ?? "none"}): ";
        if (!side.Allowed && side.Rule is not null)
        {
            return head + $"denied by {side.Rule}";
        }
        if (side.Isolating.Count == 0)
        {
            return head + (side.Rule is null ? "not isolated, allowed" : $"allowed by {side.Rule}");
        }
        return head + $"isolated by {string.Join(", ", side.Isolating)}; " + (side.Allowed ? $"allowed by {side.Rule}" : "no rule of these policies allows it");
    }
}

/// <summary>
/// Explains a verdict without a kernel: compiles the plans of the sender's and the receiver's
/// nodes, loads them into an in-memory <see cref="NftState"/> and sends the connection's first
/// packet through the tracer, then reads which chain decided and which rule allowed (each rule
/// carries its policy and rule index as a comment).
/// </summary>
public static class PolicyCheck
{
    public static CheckResult Check(PolicySnapshot snapshot, IReadOnlyList<AddressFamily> families, PolicyDeny deny, PodInfo from, PodInfo to, int port, string protocol)
    {
        var family = from.Addresses.Select(a => a.AddressFamily).Intersect(to.Addresses.Select(a => a.AddressFamily)).FirstOrDefault();
        if (family == AddressFamily.Unspecified || from.Addresses.Count == 0 || to.Addresses.Count == 0)
        {
            throw new ArgumentException($"{from.Key} and {to.Key} have no address family in common (do both have addresses?)");
        }
        var packet = new NftPacket(from.Addresses.First(a => a.AddressFamily == family), to.Addresses.First(a => a.AddressFamily == family), protocol.ToLowerInvariant(), 40000, port);
        var egress = Side(snapshot, families, deny, from, packet, Direction.Egress);
        var ingress = Side(snapshot, families, deny, to, packet, Direction.Ingress);
        var verdict = !egress.Side.Allowed ? egress.Verdict : ingress.Verdict;
        return new CheckResult(verdict, egress.Side, ingress.Side);
    }

    private static (CheckSide Side, string Verdict) Side(PolicySnapshot snapshot, IReadOnlyList<AddressFamily> families, PolicyDeny deny, PodInfo pod, NftPacket packet, Direction direction)
    {
        if (pod.NodeName is null)
        {
            return (new CheckSide(pod.Key, null, [], true, null), "accept");
        }
        var plan = PolicyCompiler.Compile(snapshot, new PolicyNode(pod.NodeName, families, deny));
        var isolating = (direction == Direction.Ingress ? plan.IngressIsolation : plan.EgressIsolation).GetValueOrDefault(pod.Key) ?? [];
        var state = new NftState();
        state.Apply(plan.ToTransaction());
        // Each side is judged alone: the other direction's maps are emptied, so a sender on the
        // receiver's node cannot hide the receiver's verdict, nor the reverse.
        var table = state.Table(PolicyNames.Table)!;
        foreach (var f in families)
        {
            table.Sets[direction == Direction.Ingress ? PolicyNames.EgressMap(f) : PolicyNames.IngressMap(f)].Elements.Clear();
        }
        var result = new NftTracer(state, []).Trace(packet).Single();
        var decidedHere = result.Verdict != NftVerdictKind.Accept && result.Decided is { } decided && PolicyNames.Judges(decided.Chain, direction);
        // Allowed: the last rule that returned (a NetworkPolicy rule, or a CNP Accept; a CNP
        // Pass ends in goto). Denied: the rule that dropped (a CNP Deny has a comment; the end
        // of a NetworkPolicy chain has none).
        var point = decidedHere
            ? result.Decided
            : result.Matched.LastOrDefault(m => PolicyNames.Judges(m.Chain, direction) && m.Text.EndsWith("return", StringComparison.Ordinal));
        var rule = point is null || point.Rule < 0 ? null : plan.Chains[point.Chain].Rules[point.Rule].Comment;
        return (new CheckSide(pod.Key, pod.NodeName, isolating, !decidedHere, rule), decidedHere ? result.Verdict.ToString().ToLowerInvariant() : "accept");
    }
}
