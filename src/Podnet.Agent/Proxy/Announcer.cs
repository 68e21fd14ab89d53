using System.Net;
using k8s.Models;
using Podnet.Controllers.Informers;
using Podnet.Controllers.Projections;
using Podnet.Controllers.Runtime;
using Podnet.Core.Cluster;
using Podnet.Core.Net;
using Podnet.Kernel;
using Podnet.Kernel.Netlink;
using Podnet.Proxy;

namespace Podnet.Agent.Proxy;

/// <summary>
/// Answers and announces on the node network the external addresses (LoadBalancer ingress,
/// externalIPs) that <see cref="AnnouncementCalc"/> gives this node, as MetalLB's L2 mode does.
/// </summary>
/// <remarks>
/// Design: the address goes on the node's fabric interface (eth0) as a /32 or /128, and the
/// kernel answers ARP and neighbour solicitations for it; on every gain a gratuitous ARP or an
/// unsolicited neighbour advertisement (<see cref="NeighbourAnnouncer"/>, AF_PACKET) makes the
/// neighbours move at once. This kernel has no dummy links, and an AF_PACKET responder of our
/// own would have to answer every request for as long as it runs, in user space; the kernel
/// already does it, for both families, also while the agent restarts. The proxy's DNAT in
/// prerouting runs before the address is seen as local, so traffic to it is balanced as on any
/// other node; a stopped node's link is down, so it cannot answer for an address that moved.
/// Ours are the single-address prefixes on the interface that are not a node address: the
/// agent removes those it does not own, also left over from before a restart.
/// </remarks>
public sealed class Announcer
{
    private readonly AgentOptions _options;
    private readonly Informer<V1Service> _services;
    private readonly Informer<V1EndpointSlice> _slices;
    private readonly Informer<V1Node> _nodes;
    private readonly Netns _netns;
    private readonly SyncLoop _loop;

    public Announcer(AgentOptions options, Informer<V1Service> services, Informer<V1EndpointSlice> slices, Informer<V1Node> nodes, Netns netns)
    {
        _options = options;
        _services = services;
        _slices = slices;
        _nodes = nodes;
        _netns = netns;
        _loop = new SyncLoop("announce", (_, _) =>
        {
            Sync();
            return Task.CompletedTask;
        }, TimeSpan.FromMilliseconds(10))
        {
            Log = options.Log,
        };
        _loop.WakeOn(services).WakeOn(slices).WakeOn(nodes);
    }

    /// <summary>The addresses this node announces now.</summary>
    public IReadOnlySet<IPAddress> Announced { get; private set; } = new HashSet<IPAddress>();

    public Task RunAsync(CancellationToken token) => _loop.RunAsync(token);

    /// <summary>The nodes that may announce: Ready, not being deleted, not excluded from external load balancers.</summary>
    public static IReadOnlyCollection<string> Candidates(IEnumerable<V1Node> nodes) => nodes
        .Where(n => n.Metadata.DeletionTimestamp is null
            && n.Metadata.Labels?.ContainsKey("node.kubernetes.io/exclude-from-external-load-balancers") != true
            && n.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true)
        .Select(n => n.Metadata.Name)
        .ToHashSet(StringComparer.Ordinal);

    private void Sync()
    {
        var services = _services.Cache.List().Select(ObjectProjection.ToServiceInfo).ToArray();
        var wanted = AnnouncementCalc.Mine(_options.NodeName, services, Slices, Candidates(_nodes.Cache.List()));
        using var rt = RtNetlink.Open(_netns);
        var link = rt.GetLink(_options.Underlay);
        var present = rt.GetAddresses(link.Index)
            .Select(a => a.Prefix)
            .Where(p => p.PrefixLength == p.MaxPrefixLength && !_options.NodeAddresses.Contains(p.Address) && !p.Address.IsIPv6LinkLocal)
            .Select(p => p.Address)
            .ToHashSet();
        foreach (var gone in present.Where(a => !wanted.Contains(a)))
        {
            rt.DeleteAddress(_options.Underlay, new AddressPrefix(gone, gone.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
            _options.Log($"announce: released {gone}");
        }
        // A gain is an address this agent did not announce before: on its first sync that is every
        // one, also those still on the link from before a stop (the neighbours have meanwhile
        // learnt the node that held them in between).
        foreach (var gained in wanted.Where(a => !Announced.Contains(a) || !present.Contains(a)))
        {
            rt.EnsureAddress(_options.Underlay, new AddressPrefix(gained, gained.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
            NeighbourAnnouncer.Announce(_netns, _options.Underlay, gained);
            _options.Log($"announce: took {gained}");
        }
        Announced = wanted;
    }

    private IReadOnlyList<EndpointSliceInfo> Slices(ServiceInfo service) =>
        _slices.Cache.ByIndex(ServiceProxy.SlicesByService, service.Key).Select(ObjectProjection.ToEndpointSliceInfo).OfType<EndpointSliceInfo>().ToArray();
}
