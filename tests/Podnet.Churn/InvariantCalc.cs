using System.Net;

namespace Podnet.Churn;

/// <summary>A pod the API says exists, bound to a node: what the node must hold for it and nothing more.</summary>
public sealed record LivePod(string Uid, string Namespace, string Name, string Node, string Netns, IReadOnlyList<IPAddress> Addresses, bool Terminating);

/// <summary>A process seen on the machine: its network namespace's name (null: unnamed) and whether its command line names the lab's node state.</summary>
public sealed record SeenProcess(int Pid, string Command, string? NetnsName, bool InRootNetns, bool MentionsLabNodes);

/// <summary>A veth in a node namespace and the name of the namespace holding its peer (null: unnamed or gone).</summary>
public sealed record SeenVeth(string Name, string? PeerNetns);

/// <summary>What one node holds, as read from the kernel and its state directory.</summary>
public sealed record NodeObservation(
    string Node,
    IReadOnlyDictionary<IPAddress, string> Reservations,
    IReadOnlyList<string> PodNetns,
    IReadOnlyList<SeenVeth> Veths,
    IReadOnlyList<string> PodMounts,
    IReadOnlyList<(IPAddress Endpoint, string Entry)> Conntrack);

/// <summary>One broken invariant: which, where, and what leaked or is missing.</summary>
public sealed record Breach(string Invariant, string Where, string What)
{
    public override string ToString() => $"{Invariant} [{Where}]: {What}";
}

/// <summary>
/// The invariants of issue 23 that compare what nodes hold with the pods the API lists; pure,
/// so that each rule is unit-tested. The kernel and files are read by <see cref="InvariantChecker"/>.
/// </summary>
/// <remarks>
/// A pod is live when the API lists it with a node. Everything a node holds must belong to a
/// live pod of that node (no leak), and a live pod must hold its address reservation (nothing
/// lost). Conntrack entries count when they last (UDP, refreshed by every packet; established
/// TCP, five days): a TCP entry still opening or already closing towards a deleted pod (a
/// request sent while a fault lasted) expires within two minutes by itself, so it is left out.
/// </remarks>
public static class InvariantCalc
{
    public static IReadOnlyList<Breach> CheckNode(NodeObservation node, IReadOnlyList<LivePod> pods)
    {
        var breaches = new List<Breach>();
        var mine = pods.Where(p => p.Node == node.Node).ToList();
        var byAddress = mine.SelectMany(p => p.Addresses.Select(a => (a, p))).GroupBy(x => x.a).ToDictionary(g => g.Key, g => g.First().p);
        foreach (var (address, owner) in node.Reservations.OrderBy(r => r.Key.ToString(), StringComparer.Ordinal))
        {
            if (!byAddress.ContainsKey(address))
            {
                breaches.Add(new("ipam", node.Node, $"address {address} reserved by {owner} for no live pod"));
            }
        }
        foreach (var pod in mine)
        {
            if (pod.Addresses.Count == 0)
            {
                breaches.Add(new("ipam", node.Node, $"pod {pod.Namespace}/{pod.Name} has no address"));
            }
            foreach (var address in pod.Addresses.Where(a => !node.Reservations.ContainsKey(a)))
            {
                breaches.Add(new("ipam", node.Node, $"pod {pod.Namespace}/{pod.Name}'s address {address} is not reserved (could be handed out again)"));
            }
            if (pod.Terminating)
            {
                breaches.Add(new("settled", node.Node, $"pod {pod.Namespace}/{pod.Name} is still terminating"));
            }
        }
        var liveNetns = mine.Select(p => p.Netns).ToHashSet(StringComparer.Ordinal);
        foreach (var netns in node.PodNetns.Where(n => !liveNetns.Contains(n)))
        {
            breaches.Add(new("netns", node.Node, $"pod namespace {netns} without a live pod"));
        }
        foreach (var pod in mine.Where(p => !node.PodNetns.Contains(p.Netns)))
        {
            breaches.Add(new("netns", node.Node, $"pod {pod.Namespace}/{pod.Name} has no namespace {pod.Netns}"));
        }
        foreach (var veth in node.Veths.Where(v => v.PeerNetns is null || !liveNetns.Contains(v.PeerNetns)))
        {
            breaches.Add(new("veth", node.Node, $"veth {veth.Name} with its peer in {veth.PeerNetns ?? "no named namespace"}, not a live pod's"));
        }
        var liveUids = mine.Select(p => p.Uid).ToHashSet(StringComparer.Ordinal);
        foreach (var mount in node.PodMounts.Where(m => !liveUids.Any(u => m.Contains("/pods/" + u + "/", StringComparison.Ordinal))))
        {
            breaches.Add(new("mount", node.Node, $"mount {mount} of no live pod"));
        }
        var everyLiveAddress = pods.SelectMany(p => p.Addresses).ToHashSet();
        foreach (var (endpoint, entry) in node.Conntrack.Where(c => !everyLiveAddress.Contains(c.Endpoint)))
        {
            breaches.Add(new("conntrack", node.Node, $"entry towards deleted endpoint {endpoint}: {entry}"));
        }
        return breaches;
    }

