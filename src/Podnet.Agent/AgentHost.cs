using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using k8s;
using k8s.Models;
using Podnet.Agent.Node;
using Podnet.Agent.Routing;
using Podnet.Agent.Runtime;
using Podnet.Cni.Client;
using Podnet.Controllers.Informers;
using Podnet.Core.Cluster;

namespace Podnet.Agent;

/// <summary>
/// `podnet agent`: one per node, running in the node's network namespace. Registers the Node
/// and keeps it alive, programs routes and egress from the Node objects, and runs the pods
/// bound to the node (the kubelet role).
/// </summary>
public static class AgentHost
{
    public static async Task RunAsync(KubernetesClientConfiguration config, AgentOptions options, CancellationToken token)
    {
        Directory.CreateDirectory(options.StateDirectory);
        using var client = new Kubernetes(config);
        var vtep = options.Routing == RoutingMode.Vxlan ? VxlanPlanner.MacFor(options.NodeName) : (Core.Net.MacAddress?)null;
        var registration = new NodeRegistration(client, options, vtep);
        await RetryAsync(() => registration.RegisterAsync(token), options, "register the node", token);
        options.Log($"node {options.NodeName} registered");

        var informers = new AgentInformers(client, options);
        var (nodes, pods, namespaces, policies, clusterPolicies, services, slices, serviceCidrs) =
            (informers.Nodes, informers.Pods, informers.Namespaces, informers.Policies, informers.ClusterPolicies, informers.Services, informers.Slices, informers.ServiceCidrs);

        var cni = new CniClient([options.CniBinDirectory], options.CniCacheDirectory);
        var network = new PodNetwork(options, cni);
        using var self = Kernel.Netns.OpenCurrent();
        // libnftables in this process when it loads (no process start per change), else nft -f.
        using var library = Kernel.LibNftRunner.TryCreate(self);
        Core.Nft.INftRunner nft = library is not null ? library : new Kernel.NftRunner(self);
        var policy = new Policy.PolicyEngine(options, pods, namespaces, policies, clusterPolicies, nft);
        var drops = new Policy.PolicyDrops(options, policy);
        var cnpStatus = new Policy.ClusterPolicyStatusWriter(options, client, clusterPolicies, TimeProvider.System);
        var starter = new PodStarter(options, network, new ServiceAccountFiles(CaPem(config)))
        {
            BeforeContainers = policy.BeforeContainersStart,
        };
        var probes = new Probes(family => new Socket(family, SocketType.Stream, ProtocolType.Tcp));
        var manager = new PodManager(options, client, pods, services, nodes, starter, network, probes);
        var routing = new RoutingController(options, nodes, nft, serviceCidrs);
        var proxy = new Proxy.ServiceProxy(options, services, slices, nft, self, nodes, serviceCidrs);
        proxy.HealthChecks = new Proxy.ServiceHealthServer(options.NodeAddresses, () => proxy.Healthy, options.Log);
        var announcer = new Proxy.Announcer(options, services, slices, nodes, self);

        var tasks = new[]
        {
            proxy.RunAsync(token),
            announcer.RunAsync(token),
            options.ProxyHealthPort > 0 ? new Proxy.ProxyHealthServer(proxy, TimeProvider.System).RunAsync(options.NodeAddresses, options.ProxyHealthPort, token) : Task.CompletedTask,
            policy.RunAsync(token),
            drops.RunAsync(token),
            cnpStatus.RunAsync(token),
            registration.HeartbeatAsync(token),
            routing.RunAsync(token),
            manager.RunAsync(token),
            RunKubeletAsync(new Kubelet.KubeletServer(options, pods, services) { Flows = new Kubelet.NodeFlows(options, () => Kernel.Conntrack.List(self), TimeProvider.System) }, options, token),
        };
        try
        {
            await Task.WhenAll(tasks.Concat(informers.RunAll(token)));
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
    }

    private static async Task RetryAsync(Func<Task> action, AgentOptions options, string what, CancellationToken token)
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5));
        while (true)
        {
            try
            {
                await action();
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                options.Log($"cannot {what} yet: {e.Message}");
                await Task.Delay(backoff.Next(), token);
            }
        }
    }

    /// <summary>The kubelet API failing (no CA, port taken) is logged; the node runs on without it.</summary>
    private static async Task RunKubeletAsync(Kubelet.KubeletServer server, AgentOptions options, CancellationToken token)
    {
        try
        {
            await server.RunAsync(token);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            options.Log($"kubelet API not served: {e.Message}");
        }
    }

    private static string CaPem(KubernetesClientConfiguration config) =>
        config.SslCaCerts is { Count: > 0 } certs
            ? string.Concat(certs.Select(c => c.ExportCertificatePem() + "\n"))
            : "";
}
