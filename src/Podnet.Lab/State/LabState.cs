using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Podnet.Core.Cluster;
using Podnet.Lab.Topology;

namespace Podnet.Lab.State;

/// <summary>The settings a lab was made with, kept in its state directory so it can be resumed.</summary>
public sealed record LabSettings
{
    public string Name { get; init; } = LabName.Default;

    public int Nodes { get; init; } = 3;

    public string IpFamily { get; init; } = "ipv4";

    public string Routing { get; init; } = "host-gw";

    public string Architecture { get; init; } = "island";

    public Dictionary<string, int> LinkLoss { get; init; } = [];

    public Dictionary<string, int> NodeSubnets { get; init; } = [];

    /// <summary>topology.kubernetes.io/zone of each node that has one (lab file: spec.nodeOptions.NODE.zone).</summary>
    public Dictionary<string, string> NodeZones { get; init; } = [];

    /// <summary>
    /// Where `lab up --kubeconfig` found an existing API server's kubeconfig (a copy is kept in
    /// the state directory): the lab then starts no API server of its own.
    /// </summary>
    public string? ExternalKubeconfig { get; init; }

    /// <summary>The controllers the lab runs, comma-separated (or all, none); unset: all with Podnet's own API server, none with an existing one.</summary>
    public string? Controllers { get; init; }

    public bool UsesExternalApiServer => ExternalKubeconfig is not null;

    /// <summary>The controllers to run, as `--controllers` takes them.</summary>
    public string EffectiveControllers => Controllers ?? (UsesExternalApiServer ? "none" : "all");

    /// <summary>
    /// How long a node may go without renewing its Lease before the node lifecycle controller
    /// marks it Unknown (`lab up --node-grace`, spec.nodeGrace), as a duration like 5s; null
    /// for upstream's 40s.
    /// </summary>
    public string? NodeGrace { get; init; }

    /// <summary>The grace period to pass as --node-monitor-grace-period.</summary>
    public string EffectiveNodeGrace => NodeGrace ?? "40s";

    /// <summary>Checks a node grace period: a duration longer than 0 (<see cref="FormatException"/> saying what is wrong).</summary>
    public static void CheckNodeGrace(string text)
    {
        if (GoDuration.Parse(text) <= TimeSpan.Zero)
        {
            throw new FormatException($"'{text}' must be longer than 0");
        }
    }

    /// <summary>
    /// What the agents' NetworkPolicy enforcement does with denied traffic, drop (the default,
    /// as Calico and Cilium) or reject (`lab up --policy-deny`, spec.policyDeny: a refused TCP
    /// connection or an ICMP error instead of a timeout); null for drop.
    /// </summary>
    public string? PolicyDeny { get; init; }

    /// <summary>The cluster's pod CIDRs, comma-separated (one per family); null for the defaults.</summary>
    public string? PodCidr { get; init; }

    /// <summary>The shared network the lab attaches to (<c>--network</c>); null for a lab on its own.</summary>
    public string? Network { get; init; }

    /// <summary>The lab's slot on <see cref="Network"/>, once the network allocated it.</summary>
    public int? NetworkSlot { get; init; }

    /// <summary>
    /// Where the cluster DNS forwards names outside the cluster zone, comma-separated (address,
    /// address:port or [address]:port); null for nowhere: such names get SERVFAIL at once, as a
    /// lab must send no packet beyond its namespaces unless the user names a server.
    /// </summary>
    public string? DnsUpstreams { get; init; }

