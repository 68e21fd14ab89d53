using System.Net;
using k8s;
using k8s.Models;
using Podnet.Agent.Routing;
using Podnet.Controllers.Informers;
using Podnet.Controllers.Projections;
using Podnet.Core.Cluster;

namespace Podnet.Agent.Cluster;

/// <summary>Where `podnet agent --mode cluster` takes the plugin from and puts it on the host.</summary>
public sealed record CniInstallOptions(string SourceDirectory, string BinDirectory, string ConfDirectory);

/// <summary>
/// `podnet agent --mode cluster`: the agent on a node of a real cluster, where kubelet registers
/// the Node and the container runtime runs the pods. It waits for its Node's podCIDRs and
/// InternalIPs, installs podnet-cni and the node's conflist into the host's CNI directories, and
/// then runs what the lab's agent runs besides the pods: routes and egress, the service proxy
/// with its health ports, the LoadBalancer announcer and NetworkPolicy. Pods are wired by the
/// runtime calling podnet-cni, so NetworkPolicy takes a pod in when its address is in its
/// status, not before its containers start as in the lab.
/// </summary>
public static class ClusterAgentHost
{
    public static async Task RunAsync(KubernetesClientConfiguration config, AgentOptions options, CniInstallOptions install, CancellationToken token)
    {
        Directory.CreateDirectory(options.StateDirectory);
        using var client = new Kubernetes(config);
        var node = await WaitForNodeAsync(client, options, token);
        var addresses = options.NodeAddresses.Count > 0 ? options.NodeAddresses : InternalIps(node);
        using (var rt = Kernel.Netlink.RtNetlink.OpenInCurrentNamespace())
        {
            var underlay = UnderlayOf(rt, addresses) ?? options.Underlay;
            options = options with { NodeAddresses = addresses, Underlay = underlay };
            var cidrs = ObjectProjection.ToNodeInfo(node).PodCidrs;
            var mtu = options.Routing == RoutingMode.Vxlan ? VxlanPlanner.MtuFor(rt.GetLink(underlay).Mtu, addresses[0]) : 0;
            Install(options, install, cidrs, mtu);
        }
        options.Log($"node {options.NodeName}: {string.Join(", ", addresses)} on {options.Underlay}; CNI installed in {install.BinDirectory}, {install.ConfDirectory}");

        var informers = new AgentInformers(client, options);
        var (nodes, pods, namespaces, policies, services, slices, serviceCidrs) =
            (informers.Nodes, informers.Pods, informers.Namespaces, informers.Policies, informers.Services, informers.Slices, informers.ServiceCidrs);

        using var self = Kernel.Netns.OpenCurrent();
        using var library = Kernel.LibNftRunner.TryCreate(self);
        Core.Nft.INftRunner nft = library is not null ? library : new Kernel.NftRunner(self);
        var policy = new Policy.PolicyEngine(options, pods, namespaces, policies, informers.ClusterPolicies, nft);
        var drops = new Policy.PolicyDrops(options, policy);
        var cnpStatus = new Policy.ClusterPolicyStatusWriter(options, client, informers.ClusterPolicies, TimeProvider.System);
        var routing = new RoutingController(options, nodes, nft, serviceCidrs);
        var proxy = new Proxy.ServiceProxy(options, services, slices, nft, self, nodes, serviceCidrs);
        proxy.HealthChecks = new Proxy.ServiceHealthServer(options.NodeAddresses, () => proxy.Healthy, options.Log);
        var announcer = new Proxy.Announcer(options, services, slices, nodes, self);
        var tasks = new[]
        {
            proxy.RunAsync(token), announcer.RunAsync(token),
            options.ProxyHealthPort > 0 ? new Proxy.ProxyHealthServer(proxy, TimeProvider.System).RunAsync(options.NodeAddresses, options.ProxyHealthPort, token) : Task.CompletedTask,
            policy.RunAsync(token), drops.RunAsync(token), cnpStatus.RunAsync(token), routing.RunAsync(token),
            MarkNetworkAvailableAsync(client, options, routing.RoutesProgrammed, TimeProvider.System, token),
        };
        try
        {
            await Task.WhenAll(tasks.Concat(informers.RunAll(token)));
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
    }

    /// <summary>Removes the node's conflist (the DaemonSet's preStop): the runtime reports the network not ready until an agent installs it again.</summary>
    public static IReadOnlyList<CniInstallStep> Uninstall(string confDirectory)
    {
        var config = Path.Combine(confDirectory, CniInstallPlanner.ConfigName);
        var present = File.Exists(config) ? new Dictionary<string, string> { [config] = "" } : [];
        var steps = CniInstallPlanner.Uninstall(confDirectory, new CniHostState(present, new Dictionary<string, string>(), []));
        CniInstaller.Apply(steps);
        return steps;
    }

    private static void Install(AgentOptions options, CniInstallOptions install, IReadOnlyList<IPNetwork> cidrs, int mtu)
    {
        var request = new CniInstallRequest
        {
            SourceDirectory = install.SourceDirectory,
            SourceHash = CniInstaller.HashOf(Path.Combine(install.SourceDirectory, CniInstallPlanner.PluginName)),
            BinDirectory = install.BinDirectory,
            ConfDirectory = install.ConfDirectory,
            PodCidrs = cidrs,
            Mtu = mtu,
            IpamDataDirectory = options.IpamDirectory,
        };
        var plan = CniInstallPlanner.Install(request, CniInstaller.Read(install.BinDirectory, install.ConfDirectory));
        CniInstaller.Apply(plan.Steps);
        foreach (var name in plan.ShadowingConfigs)
        {
            options.Log($"warning: {Path.Combine(install.ConfDirectory, name)} sorts before {CniInstallPlanner.ConfigName}, so the runtime uses it instead of Podnet's");
        }
    }

    /// <summary>
    /// Once the node's routes are programmed, its NetworkUnavailable condition False (reason
    /// PodnetIsUp), as network plugins set it: a condition kubelet does not own, which a cloud's
    /// route controller or an installer may have set True, keeping pods off the node meanwhile
    /// (the node.kubernetes.io/network-unavailable taint). A strategic-merge patch of the
    /// conditions by type, so kubelet's own conditions stay; retried with backoff.
    /// </summary>
    private static async Task MarkNetworkAvailableAsync(Kubernetes client, AgentOptions options, Task routesProgrammed, TimeProvider time, CancellationToken token)
    {
        await routesProgrammed.WaitAsync(token);
        var backoff = new Backoff(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10));
        while (true)
        {
            try
            {
                await client.CoreV1.PatchNodeStatusAsync(new V1Patch(NetworkAvailablePatch(time.GetUtcNow()), V1Patch.PatchType.StrategicMergePatch), options.NodeName, cancellationToken: token);
                options.Log($"node {options.NodeName}: NetworkUnavailable False (PodnetIsUp)");
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                options.Log($"node {options.NodeName}: cannot set NetworkUnavailable False: {e.Message}");
            }
            await Task.Delay(backoff.Next(), token);
        }
    }

