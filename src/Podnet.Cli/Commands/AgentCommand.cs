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
        var kubeconfig = new Option<string>("--kubeconfig") { Description = "The cluster to join.", Required = true };
        var node = new Option<string>("--node") { Description = "This node's name.", Required = true };
        var addresses = new Option<string[]>("--address") { Description = "This node's InternalIP (repeat for each family).", Required = true };
        var state = new Option<string>("--state") { Description = "The agent's state directory.", Required = true };
        var cniBin = new Option<string>("--cni-bin") { Description = "Directory with podnet-cni, podnet-ipam and chained plugins.", Required = true };
        var prefix = new Option<string>("--pod-netns-prefix") { Description = "Prefix of pod namespace names.", DefaultValueFactory = _ => "pn-p" };
        var routing = new Option<string>("--routing") { Description = "host-gw or vxlan.", DefaultValueFactory = _ => "host-gw" };
        routing.AcceptOnlyFromAmong("host-gw", "vxlan");
        var architecture = new Option<string>("--architecture") { Description = "island, flat or isolated.", DefaultValueFactory = _ => "island" };
        architecture.AcceptOnlyFromAmong("island", "flat", "isolated");
        var clusterCidr = new Option<string[]>("--cluster-cidr") { Description = "Pod CIDR of the cluster (repeat per family).", DefaultValueFactory = _ => ["10.244.0.0/16"] };
        var serviceCidr = new Option<string[]>("--service-cidr") { Description = "Service CIDR (repeat per family).", DefaultValueFactory = _ => ["10.96.0.0/16"] };
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
            kubeconfig, node, addresses, state, cniBin, prefix, routing, architecture, clusterCidr, serviceCidr, clusterDns, clusterDomain, policyDeny, kubeletPki, leaseDuration, nodeLabels,
        };
        command.SetAction(async (parse, token) =>
        {
            AgentOptions options;
            try
            {
                options = new AgentOptions
                {
                    NodeName = parse.GetValue(node)!,
                    NodeAddresses = parse.GetValue(addresses)!.Select(IPAddress.Parse).ToArray(),
                    StateDirectory = parse.GetValue(state)!,
                    CniBinDirectory = parse.GetValue(cniBin)!,
                    PodNetnsPrefix = parse.GetValue(prefix)!,
                    Routing = parse.GetValue(routing) == "vxlan" ? RoutingMode.Vxlan : RoutingMode.HostGw,
                    Architecture = Enum.Parse<Podnet.Core.Cluster.Architecture>(parse.GetValue(architecture)!, ignoreCase: true),
                    ClusterCidrs = parse.GetValue(clusterCidr)!.Select(IPNetwork.Parse).ToArray(),
                    ServiceCidrs = parse.GetValue(serviceCidr)!.Select(IPNetwork.Parse).ToArray(),
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
            var config = KubeconfigFile.Load(parse.GetValue(kubeconfig)!);
            using var stopping = new CancellationTokenSource();
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stopping.Cancel(); });
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, stopping.Token);
            await AgentHost.RunAsync(config, options, linked.Token);
            return 0;
        });
        return command;
    }
}