    /// <summary>Processes of the lab in a namespace of no live pod: a deleted pod's, or one with no name left.</summary>
    public static IReadOnlyList<Breach> CheckProcesses(IReadOnlyList<SeenProcess> processes, IReadOnlyList<LivePod> pods, string podNetnsPrefix)
    {
        var live = pods.Select(p => p.Netns).ToHashSet(StringComparer.Ordinal);
        var breaches = new List<Breach>();
        foreach (var process in processes)
        {
            if (process.NetnsName is { } name && name.StartsWith(podNetnsPrefix, StringComparison.Ordinal) && name.Contains("-p", StringComparison.Ordinal) && !live.Contains(name))
            {
                breaches.Add(new("process", name, $"pid {process.Pid} ({process.Command}) in the namespace of no live pod"));
            }
            else if (process.NetnsName is null && !process.InRootNetns && process.MentionsLabNodes)
            {
                breaches.Add(new("process", "unnamed namespace", $"pid {process.Pid} ({process.Command}) in a network namespace the lab no longer names"));
            }
        }
        return breaches;
    }

    /// <summary>
    /// The difference between the nft table a planner computes from the API and the kernel's, both
    /// in <see cref="Podnet.Core.Nft.NftState.Dump"/>'s form; lines under a set whose name starts with
    /// one of <paramref name="dynamicSets"/> (filled by packets, not by the planner) are left out.
    /// </summary>
    public static IReadOnlyList<Breach> CompareTable(string node, string table, string planned, string kernel, params string[] dynamicSets)
    {
        var want = Lines(planned, dynamicSets);
        var have = Lines(kernel, dynamicSets);
        var breaches = new List<Breach>();
        foreach (var line in have.Except(want))
        {
            breaches.Add(new("nft", $"{node} {table}", $"in the kernel, not planned from the API: {line}"));
        }
        foreach (var line in want.Except(have))
        {
            breaches.Add(new("nft", $"{node} {table}", $"planned from the API, missing in the kernel: {line}"));
        }
        return breaches;
    }

    /// <summary>nft lists the members of an anonymous set (<c>{ b, a }</c>) sorted, whatever order the rule gave them.</summary>
    public static string SortAnonymousSets(string rule) =>
        System.Text.RegularExpressions.Regex.Replace(rule, @"\{ ([^{};]*,[^{};]*) \}", m => "{ " + string.Join(", ", m.Groups[1].Value.Split(", ").Order(StringComparer.Ordinal)) + " }");

    /// <summary>The table a planner's dump holds ("ip podnet-proxy"), from its first line.</summary>
    public static string TableOf(string dump) => dump.Split('\n')[0]["table ".Length..].Trim();

    /// <summary>The block of one table ("inet podnet-proxy") in a dump of several; empty when it is not there.</summary>
    public static string TableBlock(string dump, string table)
    {
        var text = new System.Text.StringBuilder();
        var inside = false;
        foreach (var line in dump.Split('\n'))
        {
            if (line.StartsWith("table ", StringComparison.Ordinal))
            {
                inside = line.TrimEnd() == "table " + table;
            }
            if (inside)
            {
                text.Append(line).Append('\n');
            }
        }
        return text.ToString();
    }

    /// <summary>Each line with the set or chain it belongs to, so that the same element in two sets stays two lines.</summary>
    private static HashSet<string> Lines(string dump, string[] dynamicSets)
    {
        var lines = new HashSet<string>(StringComparer.Ordinal);
        var header = "";
        var skip = false;
        foreach (var raw in dump.Split('\n'))
        {
            var line = raw.TrimEnd();
            if (line.Length == 0)
            {
                continue;
            }
            if (!line.StartsWith("    ", StringComparison.Ordinal))
            {
                header = line.Trim();
                skip = dynamicSets.Any(d => header.StartsWith("set " + d, StringComparison.Ordinal) || header.StartsWith("map " + d, StringComparison.Ordinal));
                if (!skip)
                {
                    lines.Add(header);
                }
                continue;
            }
            if (!skip)
            {
                lines.Add(header + " | " + SortAnonymousSets(line.Trim()));
            }
        }
        return lines;
    }
}