    /// <summary>The nodes/status patch that sets NetworkUnavailable False at <paramref name="now"/>.</summary>
    public static string NetworkAvailablePatch(DateTimeOffset now)
    {
        var stamp = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        return new System.Text.Json.Nodes.JsonObject
        {
            ["status"] = new System.Text.Json.Nodes.JsonObject
            {
                ["conditions"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject
                {
                    ["type"] = "NetworkUnavailable",
                    ["status"] = "False",
                    ["reason"] = "PodnetIsUp",
                    ["message"] = "Podnet's agent runs on this node and has programmed its routes",
                    ["lastHeartbeatTime"] = stamp,
                    ["lastTransitionTime"] = stamp,
                }),
            },
        }.ToJsonString();
    }

    /// <summary>The Node as kubelet registered it, once node IPAM has given it pod CIDRs; retried with backoff.</summary>
    private static async Task<V1Node> WaitForNodeAsync(Kubernetes client, AgentOptions options, CancellationToken token)
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5));
        while (true)
        {
            string why;
            try
            {
                var node = await client.CoreV1.ReadNodeAsync(options.NodeName, cancellationToken: token);
                if (ObjectProjection.ToNodeInfo(node).PodCidrs.Count > 0 && (options.NodeAddresses.Count > 0 || InternalIps(node).Count > 0))
                {
                    return node;
                }
                why = "it has no spec.podCIDRs or no InternalIP yet (is kube-controller-manager's --allocate-node-cidrs on?)";
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                why = e.Message;
            }
            options.Log($"waiting for Node {options.NodeName}: {why}");
            await Task.Delay(backoff.Next(), token);
        }
    }

    private static IReadOnlyList<IPAddress> InternalIps(V1Node node) =>
        (node.Status?.Addresses ?? [])
            .Where(a => a.Type == "InternalIP" && IPAddress.TryParse(a.Address, out _))
            .Select(a => IPAddress.Parse(a.Address))
            .OrderBy(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
            .ToArray();

    /// <summary>The link holding the node's first address: the underlay for VXLAN and LoadBalancer announcements.</summary>
    private static string? UnderlayOf(Kernel.Netlink.RtNetlink rt, IReadOnlyList<IPAddress> addresses)
    {
        var index = rt.GetAddresses().FirstOrDefault(a => a.Prefix.Address.Equals(addresses[0]))?.LinkIndex;
        return index is null ? null : rt.GetLinks().FirstOrDefault(l => l.Index == index)?.Name;
    }
}
