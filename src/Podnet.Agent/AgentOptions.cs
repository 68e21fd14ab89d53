using System.Net;
using Podnet.Core.Cluster;

namespace Podnet.Agent;

/// <summary>What one node's agent needs to know; the lab fills it in, or flags on a real node.</summary>
public sealed record AgentOptions
{
    public required string NodeName { get; init; }

    /// <summary>The node's InternalIP addresses (one per family), published on its Node object.</summary>
    public required IReadOnlyList<IPAddress> NodeAddresses { get; init; }

    /// <summary>Where the agent keeps its state: pods, IPAM, the CNI result cache, the test server's pod list.</summary>
    public required string StateDirectory { get; init; }

    /// <summary>Directory holding podnet-cni, podnet-ipam and any chained plugin.</summary>
    public required string CniBinDirectory { get; init; }

    /// <summary>Pod namespaces are named PREFIX + a hash of the pod's uid.</summary>
    public string PodNetnsPrefix { get; init; } = "pn-p";

    public RoutingMode Routing { get; init; } = RoutingMode.HostGw;

    public Architecture Architecture { get; init; } = Architecture.Island;

    public IReadOnlyList<IPNetwork> ClusterCidrs { get; init; } = [IPNetwork.Parse("10.244.0.0/16")];

    public IReadOnlyList<IPNetwork> ServiceCidrs { get; init; } = [IPNetwork.Parse("10.96.0.0/16")];

    public string ClusterDns { get; init; } = "10.96.0.10";

    public string ClusterDomain { get; init; } = "cluster.local";

    /// <summary>What NetworkPolicy does with denied traffic: drop (the default) or reject.</summary>
    public Podnet.Policy.PolicyDeny PolicyDeny { get; init; } = Podnet.Policy.PolicyDeny.Drop;

    /// <summary>The node's link to other nodes (the VXLAN underlay).</summary>
    public string Underlay { get; init; } = "eth0";

    /// <summary>kube-proxy's health and metrics port on the node's addresses (0: not served).</summary>
    public int ProxyHealthPort { get; init; } = 10256;

    /// <summary>Labels the Node is registered with besides kubelet's own (kubelet's --node-labels), such as topology.kubernetes.io/zone.</summary>
    public IReadOnlyDictionary<string, string> NodeLabels { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// The cluster CA's directory (ca.crt, ca.key): the kubelet API issues its serving certificate
    /// from it and trusts the API server's client certificate by it. Null: no kubelet API.
    /// </summary>
    public string? KubeletPkiDirectory { get; init; }

    /// <summary>The kubelet API's port on the node's addresses (published as daemonEndpoints.kubeletEndpoint).</summary>
    public int KubeletPort { get; init; } = 10250;

    /// <summary>
    /// The node Lease's duration (kubelet's --node-lease-duration-seconds, 40); it is renewed at a
    /// quarter of it, as kubelet does, so a node monitor grace period of the same length holds.
    /// </summary>
    public int NodeLeaseDurationSeconds { get; init; } = 40;

    public string PodsDirectory => Path.Combine(StateDirectory, "pods");

    /// <summary>
    /// The machine's registry of mount points made on the host for pods' volumeMounts
    /// (<see cref="Kernel.MountPoints"/>), shared by every agent on the machine.
    /// </summary>
    public string MountPointsDirectory { get; init; } = Kernel.MountPoints.DefaultDirectory;

    public string ServeDirectory => Path.Combine(StateDirectory, "serve");

    public string IpamDirectory => Path.Combine(StateDirectory, "ipam");

    public string CniCacheDirectory => Path.Combine(StateDirectory, "cni-cache");

    public Action<string> Log { get; init; } = _ => { };
}
