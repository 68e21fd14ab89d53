using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using k8s;
using Podnet.Agent;
using Podnet.Core.Cluster;

namespace Podnet.Cli.Commands;

/// <summary>`podnet agent`: the per-node agent. The lab starts one inside each node's namespace.</summary>
internal static class AgentCommand
{
    public static Command Create()
    {
        var mode = new Option<string>("--mode") { Description = "lab (the agent registers the node and runs its pods) or cluster (kubelet and the runtime do; the agent installs the CNI plugin). Default: cluster inside a pod (in-cluster service account), else lab." };
        mode.AcceptOnlyFromAmong("lab", "cluster");
        var kubeconfig = new Option<string>("--kubeconfig") { Description = "The cluster to join (in cluster mode, default: the in-cluster service account)." };
        var node = new Option<string>("--node") { Description = "This node's name.", Required = true };
        var addresses = new Option<string[]>("--address") { Description = "This node's InternalIP (repeat for each family); in cluster mode, default: the Node's InternalIPs." };
        var state = new Option<string>("--state") { Description = "The agent's state directory (cluster mode: a path that is the same on the host, for podnet-ipam's data).", DefaultValueFactory = _ => "/var/lib/podnet/agent" };
        var cniBin = new Option<string>("--cni-bin") { Description = "Directory with podnet-cni, podnet-ipam and chained plugins (cluster mode: where podnet-cni is installed from; default: beside podnet)." };
        var cniBinDir = new Option<string>("--cni-bin-dir") { Description = "Cluster mode: the host's CNI bin directory, where podnet-cni and podnet-ipam are installed.", DefaultValueFactory = _ => "/opt/cni/bin" };
        var cniConfDir = new Option<string>("--cni-conf-dir") { Description = "Cluster mode: the host's CNI config directory, where the node's conflist is written.", DefaultValueFactory = _ => "/etc/cni/net.d" };
        var prefix = new Option<string>("--pod-netns-prefix") { Description = "Prefix of pod namespace names.", DefaultValueFactory = _ => "pn-p" };
        var routing = new Option<string>("--routing") { Description = "host-gw or vxlan.", DefaultValueFactory = _ => "host-gw" };
        routing.AcceptOnlyFromAmong("host-gw", "vxlan");
        var architecture = new Option<string>("--architecture") { Description = "island, flat or isolated.", DefaultValueFactory = _ => "island" };
        architecture.AcceptOnlyFromAmong("island", "flat", "isolated");
        var clusterCidr = new Option<string[]>("--cluster-cidr") { Description = "Pod CIDR of the cluster (repeat per family, or comma-separated).", DefaultValueFactory = _ => ["10.244.0.0/16"] };
        var serviceCidr = new Option<string[]>("--service-cidr") { Description = "Service CIDR (repeat per family, or comma-separated).", DefaultValueFactory = _ => ["10.96.0.0/16"] };
        var clusterDns = new Option<string>("--cluster-dns") { Description = "The cluster DNS Service's address.", DefaultValueFactory = _ => "10.96.0.10" };
        var clusterDomain = new Option<string>("--cluster-domain") { Description = "The cluster domain.", DefaultValueFactory = _ => "cluster.local" };
        var kubeletPki = new Option<string>("--kubelet-pki") { Description = "Directory of the cluster CA (ca.crt, ca.key): serve the kubelet API (exec, logs) on port 10250 with a certificate from it." };
        var policyDeny = new Option<string>("--policy-deny") { Description = "What NetworkPolicy does with denied traffic: drop or reject.", DefaultValueFactory = _ => "drop" };
        policyDeny.AcceptOnlyFromAmong("drop", "reject");
        var leaseDuration = new Option<int>("--node-lease-duration-seconds") { Description = "The node Lease's duration in seconds, renewed every quarter of it (as kubelet's flag).", DefaultValueFactory = _ => 40 };
        leaseDuration.Validators.Add(r => { if (r.GetValue(leaseDuration) < 1) { r.AddError("--node-lease-duration-seconds must be at least 1"); } });
        var nodeLabels = new Option<string[]>("--node-label") { Description = "A label the Node is registered with, KEY=VALUE (repeat), such as topology.kubernetes.io/zone=a." };
        var command = new Command("agent", "Run a node's agent: register the node, program its routes, run its pods.")
        {
            mode, kubeconfig, node, addresses, state, cniBin, cniBinDir, cniConfDir, prefix, routing, architecture, clusterCidr, serviceCidr, clusterDns, clusterDomain, policyDeny, kubeletPki, leaseDuration, nodeLabels,
        };
        command.Subcommands.Add(UninstallCommand());
        command.SetAction(async (parse, token) =>
        {
            var cluster = (parse.GetValue(mode) ?? (KubernetesClientConfiguration.IsInCluster() ? "cluster" : "lab")) == "cluster";
            AgentOptions options;
            try
            {
                if (!cluster && (parse.GetValue(kubeconfig) is null || parse.GetValue(addresses) is not { Length: > 0 } || parse.GetValue(cniBin) is null))
                {
                    throw new FormatException("in lab mode --kubeconfig, --address and --cni-bin are required");
                }
                options = new AgentOptions
                {
                    NodeName = parse.GetValue(node)!,
                    NodeAddresses = (parse.GetValue(addresses) ?? []).Select(IPAddress.Parse).ToArray(),
                    StateDirectory = parse.GetValue(state)!,
                    CniBinDirectory = parse.GetValue(cniBin) ?? AppContext.BaseDirectory,
                    PodNetnsPrefix = parse.GetValue(prefix)!,
                    Routing = parse.GetValue(routing) == "vxlan" ? RoutingMode.Vxlan : RoutingMode.HostGw,
                    Architecture = Enum.Parse<Podnet.Core.Cluster.Architecture>(parse.GetValue(architecture)!, ignoreCase: true),
                    ClusterCidrs = Cidrs(parse.GetValue(clusterCidr)!),
                    ServiceCidrs = Cidrs(parse.GetValue(serviceCidr)!),
                    ClusterDns = parse.GetValue(clusterDns)!,
                    ClusterDomain = parse.GetValue(clusterDomain)!,
                    PolicyDeny = parse.GetValue(policyDeny) == "reject" ? Podnet.Policy.PolicyDeny.Reject : Podnet.Policy.PolicyDeny.Drop,
                    KubeletPkiDirectory = parse.GetValue(kubeletPki),
                    NodeLeaseDurationSeconds = parse.GetValue(leaseDuration),
                    NodeLabels = (parse.GetValue(nodeLabels) ?? []).Select(l => l.IndexOf('=') is > 0 and var i ? (l[..i], l[(i + 1)..]) : throw new FormatException($"--node-label: '{l}' is not KEY=VALUE"))
                        .ToDictionary(p => p.Item1, p => p.Item2),
                    Log = line => Console.Error.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}"),
                };
            }
            catch (FormatException e)
            {
                Console.Error.WriteLine($"podnet agent: {e.Message}");
                return 2;
            }
            var config = parse.GetValue(kubeconfig) is { } file ? KubeconfigFile.Load(file) : KubernetesClientConfiguration.InClusterConfig();
            using var stopping = new CancellationTokenSource();
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stopping.Cancel(); });
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, stopping.Token);
            if (cluster)
            {
                var install = new Podnet.Agent.Cluster.CniInstallOptions(options.CniBinDirectory, parse.GetValue(cniBinDir)!, parse.GetValue(cniConfDir)!);
                await Podnet.Agent.Cluster.ClusterAgentHost.RunAsync(config, options, install, linked.Token);
            }
            else
            {
                await AgentHost.RunAsync(config, options, linked.Token);
            }
            return 0;
        });
        return command;
    }

    /// <summary>`podnet agent uninstall`: what the DaemonSet's preStop runs, removing the node's conflist.</summary>
    private static Command UninstallCommand()
    {
        var cniConfDir = new Option<string>("--cni-conf-dir") { Description = "The host's CNI config directory.", DefaultValueFactory = _ => "/etc/cni/net.d" };
        var command = new Command("uninstall", "Remove the node's Podnet CNI config (cluster mode), so the runtime reports the network not ready.") { cniConfDir };
        command.SetAction(parse =>
        {
            var directory = parse.GetValue(cniConfDir)!;
            var steps = Podnet.Agent.Cluster.ClusterAgentHost.Uninstall(directory);
            Console.WriteLine(steps.Count == 0
                ? $"no {Podnet.Agent.Cluster.CniInstallPlanner.ConfigName} in {directory}"
                : $"removed {Path.Combine(directory, Podnet.Agent.Cluster.CniInstallPlanner.ConfigName)}");
            return 0;
        });
        return command;
    }

    /// <summary>CIDRs given by repeating the flag or comma-separated in one value (as a ConfigMap holds them).</summary>
    private static IPNetwork[] Cidrs(string[] values) =>
        values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(IPNetwork.Parse).ToArray();
}
