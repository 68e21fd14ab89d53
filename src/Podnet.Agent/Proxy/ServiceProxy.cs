using System.Net;
using System.Net.Sockets;
using k8s.Models;
using Podnet.Controllers.Informers;
using Podnet.Controllers.Projections;
using Podnet.Controllers.Runtime;
using Podnet.Core.Cluster;
using Podnet.Core.Nft;
using Podnet.Kernel;
using Podnet.Proxy;

namespace Podnet.Agent.Proxy;

/// <summary>
/// The kube-proxy role on one node: Services and EndpointSlices in, the node's
/// <c>podnet-proxy</c> tables (one per family the cluster uses) out, through the shared
/// <see cref="SyncLoop"/>. Events mark the Service they concern (a slice marks its Service), so
/// a sync plans only those; the first sync, and any after a failure, rebuilds the tables. After
/// each committed sync, UDP conntrack entries towards a Service whose serving endpoints
/// changed, and whose reply comes from anything else, are deleted, so a UDP client (DNS) is not
/// stuck on a dead endpoint.
/// </summary>
public sealed class ServiceProxy
{
    public const string SlicesByService = "service";

    private readonly Informer<V1Service> _services;
    private readonly Informer<V1EndpointSlice> _slices;
    private readonly INftRunner _nft;
    private readonly Func<IReadOnlyList<ConntrackEntry>>? _listConntrack;
    private readonly Action<ConntrackFilter>? _deleteConntrack;
    private readonly ProxySyncer[] _syncers;
    private readonly SyncLoop _loop;

    public ServiceProxy(AgentOptions options, Informer<V1Service> services, Informer<V1EndpointSlice> slices, INftRunner nft, Netns? conntrack, Informer<V1Node>? nodes = null, Informer<V1ServiceCIDR>? serviceCidrs = null)
    {
        _services = services;
        _slices = slices;
        _nft = nft;
        if (conntrack is not null)
        {
            _listConntrack = () => Conntrack.List(conntrack);
            _deleteConntrack = filter => Conntrack.Delete(conntrack, filter);
        }
        var families = options.ClusterCidrs.Select(c => c.BaseAddress.AddressFamily).Distinct().DefaultIfEmpty(AddressFamily.InterNetwork);
        _syncers = families.Select(f => new ProxySyncer(ProxyNode.For(f, options.NodeName, options.NodeAddresses, options.ClusterCidrs, options.ServiceCidrs))).ToArray();
        slices.Cache.AddIndex(SlicesByService, s => s.Metadata?.Labels?.TryGetValue("kubernetes.io/service-name", out var name) == true ? [InformerCache<V1Service>.KeyOf(s.Metadata.NamespaceProperty, name)] : []);
        _loop = new SyncLoop("proxy", (request, _) =>
        {
            Sync(request);
            return Task.CompletedTask;
        }, TimeSpan.FromMilliseconds(10))
        {
            Log = options.Log,
        };
        _loop.WakeOn(services, InformerCache<V1Service>.KeyOf);
        _loop.WakeOn(slices, s => s.Metadata?.Labels?.TryGetValue("kubernetes.io/service-name", out var name) == true ? InformerCache<V1Service>.KeyOf(s.Metadata.NamespaceProperty, name) : null);
        if (nodes is not null)
        {
            // This node's zone label decides which EndpointSlice zone hints apply (trafficDistribution);
            // a change rebuilds the tables, as kube-proxy's full sync on a node label change.
            void Zone(V1Node node)
            {
                if (node.Metadata.Name != options.NodeName)
                {
                    return;
                }
                var zone = node.Metadata.Labels?.TryGetValue("topology.kubernetes.io/zone", out var z) == true ? z : null;
                foreach (var syncer in _syncers)
                {
                    syncer.SetNode(syncer.Node with { Zone = zone });
                }
                _loop.Wake();
            }
            nodes.AddHandlers(new InformerHandlers<V1Node>(Zone, (_, now) => Zone(now), _ => { }));
        }
        if (serviceCidrs is not null)
        {
            // The drop range of unallocated service addresses follows the ServiceCIDR objects
            // (Routing.ServiceRanges); a change rebuilds the tables.
            void Ranges()
            {
                var ranges = Routing.ServiceRanges.Of(serviceCidrs.Cache.List(), options.ServiceCidrs);
                foreach (var syncer in _syncers)
                {
                    var mine = ranges.Where(r => r.BaseAddress.AddressFamily == syncer.Node.Family).ToArray();
                    if (!Routing.ServiceRanges.Same(mine, syncer.Node.ServiceCidrs))
                    {
                        syncer.SetNode(syncer.Node with { ServiceCidrs = mine });
                        _loop.Wake();
                    }
                }
            }
            serviceCidrs.AddHandlers(new InformerHandlers<V1ServiceCIDR>(_ => Ranges(), (_, _) => Ranges(), _ => Ranges()));
        }
    }

