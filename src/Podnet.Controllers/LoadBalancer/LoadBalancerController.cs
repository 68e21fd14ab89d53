using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Podnet.Controllers.Common;
using Podnet.Controllers.Runtime;

namespace Podnet.Controllers.LoadBalancer;

/// <summary>
/// loadbalancer: status.loadBalancer.ingress for LoadBalancer Services from the pool; an Event
/// when a Service cannot get its addresses.
/// </summary>
/// <remarks>
/// Addresses written but not yet seen in the cache are laid over the cached Services before
/// computing, so the next sync neither hands them out again nor rewrites them.
/// </remarks>
internal sealed class LoadBalancerController : QueueController
{
    private readonly IKubernetes _client;
    private readonly EventRecorder _events;
    private readonly Expectations<IReadOnlyList<string>> _pending;

    public LoadBalancerController(IKubernetes client, SharedInformers informers, ControllerOptions options)
        : base(informers, options)
    {
        _client = client;
        _events = new EventRecorder(client, "podnet-loadbalancer-controller");
        _pending = new Expectations<IReadOnlyList<string>>(options.ExpectationTimeout);
        WakeOn(informers.Services);
    }

    public override string Name => "loadbalancer";

    protected override async Task SyncAsync(CancellationToken cancellationToken)
    {
        var services = Informers.Services.Cache.List().ToDictionary(s => PodState.Key(s.Metadata));
        _pending.Prune((key, ips) => !services.TryGetValue(key, out var s) || Ips(s).SequenceEqual(ips));
        var view = services.Values.Select(s => _pending.TryGet(PodState.Key(s.Metadata), out var ips) ? WithIngress(s, ips) : s);
        var plan = LoadBalancerCalc.Calc(Options.LoadBalancerPool, view);
        foreach (var assignment in plan.Assign)
        {
            var ingress = new JsonArray([.. assignment.Ips.Select(ip => (JsonNode)new JsonObject { ["ip"] = ip, ["ipMode"] = "VIP" })]);
            var patch = new JsonObject { ["status"] = new JsonObject { ["loadBalancer"] = new JsonObject { ["ingress"] = ingress } } };
            await _client.CoreV1.PatchNamespacedServiceStatusAsync(Writes.Merge(patch), assignment.Name, assignment.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
            _pending.Set($"{assignment.Namespace}/{assignment.Name}", assignment.Ips);
        }
        foreach (var problem in plan.Problems)
        {
            var service = services[$"{problem.Namespace}/{problem.Name}"];
            await _events.RecordAsync(EventRecorder.Ref("Service", service.Metadata), "Warning", problem.Reason, problem.Message, cancellationToken).ConfigureAwait(false);
        }
    }

    private static IEnumerable<string> Ips(V1Service service) =>
        (service.Status?.LoadBalancer?.Ingress ?? []).Select(i => i.Ip).OfType<string>();

    private static V1Service WithIngress(V1Service service, IReadOnlyList<string> ips) => new()
    {
        Metadata = service.Metadata,
        Spec = service.Spec,
        Status = new V1ServiceStatus { LoadBalancer = new V1LoadBalancerStatus { Ingress = ips.Select(ip => new V1LoadBalancerIngress { Ip = ip }).ToList() } },
    };
}
