using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using k8s;
using k8s.Models;
using Podnet.Agent.Routing;
using Podnet.Controllers.Projections;
using Podnet.Core.Cluster;
using Podnet.Core.Nft;
using Podnet.Kernel;
using Podnet.Policy;
using Podnet.Proxy;
using Podnet.Testing;

namespace Podnet.Churn;

/// <summary>
/// Reads what a lab's nodes, the kernel and the API server hold and checks issue 23's
/// invariants (<see cref="InvariantCalc"/> for the comparisons): addresses, namespaces, veths,
/// mounts, processes, nft elements (against the proxy, policy and egress planners run on the
/// API's objects, as the agents run them), conntrack, pods and Services answering, the root
/// namespace. The API server's database is checked by <see cref="ChurnLab.CheckDatabase"/>.
/// </summary>
public sealed class InvariantChecker(string lab, Func<Kubernetes> api, IReadOnlyDictionary<string, IPAddress> nodeAddresses, string rootBefore)
{
    private static readonly IPNetwork s_clusterCidr = IPNetwork.Parse("10.244.0.0/16");
    private static readonly IPNetwork s_serviceCidr = IPNetwork.Parse("10.96.0.0/16");

    public string PodNetnsPrefix(string node) => $"pn-{lab}-{node}-p";

