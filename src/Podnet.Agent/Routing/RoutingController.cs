using k8s.Models;
using Podnet.Agent.Node;
using Podnet.Controllers.Informers;
using Podnet.Core.Cluster;
using Podnet.Kernel;
using Podnet.Kernel.Netlink;

namespace Podnet.Agent.Routing;

/// <summary>
/// The agent's routing loop: Node objects in, the node's routes to other nodes' pods (host-gw
/// or VXLAN) and its egress table (per architecture) out. Level-triggered: any Node event
/// recomputes the whole plan from the cache and applies it, so nodes can join and leave a
/// running cluster, and a repeated sync changes nothing.
/// </summary>
public sealed class RoutingController(AgentOptions options, Informer<V1Node> nodes)
{
    private readonly CoalescingQueue _queue = new();

    public async Task RunAsync(CancellationToken token)
    {
        nodes.AddHandlers(new InformerHandlers<V1Node>(_ => _queue.Enqueue(), (_, _) => _queue.Enqueue(), _ => _queue.Enqueue()));
        await nodes.WaitForSyncAsync(token);
        _queue.Enqueue();
        using var rt = RtNetlink.OpenInCurrentNamespace();
        using var netns = Netns.OpenCurrent();
        await _queue.RunAsync((_, _) =>
        {
            Sync(rt, netns);
            return Task.CompletedTask;
        }, new Backoff(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10)), e => options.Log($"routing sync failed, retrying: {e.Message}"), token);
    }

    private void Sync(RtNetlink rt, Netns netns)
    {
        var all = nodes.Cache.List().Select(NodeProjection.ToNodeInfo).ToArray();
        var self = all.FirstOrDefault(n => n.Name == options.NodeName);
        if (self is not null)
        {
            if (options.Routing == RoutingMode.Vxlan)
            {
                var local = options.NodeAddresses[0];
                var plan = VxlanPlanner.Build(self, local, rt.GetLink(options.Underlay).Mtu, all);
                VxlanApplier.Apply(rt, plan, options.Underlay);
            }
            else
            {
                RouteApplier.Apply(rt, HostGwPlanner.Build(options.NodeName, all));
            }
        }
        Nft.Apply(netns, EgressPlanner.Build(options.Architecture, options.ClusterCidrs, options.ServiceCidrs).ToScript());
    }
}
