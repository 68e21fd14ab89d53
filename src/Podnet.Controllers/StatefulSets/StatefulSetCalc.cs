using System.Globalization;
using k8s.Models;
using Podnet.Controllers.Common;
using Podnet.Controllers.Deployments;

namespace Podnet.Controllers.StatefulSets;

/// <summary>One sync's pod writes for a StatefulSet, and the status it reports.</summary>
public sealed record StatefulSetPlan(IReadOnlyList<V1Pod> Create, IReadOnlyList<V1Pod> Delete, V1StatefulSetStatus Status);

/// <summary>
/// The StatefulSet controller's compute step, after upstream's StatefulSetControl: pods named
/// &lt;set&gt;-&lt;ordinal&gt; for ordinals 0…replicas-1, each with its stable hostname (its name)
/// and subdomain (spec.serviceName), made from the current or the update revision's template.
/// </summary>
/// <remarks>
/// <para>OrderedReady: ordinals are created one at a time in increasing order, each only once all
/// lower ones are Running and Ready (available after minReadySeconds); pods past the replica count
/// are deleted one at a time from the highest ordinal, only while every other pod is healthy.
/// Parallel: all missing pods are created and all surplus ones deleted at once.</para>
/// <para>RollingUpdate: once the set is complete, pods with ordinal ≥ partition that are not at
/// the update revision are deleted (to be recreated at it) from the highest ordinal down, at most
/// maxUnavailable (default 1) unhealthy at a time. A new pod with ordinal below the partition is
/// made from the current revision. OnDelete: only pods a user deleted come back, at the update
/// revision.</para>
/// <para>Failed pods are deleted, to be recreated. Pods are matched by controller reference; the
/// StatefulSet adopts no orphans (a pod it did not make is left alone).</para>
/// </remarks>
public static class StatefulSetCalc
{
    public const string PodNameLabel = "statefulset.kubernetes.io/pod-name";
    public const string PodIndexLabel = "apps.kubernetes.io/pod-index";

    public static StatefulSetPlan Calc(V1StatefulSet set, IEnumerable<V1Pod> pods, RevisionPlan revisions, DateTime now)
    {
        var replicas = set.Metadata.DeletionTimestamp is null ? set.Spec.Replicas ?? 1 : 0;
        var minReady = set.Spec.MinReadySeconds ?? 0;
        var parallel = set.Spec.PodManagementPolicy == "Parallel";
        var byOrdinal = new SortedDictionary<int, V1Pod>();
        foreach (var pod in pods.Where(p => Owners.IsControlledBy(p.Metadata, set.Metadata)))
        {
            if (Ordinal(set.Metadata.Name, pod.Metadata.Name) is { } ordinal)
            {
                byOrdinal[ordinal] = pod;
            }
        }
        bool Healthy(V1Pod p) => !PodState.IsTerminating(p) && p.Status?.Phase == "Running" && PodState.IsAvailable(p, minReady, now);
        var create = new List<V1Pod>();
        var delete = new List<V1Pod>();
        var blocked = false;
        for (var ordinal = 0; ordinal < replicas && !blocked; ordinal++)
        {
            if (!byOrdinal.TryGetValue(ordinal, out var pod))
            {
                create.Add(NewPod(set, ordinal, revisions));
                blocked = !parallel;
            }
            else if (pod.Status?.Phase == "Failed" && !PodState.IsTerminating(pod))
            {
                delete.Add(pod);
                blocked = !parallel;
            }
            else if (!parallel && !Healthy(pod))
            {
                blocked = true;
            }
        }
        var condemned = byOrdinal.Where(p => p.Key >= replicas).OrderByDescending(p => p.Key).Select(p => p.Value).ToList();
        if (!blocked)
        {
            foreach (var pod in condemned)
            {
                if (PodState.IsTerminating(pod))
                {
                    if (parallel)
                    {
                        continue;
                    }
                    blocked = true;
                    break;
                }
                // OrderedReady: the highest goes first and alone, and only while the rest are healthy.
                if (!parallel && byOrdinal.Values.Any(p => p != pod && !Healthy(p)) && Healthy(pod))
                {
                    blocked = true;
                    break;
                }
                delete.Add(pod);
                if (!parallel)
                {
                    blocked = true;
                    break;
                }
            }
        }
        if (!blocked && set.Spec.UpdateStrategy?.Type != "OnDelete" && create.Count == 0)
        {
            delete.AddRange(RollingUpdate(set, byOrdinal, replicas, revisions.Update.Metadata.Name, Healthy));
        }
        var status = Status(set, byOrdinal.Values, revisions, minReady, now);
        return new StatefulSetPlan(create, delete, status);
    }

    /// <summary>Pods to delete so that they come back at the update revision: highest ordinal first, down to the partition.</summary>
    private static List<V1Pod> RollingUpdate(V1StatefulSet set, SortedDictionary<int, V1Pod> byOrdinal, int replicas, string update, Func<V1Pod, bool> healthy)
    {
        var rolling = set.Spec.UpdateStrategy?.RollingUpdate;
        var partition = Math.Max(0, rolling?.Partition ?? 0);
        var maxUnavailable = Math.Max(1, RolloutMath.Scaled(rolling?.MaxUnavailable, replicas, roundUp: true, fallback: "1"));
        var unavailable = byOrdinal.Where(p => p.Key >= partition && p.Key < replicas && !healthy(p.Value)).Count();
        var result = new List<V1Pod>();
        for (var ordinal = replicas - 1; ordinal >= partition; ordinal--)
        {
            if (!byOrdinal.TryGetValue(ordinal, out var pod))
            {
                continue;
            }
            if (Revision(pod) != update && !PodState.IsTerminating(pod))
            {
                if (unavailable >= maxUnavailable && healthy(pod))
                {
                    break;
                }
                result.Add(pod);
                unavailable += healthy(pod) ? 1 : 0;
                continue;
            }
            if (!healthy(pod) && maxUnavailable == 1)
            {
                break;
            }
        }
        return result;
    }

