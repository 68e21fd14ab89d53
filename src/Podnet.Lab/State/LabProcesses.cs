using Podnet.Lab.Supervision;
using Podnet.Lab.Topology;

namespace Podnet.Lab.State;

/// <summary>
/// The processes a lab runs, as the supervisor starts them: the control plane (API server and
/// controllers, in the root namespace, with its lab listener inside the control-plane
/// namespace), and per node an agent inside the node's namespace and the node's test-server
/// process.
/// </summary>
public static class LabProcesses
{
    public const string ControlPlane = "control-plane";

    public const string Forward = "api-forward";

    public const string Controllers = "controllers";

    public static SupervisedProcess ControlPlaneProcess(LabPlan plan, LabSettings settings, LabState state, string podnet) =>
        new(ControlPlane, null, podnet,
        [
            "server", "--state", state.ControlPlaneDirectory, "--port", "0", "--bind", "127.0.0.1",
            "--lab-netns", plan.ControlPlane.Netns, "--lab-address", plan.ControlPlane.Address.Address.ToString(),
            "--lab-nodes", string.Join(',', plan.Nodes.Select(n => n.Name)),
            "--cluster-cidr", string.Join(',', ClusterCidrs(plan)),
            "--service-cidr", string.Join(',', ServiceCidrs(plan)),
            "--controllers", settings.EffectiveControllers,
            "--loadbalancer-pool", string.Join(',', plan.LoadBalancerPool),
            "--node-monitor-grace-period", settings.EffectiveNodeGrace,
        ]);

    /// <summary>
    /// With an existing API server (`lab up --kubeconfig`): the relay that brings its address into
    /// the node namespaces, and the chosen controllers, if any, as clients of that server.
    /// </summary>
    public static IReadOnlyList<SupervisedProcess> ExternalControlPlaneProcesses(LabPlan plan, LabSettings settings, LabState state, string podnet)
    {
        var processes = new List<SupervisedProcess> { new(Forward, null, podnet, ["lab", "forward", "--name", plan.Name]) };
        if (settings.EffectiveControllers != "none")
        {
            processes.Add(new(Controllers, null, podnet,
            [
                "controllers", "--kubeconfig", state.Kubeconfig, "--controllers", settings.EffectiveControllers,
                "--cluster-cidr", string.Join(',', ClusterCidrs(plan)),
                "--loadbalancer-pool", string.Join(',', plan.LoadBalancerPool),
                "--node-monitor-grace-period", settings.EffectiveNodeGrace,
            ]));
        }
        return processes;
    }

    public static IReadOnlyList<SupervisedProcess> NodeProcesses(LabPlan plan, LabSettings settings, LabState state, string podnet, string binDirectory)
    {
        var processes = new List<SupervisedProcess>();
        foreach (var node in plan.Nodes)
        {
            var dir = state.NodeDirectory(node.Name);
            var arguments = new List<string>
            {
                "agent", "--kubeconfig", settings.UsesExternalApiServer ? state.NodeKubeconfig : state.NodeKubeconfigOf(node.Name), "--node", node.Name, "--state", dir, "--cni-bin", binDirectory,
                "--pod-netns-prefix", LabPlanner.PodNetnsPrefix(plan.Name, node.Name),
                "--routing", settings.Routing, "--architecture", settings.Architecture,
                "--cluster-dns", ClusterDns(plan),
                // The Lease lasts the grace period and is renewed at a quarter of it, as kubelet
                // (40 s, every 10 s): with a shorter grace (lab up --node-grace 5s) a node renewing
                // every 10 s would go Unknown between two renewals.
                "--node-lease-duration-seconds", LeaseSeconds(settings.EffectiveNodeGrace).ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            if (!settings.UsesExternalApiServer)
            {
                // The kubelet API, with a serving certificate from the lab's CA (the API server's pki).
                arguments.AddRange(["--kubelet-pki", Path.Combine(state.ControlPlaneDirectory, "pki")]);
            }
            foreach (var address in node.Addresses)
            {
                arguments.AddRange(["--address", address.Address.ToString()]);
            }
            if (settings.PolicyDeny is { } deny)
            {
                arguments.AddRange(["--policy-deny", deny]);
            }
            if (settings.NodeZones.TryGetValue(node.Name, out var zone))
            {
                arguments.AddRange(["--node-label", "topology.kubernetes.io/zone=" + zone]);
            }
            foreach (var cidr in ClusterCidrs(plan))
            {
                arguments.AddRange(["--cluster-cidr", cidr]);
            }
            foreach (var cidr in ServiceCidrs(plan))
            {
                arguments.AddRange(["--service-cidr", cidr]);
            }
            processes.Add(new SupervisedProcess($"agent-{node.Name}", node.Netns, podnet, arguments));
            // podnet-serve (NativeAOT) does what `podnet serve --pods-dir` does in a seventh of its
            // memory: one runs in every node (bench/lab/README.md).
            processes.Add(new SupervisedProcess($"serve-{node.Name}", node.Netns, Path.Combine(binDirectory, "podnet-serve"), ["--pods-dir", Path.Combine(dir, "serve")]));
        }
        return processes;
    }

    /// <summary>The cluster DNS Service's address in pods' resolv.conf: that of the first family.</summary>
    public static string ClusterDns(LabPlan plan) => ClusterDnsAddresses(plan).First();

    /// <summary>The cluster DNS Service's addresses, one per family in the fabric's order: the tenth of each service CIDR (10.96.0.10, fd00:10:96::a).</summary>
    public static IEnumerable<string> ClusterDnsAddresses(LabPlan plan) =>
        ServiceCidrs(plan).Select(c => Core.Net.IpMath.Add(System.Net.IPNetwork.Parse(c).BaseAddress, 10).ToString());

    public static IEnumerable<string> ClusterCidrs(LabPlan plan) => plan.ClusterCidrs.Select(c => c.ToString());

    /// <summary>The service CIDRs of the lab's families, in the fabric's order.</summary>
    public static IEnumerable<string> ServiceCidrs(LabPlan plan) =>
        plan.FabricSubnets.Select(f => LabPlanner.ServiceCidrs.First(c => c.BaseAddress.AddressFamily == f.BaseAddress.AddressFamily).ToString());

    /// <summary>A node grace period (a Go duration) in whole seconds, at least 1.</summary>
    public static int LeaseSeconds(string grace) => Math.Max(1, (int)Math.Ceiling(Podnet.Core.Cluster.GoDuration.Parse(grace).TotalSeconds));
}
