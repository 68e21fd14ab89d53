using System.Net.Sockets;
using Podnet.Core.Cluster;

namespace Podnet.Policy;

/// <summary>One pair in <see cref="PolicyReach"/>: the other pod, the port tried, and the verdict with each side's part.</summary>
public sealed record ReachEntry(string Peer, int Port, string Protocol, CheckResult Result);

/// <summary>Who may open connections to a pod, and to whom it may: <see cref="PolicyCheck"/> over every other pod.</summary>
public sealed record ReachReport(string Pod, IReadOnlyList<ReachEntry> Inbound, IReadOnlyList<ReachEntry> Outbound);

/// <summary>
/// For one pod, the verdict of a new connection from every other running pod to each of its
/// ports, and from it to each port of every other pod (pure; each verdict from
/// <see cref="PolicyCheck"/>, so from the same compiled rules the agents load).
/// </summary>
/// <remarks>
/// Design: policy decides per port, so a pair is judged on the receiver's declared container
/// ports (TCP, UDP, SCTP as declared). A pod that declares none is judged on port 80/TCP, and the
/// report says so through the port; a policy naming other ports is then not exercised for it.
/// Host-network and finished pods are left out: policy treats the first as their node's traffic
/// and the second as gone.
/// </remarks>
public static class PolicyReach
{
    public const int DefaultPort = 80;

    public static ReachReport For(PolicySnapshot snapshot, IReadOnlyList<AddressFamily> families, PolicyDeny deny, string podKey)
    {
        var pods = snapshot.Pods.Where(p => !p.HostNetwork && !p.Finished && p.Addresses.Count > 0).ToArray();
        var pod = pods.FirstOrDefault(p => p.Key == podKey) ?? throw new ArgumentException($"no running pod {podKey} with an address");
        var others = pods.Where(p => p.Key != podKey && p.Addresses.Any(a => pod.Addresses.Any(b => a.AddressFamily == b.AddressFamily))).OrderBy(p => p.Key, StringComparer.Ordinal).ToArray();
        var inbound = others.SelectMany(peer => Ports(pod).Select(port => new ReachEntry(peer.Key, port.Port, port.Protocol,
            PolicyCheck.Check(snapshot, families, deny, peer, pod, port.Port, port.Protocol)))).ToList();
        var outbound = others.SelectMany(peer => Ports(peer).Select(port => new ReachEntry(peer.Key, port.Port, port.Protocol,
            PolicyCheck.Check(snapshot, families, deny, pod, peer, port.Port, port.Protocol)))).ToList();
        return new ReachReport(podKey, inbound, outbound);
    }

    private static IEnumerable<(int Port, string Protocol)> Ports(PodInfo pod)
    {
        var declared = pod.Ports.Select(p => (p.Port, p.Protocol.ToLowerInvariant())).Distinct().ToArray();
        return declared.Length > 0 ? declared : [(DefaultPort, "tcp")];
    }
}