    private static V1StatefulSetStatus Status(V1StatefulSet set, IEnumerable<V1Pod> pods, RevisionPlan revisions, int minReady, DateTime now)
    {
        var status = new V1StatefulSetStatus
        {
            ObservedGeneration = set.Metadata.Generation,
            Replicas = 0,
            ReadyReplicas = 0,
            AvailableReplicas = 0,
            CurrentReplicas = 0,
            UpdatedReplicas = 0,
            CurrentRevision = revisions.Current.Metadata.Name,
            UpdateRevision = revisions.Update.Metadata.Name,
            CollisionCount = set.Status?.CollisionCount ?? 0,
        };
        foreach (var pod in pods)
        {
            status.Replicas++;
            if (pod.Status?.Phase == "Running" && PodState.IsReady(pod))
            {
                status.ReadyReplicas++;
                status.AvailableReplicas += PodState.IsAvailable(pod, minReady, now) ? 1 : 0;
            }
            if (!PodState.IsTerminating(pod))
            {
                status.CurrentReplicas += Revision(pod) == status.CurrentRevision ? 1 : 0;
                status.UpdatedReplicas += Revision(pod) == status.UpdateRevision ? 1 : 0;
            }
        }
        // A finished rolling update makes the update revision the current one, as upstream's completeRollingUpdate.
        if (set.Spec.UpdateStrategy?.Type != "OnDelete" && status.UpdatedReplicas == status.Replicas && status.ReadyReplicas == status.Replicas
            && status.Replicas == (set.Spec.Replicas ?? 1))
        {
            status.CurrentRevision = status.UpdateRevision;
            status.CurrentReplicas = status.UpdatedReplicas;
        }
        return status;
    }

    /// <summary>A pod of the set at <paramref name="ordinal"/>, from the revision upstream would choose for it.</summary>
    public static V1Pod NewPod(V1StatefulSet set, int ordinal, RevisionPlan revisions)
    {
        var partition = set.Spec.UpdateStrategy?.RollingUpdate?.Partition ?? 0;
        var fromCurrent = set.Spec.UpdateStrategy?.Type != "OnDelete" && ordinal < partition;
        var revision = fromCurrent ? revisions.Current : revisions.Update;
        var template = fromCurrent ? StatefulSetRevisions.Template(revision) : PodTemplateHash.Clone(set.Spec.Template);
        var name = $"{set.Metadata.Name}-{ordinal.ToString(CultureInfo.InvariantCulture)}";
        var labels = template.Metadata?.Labels is { } l ? new Dictionary<string, string>(l) : [];
        labels[StatefulSetRevisions.HashLabel] = revision.Metadata.Name;
        labels[PodNameLabel] = name;
        labels[PodIndexLabel] = ordinal.ToString(CultureInfo.InvariantCulture);
        var spec = template.Spec;
        spec.Hostname = name;
        spec.Subdomain = string.IsNullOrEmpty(set.Spec.ServiceName) ? spec.Subdomain : set.Spec.ServiceName;
        return new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta
            {
                Name = name,
                NamespaceProperty = set.Metadata.NamespaceProperty,
                Labels = labels,
                Annotations = template.Metadata?.Annotations,
                Finalizers = template.Metadata?.Finalizers,
                OwnerReferences = [Owners.ControllerRef("apps/v1", "StatefulSet", set.Metadata)],
            },
            Spec = spec,
        };
    }

    /// <summary>The ordinal of a pod named &lt;set&gt;-N, or null for any other name.</summary>
    public static int? Ordinal(string setName, string podName) =>
        podName.Length > setName.Length + 1 && podName.StartsWith(setName + "-", StringComparison.Ordinal)
        && int.TryParse(podName.AsSpan(setName.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
        && n.ToString(CultureInfo.InvariantCulture) == podName[(setName.Length + 1)..]
            ? n : null;

    public static string? Revision(V1Pod pod) => pod.Metadata.Labels is { } labels && labels.TryGetValue(StatefulSetRevisions.HashLabel, out var hash) ? hash : null;

    public static bool StatusDiffers(V1StatefulSetStatus? a, V1StatefulSetStatus b) =>
        a is null
        || (a.ObservedGeneration, a.Replicas, a.ReadyReplicas ?? 0, a.AvailableReplicas ?? 0, a.CurrentReplicas ?? 0, a.UpdatedReplicas ?? 0, a.CurrentRevision, a.UpdateRevision)
           != (b.ObservedGeneration, b.Replicas, b.ReadyReplicas ?? 0, b.AvailableReplicas ?? 0, b.CurrentReplicas ?? 0, b.UpdatedReplicas ?? 0, b.CurrentRevision, b.UpdateRevision);
}
