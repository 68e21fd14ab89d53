using System.Net;
using k8s;
using k8s.Models;
using Podnet.Controllers.Common;
using Podnet.Controllers.Runtime;

namespace Podnet.Controllers.Endpoints;

/// <summary>
/// endpoints: the v1 Endpoints of every Service with a selector, beside the EndpointSlices, as
/// kube-controller-manager's endpoints controller still writes them.
/// </summary>
/// <remarks>
/// Endpoints of Services without a selector are left to their writer (the mirroring controller
/// copies them into slices; the `kubernetes` Service's are the API server's). As upstream, when a
/// Service this controller wrote Endpoints for is deleted, its Endpoints go too; Endpoints this
/// process never wrote are never deleted (upstream also sweeps leftovers at start, which would
/// take user-written Endpoints of a missing Service with them). Replacements carry the
/// resourceVersion they were computed from, so a stale cache fails with 409 and is retried.
/// </remarks>
internal sealed class EndpointsController : QueueController
{
    private readonly IKubernetes _client;
    private readonly HashSet<string> _managed = new(StringComparer.Ordinal);

    public EndpointsController(IKubernetes client, SharedInformers informers, ControllerOptions options)
        : base(informers, options)
    {
        _client = client;
        WakeOn(informers.Services);
        WakeOn(informers.Pods);
        WakeOn(informers.Endpoints);
    }

    public override string Name => "endpoints";

    protected override async Task SyncAsync(CancellationToken cancellationToken)
    {
        var services = Informers.Services.Cache.List().ToDictionary(s => PodState.Key(s.Metadata));
        var endpoints = Informers.Endpoints.Cache.List().ToDictionary(e => PodState.Key(e.Metadata));
        var podsByNs = Informers.Pods.Cache.List().ToLookup(p => p.Metadata.NamespaceProperty);
        foreach (var (key, service) in services)
        {
            if (service.Spec?.Selector is not { Count: > 0 })
            {
                continue;
            }
            _managed.Add(key);
            var plan = EndpointsCalc.Calc(service, podsByNs[service.Metadata.NamespaceProperty], endpoints.GetValueOrDefault(key));
            var ns = service.Metadata.NamespaceProperty;
            if (plan.Create is { } created)
            {
                // 409: the cache has not shown it yet; the watch event wakes the next sync.
                await Writes.TolerateAsync(() => _client.CoreV1.CreateNamespacedEndpointsAsync(created, ns, cancellationToken: cancellationToken), HttpStatusCode.Conflict).ConfigureAwait(false);
            }
            else if (plan.Update is { } updated)
            {
                await Writes.TolerateAsync(() => _client.CoreV1.ReplaceNamespacedEndpointsAsync(updated, updated.Metadata.Name, ns, cancellationToken: cancellationToken), HttpStatusCode.NotFound).ConfigureAwait(false);
            }
        }
        foreach (var key in _managed.Where(k => !services.ContainsKey(k)).ToList())
        {
            if (endpoints.TryGetValue(key, out var orphan))
            {
                await Writes.TolerateAsync(() => _client.CoreV1.DeleteNamespacedEndpointsAsync(orphan.Metadata.Name, orphan.Metadata.NamespaceProperty, cancellationToken: cancellationToken), HttpStatusCode.NotFound).ConfigureAwait(false);
            }
            _managed.Remove(key);
        }
    }
}
