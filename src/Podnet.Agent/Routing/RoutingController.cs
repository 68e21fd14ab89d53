using k8s.Models;
using Podnet.Agent.Node;
using Podnet.Controllers.Projections;
using Podnet.Controllers.Informers;
using Podnet.Controllers.Runtime;
using Podnet.Core.Cluster;
using Podnet.Core.Nft;
using Podnet.Kernel;
using Podnet.Kernel.Netlink;

namespace Podnet.Agent.Routing;

/// <summary>
/// The agent's routing loop: Node objects in, the node's routes to other nodes' pods (host-gw
/// or VXLAN) and its egress table (per architecture) out. Level-triggered: any Node event
/// recomputes the whole plan from the cache and applies it, so nodes can join and leave a
/// running cluster, and a repeated sync changes nothing. ServiceCIDR events recompute the
/// egress table too, whose service ranges follow those objects (<see cref="ServiceRanges"/>).
/// </summary>
public sealed class RoutingController(AgentOptions options, Informer<V1Node> nodes, INftRunner nft, Informer<V1ServiceCIDR>? serviceCidrs = null)
{
    private readonly TaskCompletionSource _programmed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes after the first sync that found this node's Node and applied its routes.</summary>
    public Task RoutesProgrammed => _programmed.Task;

    public async Task RunAsync(CancellationToken token)
    {
        using var rt = RtNetlink.OpenInCurrentNamespace();
        var loop = new SyncLoop("routing", (_, _) =>
        {
            Sync(rt);
            return Task.CompletedTask;
        })
        {
            Log = options.Log,
            InitialBackoff = TimeSpan.FromMilliseconds(200),
        };
        loop.WakeOn(nodes);
        if (serviceCidrs is not null)
        {
            loop.WakeOn(serviceCidrs);
        }
        await loop.RunAsync(token);
    }

    private void Sync(RtNetlink rt)
    {
        var all = nodes.Cache.List().Select(ObjectProjection.ToNodeInfo).ToArray();
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
        var ranges = serviceCidrs is null ? options.ServiceCidrs : ServiceRanges.Of(serviceCidrs.Cache.List(), options.ServiceCidrs);
        nft.Apply(EgressPlanner.Build(options.Architecture, options.ClusterCidrs, ranges, all.SelectMany(n => n.InternalIPs).ToArray()));
        if (self is not null)
        {
            _programmed.TrySetResult();
        }
    }
}
