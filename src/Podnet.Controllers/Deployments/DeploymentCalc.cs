using System.Globalization;
using k8s.Models;
using Podnet.Controllers.Common;

namespace Podnet.Controllers.Deployments;

/// <summary>
/// One sync's writes for a Deployment: at most one new ReplicaSet, resizes, deletions, and the
/// status. Every resized ReplicaSet also gets the desired-replicas and max-replicas annotations
/// given here (see <see cref="ProportionalScale"/>).
/// </summary>
public sealed record DeploymentPlan(
    V1ReplicaSet? Create,
    IReadOnlyDictionary<string, int> Scale,
    IReadOnlyList<string> Delete,
    V1DeploymentStatus Status,
    int DesiredReplicas,
    int MaxReplicas);

/// <summary>
/// The Deployment controller's compute step: one step of a rollout per sync, as upstream.
/// </summary>
/// <remarks>
/// RollingUpdate: make the new ReplicaSet (named &lt;deployment&gt;-&lt;hash&gt;) or grow it within
/// replicas + maxSurge; only when it did not grow, shrink old ReplicaSets while keeping
/// replicas − maxUnavailable available. Recreate: old ReplicaSets to zero, wait until their pods
/// are gone, then the new one to full size. Plain scaling falls out of the same arithmetic. A
/// complete rollout deletes empty old ReplicaSets past revisionHistoryLimit. A change of
/// spec.replicas in the middle of a rollout is a scaling event handled on its own by
/// <see cref="ProportionalScale"/>, paused or not; otherwise a paused Deployment, or one being
/// deleted, only gets its status.
/// </remarks>
public static class DeploymentCalc
{
    public const string RevisionAnnotation = "deployment.kubernetes.io/revision";

    /// <param name="now">The time conditions are stamped with; null for <see cref="DateTime.UtcNow"/>.</param>
    public static DeploymentPlan Calc(V1Deployment deployment, IEnumerable<V1ReplicaSet> replicaSets, IEnumerable<V1Pod> pods, DateTime? now = null)
    {
        var time = now ?? DateTime.UtcNow;
        var all = replicaSets.ToList();
        var owned = all.Where(rs => Owners.IsControlledBy(rs.Metadata, deployment.Metadata)).ToList();
        var newRs = owned.Where(rs => PodTemplateHash.EqualIgnoringHash(rs.Spec.Template, deployment.Spec.Template))
            .OrderBy(rs => rs.Metadata.CreationTimestamp ?? DateTime.MinValue).FirstOrDefault();
        var old = owned.Where(rs => rs != newRs).ToList();
        var desired = deployment.Spec.Replicas ?? 1;
        var surge = Surge(deployment);
        var scale = new Dictionary<string, int>();
        V1ReplicaSet? create = null;
        if (deployment.Metadata.DeletionTimestamp is not null)
        {
            // Being deleted: the API server's garbage collector takes the ReplicaSets.
        }
        else if (ProportionalScale.IsScalingEvent(deployment, owned))
        {
            // As upstream's sync(): a change of spec.replicas is applied on its own, paused or not.
            scale = ProportionalScale.Calc(deployment, newRs, old, surge);
        }
        else if (deployment.Spec.Paused != true)
        {
            if (deployment.Spec.Strategy?.Type == "Recreate")
            {
                create = Recreate(deployment, newRs, old, pods, scale);
            }
            else
            {
                create = Rolling(deployment, newRs, old, scale);
            }
        }
        if (create is not null && all.Any(rs => rs.Metadata.Name == create.Metadata.Name))
        {
            // The name is taken by a ReplicaSet with another template: as upstream, count the
            // collision, which changes the hash, and create on the next sync.
            var collided = DeploymentStatusCalc.Calc(deployment, newRs, owned, time);
            collided.CollisionCount = (deployment.Status?.CollisionCount ?? 0) + 1;
            return new DeploymentPlan(null, new Dictionary<string, int>(), [], collided, desired, desired + surge);
        }
        var effectiveNew = create ?? newRs;
        var delete = scale.Count == 0 && create is null ? HistoryToDelete(deployment, old, effectiveNew) : [];
        var status = DeploymentStatusCalc.Calc(deployment, effectiveNew, owned.Concat(create is null ? [] : [create]).ToList(), time, create is not null);
        return new DeploymentPlan(create, scale, delete, status, desired, desired + surge);
    }

    /// <summary>maxSurge resolved against spec.replicas; zero for Recreate.</summary>
    public static int Surge(V1Deployment deployment)
    {
        if (deployment.Spec.Strategy?.Type == "Recreate")
        {
            return 0;
        }
        var rolling = deployment.Spec.Strategy?.RollingUpdate;
        return RolloutMath.ResolveFenceposts(rolling?.MaxSurge, rolling?.MaxUnavailable, deployment.Spec.Replicas ?? 1).Surge;
    }

