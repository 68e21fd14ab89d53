using System.Net;
using k8s;
using k8s.Models;
using Podnet.Controllers.Common;
using Podnet.Controllers.Runtime;

namespace Podnet.Controllers.EndpointSlices;

/// <summary>
/// endpointslices: EndpointSlices for Services with a selector, and the mirror of the Endpoints
/// of Services without one.
/// </summary>
/// <remarks>
/// Slices this controller created are expected until the cache shows them; the Service (or
/// Endpoints) is not synced meanwhile, so a stale cache never makes duplicates. Updates carry
/// the resourceVersion they were computed from, so a stale one fails with 409 and is retried.
/// Managed slices whose Service (or Endpoints) is gone are deleted.
/// </remarks>
internal sealed class EndpointSliceController : QueueController
{
    private readonly IKubernetes _client;
    private readonly Expectations<HashSet<string>> _created;

    public EndpointSliceController(IKubernetes client, SharedInformers informers, ControllerOptions options)
        : base(informers, options)
    {
        _client = client;
        _created = new Expectations<HashSet<string>>(options.ExpectationTimeout);
        WakeOn(informers.Services);
        WakeOn(informers.Pods);
        WakeOn(informers.EndpointSlices);
        WakeOn(informers.Endpoints);
        WakeOn(informers.Nodes);
    }

    public override string Name => "endpointslices";

    protected override async Task SyncAsync(CancellationToken cancellationToken)
    {
        var slices = Informers.EndpointSlices.Cache.List();
        var sliceNames = slices.Select(s => PodState.Key(s.Metadata)).ToHashSet();
        _created.Prune((_, names) => names.All(sliceNames.Contains));
        var services = Informers.Services.Cache.List().ToDictionary(s => PodState.Key(s.Metadata));
        var podsByNs = Informers.Pods.Cache.List().ToLookup(p => p.Metadata.NamespaceProperty);
        var nodes = Informers.Nodes.Cache.List().ToDictionary(n => n.Metadata.Name);
        var slicesByOwner = slices.ToLookup(s => $"{s.Metadata.NamespaceProperty}/{ServiceName(s)}");
        foreach (var (key, service) in services)
        {
            if (!_created.TryGet("svc:" + key, out _))
            {
                var plan = EndpointSliceCalc.Calc(service, podsByNs[service.Metadata.NamespaceProperty], slicesByOwner[key], nodes, Options.MaxEndpointsPerSlice);
                await ApplyAsync("svc:" + key, service.Metadata.NamespaceProperty, plan, cancellationToken).ConfigureAwait(false);
            }
        }
        var endpoints = Informers.Endpoints.Cache.List().ToDictionary(e => PodState.Key(e.Metadata));
        foreach (var (key, item) in endpoints)
        {
            if (!_created.TryGet("ep:" + key, out _))
            {
                var plan = EndpointSliceMirroring.Calc(item, services.GetValueOrDefault(key), slicesByOwner[key], Options.MaxEndpointsPerSlice);
                await ApplyAsync("ep:" + key, item.Metadata.NamespaceProperty, plan, cancellationToken).ConfigureAwait(false);
            }
        }
        await DeleteOrphansAsync(slices, services, endpoints, cancellationToken).ConfigureAwait(false);
    }

    private static string? ServiceName(V1EndpointSlice slice) =>
        Label(slice, EndpointSliceLabels.ServiceName);

    private static string? Label(V1EndpointSlice slice, string key) =>
        slice.Metadata.Labels is { } labels && labels.TryGetValue(key, out var value) ? value : null;

    private async Task DeleteOrphansAsync(IReadOnlyList<V1EndpointSlice> slices, Dictionary<string, V1Service> services,
        Dictionary<string, V1Endpoints> endpoints, CancellationToken ct)
    {
        foreach (var slice in slices)
        {
            var owner = $"{slice.Metadata.NamespaceProperty}/{ServiceName(slice)}";
            var manager = Label(slice, EndpointSliceLabels.ManagedBy);
            var orphan = manager switch
            {
                EndpointSliceLabels.ControllerName => !services.ContainsKey(owner),
                EndpointSliceLabels.MirroringControllerName => !endpoints.ContainsKey(owner),
                _ => false,
            };
            if (orphan)
            {
                await Writes.TolerateAsync(() => _client.DiscoveryV1.DeleteNamespacedEndpointSliceAsync(slice.Metadata.Name, slice.Metadata.NamespaceProperty, cancellationToken: ct), HttpStatusCode.NotFound).ConfigureAwait(false);
            }
        }
    }

    private async Task ApplyAsync(string owner, string ns, EndpointSlicePlan plan, CancellationToken ct)
    {
        foreach (var slice in plan.Delete)
        {
            await Writes.TolerateAsync(() => _client.DiscoveryV1.DeleteNamespacedEndpointSliceAsync(slice.Metadata.Name, ns, cancellationToken: ct), HttpStatusCode.NotFound).ConfigureAwait(false);
        }
        foreach (var slice in plan.Update)
        {
            await _client.DiscoveryV1.ReplaceNamespacedEndpointSliceAsync(slice, slice.Metadata.Name, ns, cancellationToken: ct).ConfigureAwait(false);
        }
        var created = new HashSet<string>(StringComparer.Ordinal);
        foreach (var slice in plan.Create)
        {
            var made = await _client.DiscoveryV1.CreateNamespacedEndpointSliceAsync(slice, ns, cancellationToken: ct).ConfigureAwait(false);
            created.Add(PodState.Key(made.Metadata));
        }
        if (created.Count > 0)
        {
            _created.Set(owner, created);
        }
    }
}
