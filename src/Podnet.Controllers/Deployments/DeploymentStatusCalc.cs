using k8s.Models;

namespace Podnet.Controllers.Deployments;

/// <summary>
/// A Deployment's status from its ReplicaSets' statuses, as upstream: replicas, updated, ready
/// and available summed, unavailable = desired − available, and the Available condition.
/// </summary>
public static class DeploymentStatusCalc
{
    public static V1DeploymentStatus Calc(V1Deployment deployment, V1ReplicaSet? newRs, IReadOnlyList<V1ReplicaSet> all)
    {
        var desired = deployment.Spec.Replicas ?? 1;
        var available = all.Sum(rs => rs.Status?.AvailableReplicas ?? 0);
        var rolling = deployment.Spec.Strategy?.RollingUpdate;
        var maxUnavailable = deployment.Spec.Strategy?.Type == "Recreate" ? 0
            : RolloutMath.MaxUnavailable(desired, RolloutMath.ResolveFenceposts(rolling?.MaxSurge, rolling?.MaxUnavailable, desired).Unavailable);
        var isAvailable = available >= desired - maxUnavailable;
        var previous = deployment.Status?.Conditions?.FirstOrDefault(c => c.Type == "Available");
        var status = isAvailable ? "True" : "False";
        var condition = previous is not null && previous.Status == status ? previous : new V1DeploymentCondition
        {
            Type = "Available",
            Status = status,
            Reason = isAvailable ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
            Message = isAvailable ? "Deployment has minimum availability." : "Deployment does not have minimum availability.",
        };
        var conditions = (deployment.Status?.Conditions ?? []).Where(c => c.Type != "Available").Prepend(condition).ToList();
        return new V1DeploymentStatus
        {
            ObservedGeneration = deployment.Metadata.Generation,
            Replicas = all.Sum(rs => rs.Status?.Replicas ?? 0),
            UpdatedReplicas = newRs?.Status?.Replicas ?? 0,
            ReadyReplicas = all.Sum(rs => rs.Status?.ReadyReplicas ?? 0),
            AvailableReplicas = available,
            UnavailableReplicas = Math.Max(0, desired - available),
            CollisionCount = deployment.Status?.CollisionCount,
            Conditions = conditions,
        };
    }

    /// <summary>True when the two statuses differ in anything a write would change.</summary>
    public static bool Differs(V1DeploymentStatus? a, V1DeploymentStatus b) =>
        a is null
        || (a.ObservedGeneration, a.Replicas ?? 0, a.UpdatedReplicas ?? 0, a.ReadyReplicas ?? 0, a.AvailableReplicas ?? 0, a.UnavailableReplicas ?? 0)
           != (b.ObservedGeneration, b.Replicas ?? 0, b.UpdatedReplicas ?? 0, b.ReadyReplicas ?? 0, b.AvailableReplicas ?? 0, b.UnavailableReplicas ?? 0)
        || a.CollisionCount != b.CollisionCount
        || a.Conditions?.FirstOrDefault(c => c.Type == "Available")?.Status != b.Conditions?.FirstOrDefault(c => c.Type == "Available")?.Status;
}