    /// <summary>The entries of <see cref="DnsUpstreams"/>; each must be an address or an address with a port.</summary>
    public static IReadOnlyList<string> SplitUpstreams(string? text)
    {
        var entries = (text ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        foreach (var entry in entries)
        {
            var isAddress = IPAddress.TryParse(entry, out _) && !entry.StartsWith('[');
            if (!isAddress && !(IPEndPoint.TryParse(entry, out var endPoint) && endPoint.Port > 0))
            {
                throw new ArgumentException($"DNS upstream '{entry}' is not an address, address:port or [address]:port");
            }
        }
        return entries;
    }

    public LabSpec ToSpec() => new()
    {
        Architecture = ArchitectureMode,
        PodCidrs = PodCidr is null ? null : ParsePodCidrs(PodCidr),
        Network = Network is null ? null : new NetworkAttachment(Network, NetworkSlot ?? 0),
        Name = Name,
        Nodes = Nodes,
        IpFamily = IpFamily switch
        {
            "ipv4" => IpFamilies.IPv4,
            "ipv6" => IpFamilies.IPv6,
            "dual" => IpFamilies.Dual,
            _ => throw new ArgumentException($"ip family '{IpFamily}' is not one of ipv4, ipv6, dual"),
        },
        Routing = Routing switch
        {
            "host-gw" => RoutingMode.HostGw,
            "vxlan" => RoutingMode.Vxlan,
            _ => throw new ArgumentException($"routing '{Routing}' is not one of host-gw, vxlan"),
        },
        LinkLoss = LinkLoss,
        NodeSubnets = NodeSubnets,
    };

    private static IPNetwork[] ParsePodCidrs(string text) =>
        text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(c => c.Contains('/') && IPNetwork.TryParse(c, out var n) && n.BaseAddress.Equals(IPAddress.Parse(c[..c.IndexOf('/')]))
                ? n
                : throw new ArgumentException($"pod CIDR '{c}' is not a network address with a prefix length (like 10.245.0.0/16)"))
            .ToArray();

    public Architecture ArchitectureMode => Architecture switch
    {
        "island" => Core.Cluster.Architecture.Island,
        "flat" => Core.Cluster.Architecture.Flat,
        "isolated" => Core.Cluster.Architecture.Isolated,
        _ => throw new ArgumentException($"architecture '{Architecture}' is not one of island, flat, isolated"),
    };
}

/// <summary>
/// Where a lab keeps everything: /var/lib/podnet/labs/NAME (or under $PODNET_LAB_ROOT), with
/// its settings, the control plane's state (cp/), each node's agent state (nodes/nI/), the
/// processes' logs and pids, and the supervisor's own log and pid.
/// </summary>
public sealed class LabState(string name)
{

    public static string Root => Environment.GetEnvironmentVariable("PODNET_LAB_ROOT") is { Length: > 0 } root ? root : "/var/lib/podnet/labs";

    public string Name { get; } = LabName.Validate(name);

    public string Directory => Path.Combine(Root, Name);

    public string SettingsPath => Path.Combine(Directory, "lab.json");

    public string ControlPlaneDirectory => Path.Combine(Directory, "cp");

    /// <summary>The kubeconfig for users, pointing at the API server's loopback listener in the root namespace.</summary>
    public string Kubeconfig => Path.Combine(ControlPlaneDirectory, "kubeconfig");

    /// <summary>With `lab up --kubeconfig`, the nodes' kubeconfig: a copy of the existing API server's (a lab of its own gives each node one, <see cref="NodeKubeconfigOf"/>).</summary>
    public string NodeKubeconfig => Path.Combine(ControlPlaneDirectory, "kubeconfig-lab");

    /// <summary>A node agent's kubeconfig: the fabric address and a client certificate for system:node:NODE in system:nodes.</summary>
    public string NodeKubeconfigOf(string node) => Path.Combine(ControlPlaneDirectory, $"kubeconfig-node-{node}");

    /// <summary>The copy of an existing API server's kubeconfig (`lab up --kubeconfig`).</summary>
    public string ExternalKubeconfigCopy => Path.Combine(Directory, "external-kubeconfig");

    public string NodeDirectory(string node) => Path.Combine(Directory, "nodes", node);

    public string SupervisorPidPath => Path.Combine(Directory, "supervisor.pid");

    public string SupervisorLog => Path.Combine(Directory, "supervisor.log");

    public bool Exists => File.Exists(SettingsPath);

    public static IReadOnlyList<string> List() =>
        System.IO.Directory.Exists(Root)
            ? System.IO.Directory.GetDirectories(Root).Where(d => File.Exists(Path.Combine(d, "lab.json"))).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray()
            : [];

    public LabSettings LoadSettings() =>
        JsonSerializer.Deserialize(File.ReadAllText(SettingsPath), LabStateJson.Default.LabSettings) ?? throw new InvalidDataException($"{SettingsPath} is empty");

    public void SaveSettings(LabSettings settings)
    {
        System.IO.Directory.CreateDirectory(Directory);
        File.WriteAllText(SettingsPath + ".tmp", JsonSerializer.Serialize(settings, LabStateJson.Default.LabSettings));
        File.Move(SettingsPath + ".tmp", SettingsPath, overwrite: true);
    }

    /// <summary>The supervisor's pid when it is running.</summary>
    public int? SupervisorPid =>
        File.Exists(SupervisorPidPath) && int.TryParse(File.ReadAllText(SupervisorPidPath).Trim(), out var pid) && Kernel.ProcessSignals.IsAlive(pid) ? pid : null;
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(LabSettings))]
internal sealed partial class LabStateJson : JsonSerializerContext;
