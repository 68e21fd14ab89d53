using k8s.Models;
using Podnet.Controllers.Common;

namespace Podnet.Controllers.Deployments;

/// <summary>
/// One sync's writes for a ReplicaSet: pods to create (from the template), pods to delete,
/// orphans to adopt and pods to release (their owner references to rewrite), and the status.
/// </summary>
public sealed record ReplicaSetPlan(IReadOnlyList<V1Pod> Create, IReadOnlyList<V1Pod> Delete, V1ReplicaSetStatus Status)
{
    public IReadOnlyList<V1Pod> Adopt { get; init; } = [];

    public IReadOnlyList<V1Pod> Release { get; init; } = [];
}

/// <summary>
/// The ReplicaSet controller's compute step: as many active pods as spec.replicas, replacing
/// deleted and failed ones, deleting the least useful first when there are too many.
/// </summary>
/// <remarks>
/// As upstream's ClaimPods: a pod it controls whose labels no longer match the selector is
/// released (and replaced); an orphan that matches is adopted, unless the ReplicaSet is being
/// deleted. Active pods are those it then controls that are neither terminal nor terminating. Deletion order
/// follows upstream's ranking: unscheduled, then pending before unknown before running, not
/// ready before ready, ready for a shorter time, more restarts, newer. New pods carry the
/// template's labels and annotations, generateName &lt;replicaset&gt;- and a controller owner
/// reference; the API server completes the name with five random characters. At most
/// <see cref="BurstReplicas"/> pods are created or deleted in one sync.
/// </remarks>
public static class ReplicaSetCalc
{
    public const int BurstReplicas = 500;

    public static ReplicaSetPlan Calc(V1ReplicaSet replicaSet, IEnumerable<V1Pod> pods, DateTime now)
    {
        var podList = pods.Where(p => p.Metadata.NamespaceProperty == replicaSet.Metadata.NamespaceProperty).ToList();
        var controlled = podList.Where(p => Owners.IsControlledBy(p.Metadata, replicaSet.Metadata)).ToList();
        var release = controlled.Where(p => !Labels.Matches(replicaSet.Spec.Selector, p.Metadata.Labels) && !PodState.IsTerminating(p)).ToList();
        var adopt = replicaSet.Metadata.DeletionTimestamp is not null ? [] : podList
            .Where(p => p.Metadata.OwnerReferences?.Any(o => o.Controller == true) != true)
            .Where(p => !PodState.IsTerminating(p) && !PodState.IsTerminal(p) && Labels.Matches(replicaSet.Spec.Selector, p.Metadata.Labels))
            .ToList();
        // By reference: V1Pod's generated equality hashes the whole object, once per pod per sync.
        var owned = controlled.Except<V1Pod>(release, ReferenceEqualityComparer.Instance).Concat(adopt).ToList();
        var active = owned.Where(p => !PodState.IsTerminal(p) && !PodState.IsTerminating(p)).ToList();
        var wanted = replicaSet.Metadata.DeletionTimestamp is null ? replicaSet.Spec.Replicas ?? 1 : active.Count;
        var diff = active.Count - wanted;
        var create = new List<V1Pod>();
        var delete = new List<V1Pod>();
        if (diff < 0)
        {
            for (var i = 0; i < Math.Min(-diff, BurstReplicas); i++)
            {
                create.Add(PodFromTemplate(replicaSet));
            }
        }
        else if (diff > 0)
        {
            delete.AddRange(active.Order(DeletionOrder.Instance).Take(Math.Min(diff, BurstReplicas)));
        }
        var minReady = replicaSet.Spec.MinReadySeconds ?? 0;
        var templateLabels = replicaSet.Spec.Template?.Metadata?.Labels ?? new Dictionary<string, string>();
        var status = new V1ReplicaSetStatus
        {
            Replicas = active.Count,
            FullyLabeledReplicas = active.Count(p => templateLabels.All(l => p.Metadata.Labels?.TryGetValue(l.Key, out var v) == true && v == l.Value)),
            ReadyReplicas = active.Count(PodState.IsReady),
            AvailableReplicas = active.Count(p => PodState.IsAvailable(p, minReady, now)),
            ObservedGeneration = replicaSet.Metadata.Generation,
        };
        return new ReplicaSetPlan(create, delete, status) { Adopt = adopt, Release = release };
    }

    public static V1Pod PodFromTemplate(V1ReplicaSet replicaSet)
    {
        var template = PodTemplateHash.Clone(replicaSet.Spec.Template);
        return new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta
            {
                GenerateName = replicaSet.Metadata.Name + "-",
                NamespaceProperty = replicaSet.Metadata.NamespaceProperty,
                Labels = template.Metadata?.Labels,
                Annotations = template.Metadata?.Annotations,
                Finalizers = template.Metadata?.Finalizers,
                OwnerReferences = [Owners.ControllerRef("apps/v1", "ReplicaSet", replicaSet.Metadata)],
            },
            Spec = template.Spec,
        };
    }

    public static bool StatusDiffers(V1ReplicaSetStatus? a, V1ReplicaSetStatus b) =>
        a is null
        || (a.Replicas, a.FullyLabeledReplicas ?? 0, a.ReadyReplicas ?? 0, a.AvailableReplicas ?? 0, a.ObservedGeneration)
           != (b.Replicas, b.FullyLabeledReplicas ?? 0, b.ReadyReplicas ?? 0, b.AvailableReplicas ?? 0, b.ObservedGeneration);

    private sealed class DeletionOrder : IComparer<V1Pod>
    {
        public static readonly DeletionOrder Instance = new();

        public int Compare(V1Pod? x, V1Pod? y)
        {
            if (x is null || y is null)
            {
                return 0;
            }
            int c;
            if ((c = Assigned(x).CompareTo(Assigned(y))) != 0 || (c = Phase(x).CompareTo(Phase(y))) != 0
                || (c = PodState.IsReady(x).CompareTo(PodState.IsReady(y))) != 0)
            {
                return c;
            }
            // Ready for less time goes first: a later transition sorts earlier.
            if ((c = ReadySince(y).CompareTo(ReadySince(x))) != 0 || (c = Restarts(y).CompareTo(Restarts(x))) != 0)
            {
                return c;
            }
            return (y.Metadata.CreationTimestamp ?? DateTime.MaxValue).CompareTo(x.Metadata.CreationTimestamp ?? DateTime.MaxValue);
        }

        private static int Assigned(V1Pod pod) => string.IsNullOrEmpty(pod.Spec?.NodeName) ? 0 : 1;

        private static int Phase(V1Pod pod) => pod.Status?.Phase switch { "Pending" => 0, "Unknown" => 1, "Running" => 2, _ => 0 };

        private static DateTime ReadySince(V1Pod pod) =>
            pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready" && c.Status == "True")?.LastTransitionTime ?? DateTime.MinValue;

        private static int Restarts(V1Pod pod) => pod.Status?.ContainerStatuses?.Sum(s => s.RestartCount) ?? 0;
    }
}
