using k8s.Models;

namespace Podnet.Controllers.Deployments;

/// <summary>
/// A Deployment's status from its ReplicaSets' statuses, as upstream: replicas, updated, ready
/// and available summed, unavailable = desired − available, and the Available and Progressing
/// conditions (without the progress deadline).
/// </summary>
public static class DeploymentStatusCalc
{
    public static V1DeploymentStatus Calc(V1Deployment deployment, V1ReplicaSet? newRs, IReadOnlyList<V1ReplicaSet> all, DateTime now, bool newRsCreated = false)
    {
        var desired = deployment.Spec.Replicas ?? 1;
        var available = all.Sum(rs => rs.Status?.AvailableReplicas ?? 0);
        var replicas = all.Sum(rs => rs.Status?.Replicas ?? 0);
        var updated = newRs?.Status?.Replicas ?? 0;
        var rolling = deployment.Spec.Strategy?.RollingUpdate;
        var maxUnavailable = deployment.Spec.Strategy?.Type == "Recreate" ? 0
            : RolloutMath.MaxUnavailable(desired, RolloutMath.ResolveFenceposts(rolling?.MaxSurge, rolling?.MaxUnavailable, desired).Unavailable);
        var isAvailable = available >= desired - maxUnavailable;
        var previous = deployment.Status?.Conditions ?? [];
        var availableCondition = isAvailable
            ? Condition(previous, "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", now)
            : Condition(previous, "Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.", now);
        var conditions = new List<V1DeploymentCondition> { availableCondition };
        if (newRs is not null)
        {
            var complete = updated == desired && replicas == desired && available == desired;
            var name = newRs.Metadata.Name;
            conditions.Add(complete ? Condition(previous, "Progressing", "True", "NewReplicaSetAvailable", $"ReplicaSet \"{name}\" has successfully progressed.", now)
                : newRsCreated ? Condition(previous, "Progressing", "True", "NewReplicaSetCreated", $"Created new replica set \"{name}\"", now)
                : Condition(previous, "Progressing", "True", "ReplicaSetUpdated", $"ReplicaSet \"{name}\" is progressing.", now));
        }
        conditions.AddRange(previous.Where(c => c.Type is not ("Available" or "Progressing") || (c.Type == "Progressing" && newRs is null)));
        return new V1DeploymentStatus
        {
            ObservedGeneration = deployment.Metadata.Generation,
            Replicas = replicas,
            UpdatedReplicas = updated,
            ReadyReplicas = all.Sum(rs => rs.Status?.ReadyReplicas ?? 0),
            AvailableReplicas = available,
            UnavailableReplicas = Math.Max(0, desired - available),
            CollisionCount = deployment.Status?.CollisionCount,
            Conditions = conditions,
        };
    }

    /// <summary>
    /// A condition as upstream keeps them: lastUpdateTime moves when anything changes,
    /// lastTransitionTime only when the status does.
    /// </summary>
    private static V1DeploymentCondition Condition(IEnumerable<V1DeploymentCondition> previous, string type, string status, string reason, string message, DateTime now)
    {
        var old = previous.FirstOrDefault(c => c.Type == type);
        if (old is not null && old.Status == status && old.Reason == reason && old.Message == message)
        {
            return old;
        }
        return new V1DeploymentCondition
        {
            Type = type,
            Status = status,
            Reason = reason,
            Message = message,
            LastUpdateTime = now,
            LastTransitionTime = old is not null && old.Status == status ? old.LastTransitionTime : now,
        };
    }

    /// <summary>True when the two statuses differ in anything a write would change.</summary>
    public static bool Differs(V1DeploymentStatus? a, V1DeploymentStatus b) =>
        a is null
        || (a.ObservedGeneration, a.Replicas ?? 0, a.UpdatedReplicas ?? 0, a.ReadyReplicas ?? 0, a.AvailableReplicas ?? 0, a.UnavailableReplicas ?? 0)
           != (b.ObservedGeneration, b.Replicas ?? 0, b.UpdatedReplicas ?? 0, b.ReadyReplicas ?? 0, b.AvailableReplicas ?? 0, b.UnavailableReplicas ?? 0)
        || a.CollisionCount != b.CollisionCount
        || !(a.Conditions ?? []).Select(c => (c.Type, c.Status, c.Reason)).Order().SequenceEqual((b.Conditions ?? []).Select(c => (c.Type, c.Status, c.Reason)).Order());
}