    public ProxyMetrics Metrics { get; } = new();

    /// <summary>Serves the healthCheckNodePorts after each committed sync, when set.</summary>
    public ServiceHealthServer? HealthChecks { get; set; }

    /// <summary>kube-proxy's health: the first sync committed and the last one did not fail.</summary>
    public bool Healthy => Metrics.LastSync is not null && !Metrics.Failing;

    /// <summary>What each family's table holds now: Services, elements, endpoints.</summary>
    public IEnumerable<(string Family, int Services, int Elements, int Endpoints)> Programmed() =>
        _syncers.Select(s => (s.Node.IsIPv6 ? "ipv6" : "ipv4", s.Services, s.Elements, s.Endpoints));

    public Task RunAsync(CancellationToken token) => _loop.RunAsync(token);

    private void Sync(SyncRequest request)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var full = request.Full;
        foreach (var syncer in _syncers)
        {
            full |= syncer.NeedsFullSync;
            var change = syncer.Plan(Service, Slices, AllKeys, request.Keys);
            try
            {
                _nft.Apply(change.Transaction);
            }
            catch
            {
                syncer.Invalidate();
                Metrics.Failed();
                throw;
            }
            change.Commit();
            CleanConntrack(change.StaleUdp);
        }
        Metrics.Synced(System.Diagnostics.Stopwatch.GetElapsedTime(started), full, DateTimeOffset.UtcNow);
        HealthChecks?.Sync(HealthCheckPorts());
    }

    /// <summary>The healthCheckNodePorts of LoadBalancer Services with externalTrafficPolicy Local, each with this node's ready endpoints.</summary>
    private Dictionary<int, (string Key, int LocalEndpoints)> HealthCheckPorts()
    {
        var wanted = new Dictionary<int, (string, int)>();
        foreach (var service in _services.Cache.List().Where(s => s.Spec?.Type == "LoadBalancer" && s.Spec.HealthCheckNodePort > 0))
        {
            var info = ObjectProjection.ToServiceInfo(service);
            if (info.ExternalTrafficPolicy == TrafficPolicy.Local && info.ProxyName is null)
            {
                wanted[info.HealthCheckNodePort] = (info.Key, EndpointChoice.LocalReady(info, Slices(info.Key), _syncers[0].Node.NodeName));
            }
        }
        return wanted;
    }

    private ServiceInfo? Service(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        return _services.Cache.Get(key[..slash], key[(slash + 1)..]) is { } service ? ObjectProjection.ToServiceInfo(service) : null;
    }

    private IReadOnlyList<EndpointSliceInfo> Slices(string key) =>
        _slices.Cache.ByIndex(SlicesByService, key).Select(ObjectProjection.ToEndpointSliceInfo).OfType<EndpointSliceInfo>().ToArray();

    private IEnumerable<string> AllKeys() => _services.Cache.List().Select(InformerCache<V1Service>.KeyOf);

    private void CleanConntrack(IReadOnlyList<UdpPort> stale)
    {
        if (stale.Count == 0 || _listConntrack is null || _deleteConntrack is null)
        {
            return;
        }
        var entries = _listConntrack();
        foreach (var port in stale)
        {
            foreach (var entry in entries.Where(e => e.Protocol == "udp" && e.OriginalDestinationPort == port.Port
                && (port.Address is null || e.OriginalDestination.Equals(port.Address))
                && (port.Address is not null || _syncers.Any(s => s.Node.NodeIPs.Contains(e.OriginalDestination)))
                && !port.Serving.Contains(e.ReplySource)))
            {
                _deleteConntrack(new ConntrackFilter
                {
                    Protocol = "udp",
                    OriginalDestination = entry.OriginalDestination,
                    OriginalDestinationPort = entry.OriginalDestinationPort,
                    ReplySource = entry.ReplySource,
                });
            }
        }
    }
}