    private static V1ReplicaSet? Rolling(V1Deployment deployment, V1ReplicaSet? newRs, List<V1ReplicaSet> old, Dictionary<string, int> scale)
    {
        var desired = deployment.Spec.Replicas ?? 1;
        var rolling = deployment.Spec.Strategy?.RollingUpdate;
        var (surge, unavailable) = RolloutMath.ResolveFenceposts(rolling?.MaxSurge, rolling?.MaxUnavailable, desired);
        var allReplicas = old.Sum(Replicas) + (newRs is null ? 0 : Replicas(newRs));
        V1ReplicaSet? create = null;
        var newCounts = newRs is null ? new ReplicaSetCounts("", 0, 0, DateTime.MaxValue) : Counts(newRs);
        if (newRs is null)
        {
            var size = RolloutMath.NewReplicaSetReplicas(desired, surge, allReplicas, 0);
            create = NewReplicaSet(deployment, old, size);
            newCounts = newCounts with { Replicas = size };
        }
        else if (Replicas(newRs) > desired)
        {
            scale[newRs.Metadata.Name] = desired;
            return null;
        }
        else if (Replicas(newRs) < desired)
        {
            var size = RolloutMath.NewReplicaSetReplicas(desired, surge, allReplicas, Replicas(newRs));
            if (size != Replicas(newRs))
            {
                scale[newRs.Metadata.Name] = size;
                return null;
            }
        }
        var maxUnavailable = RolloutMath.MaxUnavailable(desired, unavailable);
        var active = old.Where(rs => Replicas(rs) > 0).Select(Counts).ToList();
        foreach (var (name, size) in RolloutMath.ScaleDownOld(desired, maxUnavailable, newCounts, active))
        {
            scale[name] = size;
        }
        return create;
    }

    private static V1ReplicaSet? Recreate(V1Deployment deployment, V1ReplicaSet? newRs, List<V1ReplicaSet> old, IEnumerable<V1Pod> pods, Dictionary<string, int> scale)
    {
        foreach (var rs in old.Where(rs => Replicas(rs) > 0))
        {
            scale[rs.Metadata.Name] = 0;
        }
        if (scale.Count > 0)
        {
            return null;
        }
        var oldUids = old.Select(rs => rs.Metadata.Uid).ToHashSet();
        var oldPodsLeft = pods.Any(p => p.Metadata.OwnerReferences?.Any(o => o.Controller == true && oldUids.Contains(o.Uid)) == true
            && p.Status?.Phase is not ("Succeeded" or "Failed"));
        if (oldPodsLeft)
        {
            return null;
        }
        var desired = deployment.Spec.Replicas ?? 1;
        if (newRs is null)
        {
            return NewReplicaSet(deployment, old, desired);
        }
        if (Replicas(newRs) != desired)
        {
            scale[newRs.Metadata.Name] = desired;
        }
        return null;
    }

    private static List<string> HistoryToDelete(V1Deployment deployment, List<V1ReplicaSet> old, V1ReplicaSet? newRs)
    {
        var limit = deployment.Spec.RevisionHistoryLimit ?? 10;
        var complete = newRs is not null && (newRs.Status?.AvailableReplicas ?? 0) >= (deployment.Spec.Replicas ?? 1)
            && old.All(rs => Replicas(rs) == 0);
        if (!complete)
        {
            return [];
        }
        var removable = old.Where(rs => Replicas(rs) == 0 && (rs.Status?.Replicas ?? 0) == 0)
            .OrderBy(rs => rs.Metadata.CreationTimestamp ?? DateTime.MinValue).ToList();
        return removable.Take(Math.Max(0, old.Count - limit)).Select(rs => rs.Metadata.Name).ToList();
    }

    public static V1ReplicaSet NewReplicaSet(V1Deployment deployment, IEnumerable<V1ReplicaSet> old, int replicas)
    {
        var hash = PodTemplateHash.Compute(deployment.Spec.Template, deployment.Status?.CollisionCount);
        var template = PodTemplateHash.Clone(deployment.Spec.Template);
        template.Metadata ??= new V1ObjectMeta();
        template.Metadata.Labels = new Dictionary<string, string>(template.Metadata.Labels ?? new Dictionary<string, string>()) { [PodTemplateHash.Label] = hash };
        var selector = new V1LabelSelector
        {
            MatchLabels = new Dictionary<string, string>(deployment.Spec.Selector?.MatchLabels ?? new Dictionary<string, string>()) { [PodTemplateHash.Label] = hash },
            MatchExpressions = deployment.Spec.Selector?.MatchExpressions,
        };
        var revision = old.Select(rs => rs.Metadata.Annotations?.TryGetValue(RevisionAnnotation, out var r) == true && long.TryParse(r, out var n) ? n : 0)
            .DefaultIfEmpty(0).Max() + 1;
        return new V1ReplicaSet
        {
            ApiVersion = "apps/v1",
            Kind = "ReplicaSet",
            Metadata = new V1ObjectMeta
            {
                Name = $"{deployment.Metadata.Name}-{hash}",
                NamespaceProperty = deployment.Metadata.NamespaceProperty,
                Labels = new Dictionary<string, string>(template.Metadata.Labels),
                Annotations = new Dictionary<string, string>
                {
                    [RevisionAnnotation] = revision.ToString(CultureInfo.InvariantCulture),
                    [ProportionalScale.DesiredReplicasAnnotation] = (deployment.Spec.Replicas ?? 1).ToString(CultureInfo.InvariantCulture),
                    [ProportionalScale.MaxReplicasAnnotation] = ((deployment.Spec.Replicas ?? 1) + Surge(deployment)).ToString(CultureInfo.InvariantCulture),
                },
                OwnerReferences = [Owners.ControllerRef("apps/v1", "Deployment", deployment.Metadata)],
            },
            Spec = new V1ReplicaSetSpec { Replicas = replicas, MinReadySeconds = deployment.Spec.MinReadySeconds, Selector = selector, Template = template },
        };
    }

    private static int Replicas(V1ReplicaSet rs) => rs.Spec?.Replicas ?? 0;

    private static ReplicaSetCounts Counts(V1ReplicaSet rs) =>
        new(rs.Metadata.Name, Replicas(rs), rs.Status?.AvailableReplicas ?? 0, rs.Metadata.CreationTimestamp ?? DateTime.MinValue);
}