    /// <summary>A pod's namespace as the agent names it (PodNetwork.NetnsName with the lab's prefix).</summary>
    public static string PodNetns(string lab, string node, string uid) =>
        $"pn-{lab}-{node}-p" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(uid)))[..10];

    public async Task<IReadOnlyList<Breach>> CheckAsync(string probeNamespace, string probePod)
    {
        var client = api();
        var breaches = new List<Breach>();
        var podObjects = (await client.CoreV1.ListPodForAllNamespacesAsync()).Items;
        var pods = podObjects.Where(p => !string.IsNullOrEmpty(p.Spec?.NodeName) && p.Status?.Phase is not ("Succeeded" or "Failed"))
            .Select(p => new LivePod(p.Metadata.Uid, p.Metadata.NamespaceProperty, p.Metadata.Name, p.Spec.NodeName,
                PodNetns(lab, p.Spec.NodeName, p.Metadata.Uid),
                (p.Status?.PodIPs ?? []).Select(i => IPAddress.Parse(i.Ip)).ToArray(), p.Metadata.DeletionTimestamp is not null))
            .ToList();
        var services = (await client.CoreV1.ListServiceForAllNamespacesAsync()).Items;
        var slices = (await client.DiscoveryV1.ListEndpointSliceForAllNamespacesAsync()).Items;
        var policies = (await client.NetworkingV1.ListNetworkPolicyForAllNamespacesAsync()).Items;
        var namespaces = (await client.CoreV1.ListNamespaceAsync()).Items;
        foreach (var (node, address) in nodeAddresses)
        {
            var observed = ObserveNode(node);
            breaches.AddRange(InvariantCalc.CheckNode(observed, pods));
            using var netns = Netns.Open($"pn-{lab}-{node}");
            var kernel = KernelNftDump.Read(netns);
            var planned = new[]
            {
                (PlannedProxy(node, address, services, slices), new[] { "aff-" }),
                (PlannedPolicy(node, podObjects, policies, namespaces), Array.Empty<string>()),
                (Dump(EgressPlanner.Build(Architecture.Island, [s_clusterCidr], [s_serviceCidr])), Array.Empty<string>()),
            };
            foreach (var (dump, dynamic) in planned)
            {
                var table = InvariantCalc.TableOf(dump);
                breaches.AddRange(InvariantCalc.CompareTable(node, table, dump, InvariantCalc.TableBlock(kernel, table), dynamic));
            }
        }
        breaches.AddRange(InvariantCalc.CheckProcesses(SeenProcesses(), pods, $"pn-{lab}-"));
        breaches.AddRange(await AnswersAsync(podObjects, services, probeNamespace, probePod));
        var root = RootSnapshot.Take();
        if (root != rootBefore)
        {
            breaches.Add(new("root", "root namespace", "changed since the lab came up: " + FirstDifference(rootBefore, root)));
        }
        return breaches;
    }

    private static string Dump(NftTransaction transaction)
    {
        var state = new NftState();
        state.Apply(transaction);
        return state.Dump();
    }

    private static string PlannedProxy(string node, IPAddress address, IList<V1Service> services, IList<V1EndpointSlice> slices)
    {
        var infos = services.Select(ObjectProjection.ToServiceInfo).ToDictionary(s => s.Key, StringComparer.Ordinal);
        var byService = slices.Select(s => (Key: s.Metadata.Labels?.TryGetValue("kubernetes.io/service-name", out var name) == true ? $"{s.Metadata.NamespaceProperty}/{name}" : null, Info: ObjectProjection.ToEndpointSliceInfo(s)))
            .Where(x => x.Key is not null && x.Info is not null).GroupBy(x => x.Key!).ToDictionary(g => g.Key, g => (IReadOnlyList<Podnet.Core.Cluster.EndpointSliceInfo>)g.Select(x => x.Info!).ToArray(), StringComparer.Ordinal);
        var syncer = new ProxySyncer(ProxyNode.For(AddressFamily.InterNetwork, node, [address], [s_clusterCidr], [s_serviceCidr]));
        var change = syncer.Plan(k => infos.GetValueOrDefault(k), k => byService.GetValueOrDefault(k) ?? [], () => infos.Keys, null);
        return Dump(change.Transaction);
    }

    private static string PlannedPolicy(string node, IList<V1Pod> pods, IList<V1NetworkPolicy> policies, IList<V1Namespace> namespaces)
    {
        var snapshot = new PolicySnapshot(policies.Select(ObjectProjection.ToNetworkPolicyInfo).ToArray(), pods.Select(ObjectProjection.ToPodInfo).ToArray(), namespaces.Select(ObjectProjection.ToNamespaceInfo).ToArray());
        var plan = PolicyCompiler.Compile(snapshot, new PolicyNode(node, [AddressFamily.InterNetwork]));
        return Dump(new PolicySyncer().Plan(plan).Transaction);
    }

    private NodeObservation ObserveNode(string node)
    {
        var nodeDir = Path.Combine("/var/lib/podnet/labs", lab, "nodes", node);
        var reservations = new Dictionary<IPAddress, string>();
        var ipam = Path.Combine(nodeDir, "ipam");
        if (Directory.Exists(ipam))
        {
            foreach (var file in Directory.GetFiles(ipam, "*", SearchOption.AllDirectories))
            {
                if (IPAddress.TryParse(Path.GetFileName(file), out var address))
                {
                    reservations[address] = File.ReadAllText(file).Split('\n')[0].Trim();
                }
            }
        }
        var prefix = PodNetnsPrefix(node);
        var podNetns = Netns.List().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).ToArray();
        using var netns = Netns.Open($"pn-{lab}-{node}");
        var ids = new Dictionary<int, string>();
        foreach (var id in Tools.Ip(netns, "netns", "list-id"))
        {
            if (id?["name"] is { } name)
            {
                ids[(int)id["nsid"]!] = (string)name!;
            }
        }
        // Pod veths are the bridge's ports; the node's own eth0 (its peer on the fabric) is not a pod's.
        var veths = Tools.Ip(netns, "link", "show", "type", "veth").Where(l => (string?)l!["master"] == Podnet.Agent.Runtime.CniConfigPlanner.Bridge)
            .Select(l => new SeenVeth((string)l!["ifname"]!, l["link_netnsid"] is { } nsid && ids.TryGetValue((int)nsid, out var name) ? name : null))
            .ToArray();
        var podsDir = Path.Combine(nodeDir, "pods") + "/";
        var mounts = File.ReadAllLines("/proc/self/mountinfo").Select(l => l.Split(' ')[4]).Where(m => m.StartsWith(podsDir, StringComparison.Ordinal)).Distinct().ToArray();
        var conntrack = Conntrack.List(netns)
            .Where(e => s_clusterCidr.Contains(e.ReplySource) && (e.Protocol == "udp" || e.State == "ESTABLISHED"))
            .Select(e => (e.ReplySource, $"{e.Protocol} {e.State} {e.OriginalSource}:{e.OriginalSourcePort} -> {e.OriginalDestination}:{e.OriginalDestinationPort}"))
            .ToArray();
        return new NodeObservation(node, reservations, podNetns, veths, mounts, conntrack);
    }

    /// <summary>Every process in one of the lab's named namespaces, or whose command line names the lab's node state.</summary>
    private IReadOnlyList<SeenProcess> SeenProcesses()
    {
        var named = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in Netns.List().Where(n => n.StartsWith($"pn-{lab}-", StringComparison.Ordinal)))
        {
            var inode = ProcessRunner.Run(null, "stat", ["-L", "-c", "%i", Netns.PathOf(name)]).StandardOutput.Trim();
            named[$"net:[{inode}]"] = name;
        }
        var root = new FileInfo("/proc/1/ns/net").LinkTarget;
        var marker = $"/labs/{lab}/nodes/";
        var seen = new List<SeenProcess>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }
            try
            {
                var net = new FileInfo(Path.Combine(dir, "ns", "net")).LinkTarget;
                var command = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ').Trim();
                var name = net is null ? null : named.GetValueOrDefault(net);
                var mentions = command.Contains(marker, StringComparison.Ordinal);
                if (name is not null || mentions)
                {
                    seen.Add(new SeenProcess(pid, command.Length > 120 ? command[..120] : command, name, net == root, mentions));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended while it was read.
            }
        }
        return seen;
    }

    /// <summary>Every Running pod answers on its address (HTTP on a declared port, else ping), every Service with endpoints answers through its ClusterIP and its DNS name.</summary>
    private async Task<IReadOnlyList<Breach>> AnswersAsync(IList<V1Pod> pods, IList<V1Service> services, string probeNamespace, string probePod)
    {
        var breaches = new List<Breach>();
        var probe = pods.FirstOrDefault(p => p.Metadata.NamespaceProperty == probeNamespace && p.Metadata.Name == probePod && p.Status?.Phase == "Running");
        if (probe is null)
        {
            return [new Breach("answers", $"{probeNamespace}/{probePod}", "the probe pod is not running")];
        }
        using var from = Netns.Open(PodNetns(lab, probe.Spec.NodeName, probe.Metadata.Uid));
        foreach (var pod in pods.Where(p => p.Status?.Phase == "Running" && p.Spec?.HostNetwork != true && !string.IsNullOrEmpty(p.Status.PodIP) && p.Metadata.DeletionTimestamp is null))
        {
            // The test server's HTTP port in the churn namespace; anything else (DNS, sleepers) gets a ping.
            var port = pod.Metadata.NamespaceProperty == probeNamespace ? pod.Spec.Containers.SelectMany(c => c.Ports ?? []).FirstOrDefault(p => (p.Protocol ?? "TCP") == "TCP" && p.ContainerPort == 8080)?.ContainerPort : null;
            var ready = pod.Status.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;
            var answer = port is { } tcp && ready
                ? ProcessRunner.Run(from, "curl", ["-s", "--max-time", "5", $"http://{pod.Status.PodIP}:{tcp}/hostname"])
                : ProcessRunner.Run(from, "ping", ["-c", "1", "-W", "3", pod.Status.PodIP]);
            if (!answer.Success || (port is not null && ready && answer.StandardOutput.Trim() != pod.Metadata.Name))
            {
                breaches.Add(new("answers", $"{pod.Metadata.NamespaceProperty}/{pod.Metadata.Name}", $"no answer on {pod.Status.PodIP}{(port is { } p2 && ready ? ":" + p2 : " (ping)")}: {answer.StandardOutput.Trim()} {answer.StandardError.Trim()}"));
            }
        }
        foreach (var service in services.Where(s => s.Metadata.NamespaceProperty == probeNamespace && s.Spec?.ClusterIP is { Length: > 0 } ip && ip != "None"))
        {
            var port = service.Spec.Ports[0].Port;
            // Through cluster DNS (asked from the probe pod's namespace) and the ClusterIP it gives.
            var name = $"{service.Metadata.Name}.{service.Metadata.NamespaceProperty}.svc.cluster.local";
            var dig = ProcessRunner.Run(from, "dig", ["+short", "+time=3", "+tries=2", "@10.96.0.10", name]);
            if (dig.StandardOutput.Trim() != service.Spec.ClusterIP)
            {
                breaches.Add(new("answers", $"service {service.Metadata.NamespaceProperty}/{service.Metadata.Name}", $"cluster DNS answered {name} with '{dig.StandardOutput.Trim()}', not {service.Spec.ClusterIP} {dig.StandardError.Trim()}"));
                continue;
            }
            var http = ProcessRunner.Run(from, "curl", ["-s", "--max-time", "5", $"http://{service.Spec.ClusterIP}:{port}/hostname"]);
            if (!http.Success || http.StandardOutput.Trim().Length == 0)
            {
                breaches.Add(new("answers", $"service {service.Metadata.NamespaceProperty}/{service.Metadata.Name}", $"no answer through {service.Spec.ClusterIP}:{port}: {http.StandardError.Trim()}"));
            }
        }
        await Task.CompletedTask;
        return breaches;
    }

    private static string FirstDifference(string before, string after)
    {
        var a = before.Split('\n');
        var b = after.Split('\n');
        for (var i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            var x = i < a.Length ? a[i] : "";
            var y = i < b.Length ? b[i] : "";
            if (x != y)
            {
                return $"was {(x.Length > 200 ? x[..200] : x)} / is {(y.Length > 200 ? y[..200] : y)}";
            }
        }
        return "";
    }
}
