using System.Net;
using k8s;
using k8s.Models;
using Podnet.Controllers.Common;
using Podnet.Controllers.Runtime;

namespace Podnet.Controllers.Scheduling;

/// <summary>scheduler: binds pending pods to nodes through the binding subresource.</summary>
/// <remarks>
/// A pod bound here is "assumed" on its node until the cache shows the binding, so the pod
/// counts of the next sync are right and the pod is not bound twice.
/// </remarks>
internal sealed class SchedulerController : QueueController
{
    private readonly IKubernetes _client;
    private readonly EventRecorder _events;
    private readonly Expectations<string> _assumed;

    public SchedulerController(IKubernetes client, SharedInformers informers, ControllerOptions options)
        : base(informers, options)
    {
        _client = client;
        _events = new EventRecorder(client, "default-scheduler");
        _assumed = new Expectations<string>(options.ExpectationTimeout);
        WakeOn(informers.Pods);
        WakeOn(informers.Nodes);
    }

    private const int MaxConcurrentBindings = 16;

    public override string Name => "scheduler";

    protected override async Task SyncAsync(CancellationToken cancellationToken)
    {
        var pods = Informers.Pods.Cache.List();
        var byKey = pods.ToDictionary(p => PodState.Key(p.Metadata));
        _assumed.Prune((key, _) => !byKey.TryGetValue(key, out var pod) || !string.IsNullOrEmpty(pod.Spec?.NodeName));
        var view = pods.Select(p => _assumed.TryGet(PodState.Key(p.Metadata), out var node) ? Assume(p, node) : p);
        // The decisions are made for every pending pod at once; their bindings are written
        // concurrently (as upstream's binding cycles run beside the scheduling loop).
        var results = SchedulerCalc.ScheduleAll(view, Informers.Nodes.Cache.List()).ToList();
        await Parallel.ForEachAsync(results, new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentBindings, CancellationToken = cancellationToken }, async (result, ct) =>
        {
            var pod = byKey[$"{result.PodNamespace}/{result.PodName}"];
            if (result.NodeName is null)
            {
                await _events.RecordAsync(EventRecorder.Ref("Pod", pod.Metadata), "Warning", "FailedScheduling", result.Reason!, ct).ConfigureAwait(false);
                return;
            }
            var binding = new V1Binding
            {
                Metadata = new V1ObjectMeta { Name = result.PodName, NamespaceProperty = result.PodNamespace, Uid = pod.Metadata.Uid },
                Target = new V1ObjectReference { Kind = "Node", ApiVersion = "v1", Name = result.NodeName },
            };
            var bound = await Writes.TolerateAsync(
                () => _client.CoreV1.CreateNamespacedPodBindingAsync(binding, result.PodName, result.PodNamespace, cancellationToken: ct),
                HttpStatusCode.Conflict, HttpStatusCode.NotFound).ConfigureAwait(false);
            lock (_assumed)
            {
                _assumed.Set(PodState.Key(pod.Metadata), result.NodeName);
            }
            if (bound)
            {
                await _events.RecordAsync(EventRecorder.Ref("Pod", pod.Metadata), "Normal", "Scheduled",
                    $"Successfully assigned {result.PodNamespace}/{result.PodName} to {result.NodeName}", ct).ConfigureAwait(false);
            }
        }).ConfigureAwait(false);
    }

    private static V1Pod Assume(V1Pod pod, string node) => new()
    {
        Metadata = pod.Metadata,
        Spec = new V1PodSpec { NodeName = node, Containers = pod.Spec.Containers },
        Status = pod.Status,
    };
}
