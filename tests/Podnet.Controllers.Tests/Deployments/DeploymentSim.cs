using k8s.Models;
using Podnet.Controllers.Deployments;

namespace Podnet.Controllers.Tests.Deployments;

/// <summary>
/// Drives DeploymentCalc through syncs against an in-memory set of ReplicaSets whose pods
/// become available after <see cref="AvailabilityLag"/> syncs, checking the rollout bounds at
/// every step.
/// </summary>
internal sealed class DeploymentSim
{
    private readonly Dictionary<string, int> _pendingSince = [];
    private int _clock;

    public DeploymentSim(V1Deployment deployment) => Deployment = deployment;

    public V1Deployment Deployment { get; }

    public List<V1ReplicaSet> ReplicaSets { get; } = [];

    public List<string> Trace { get; } = [];

    public int AvailabilityLag { get; init; } = 1;

    public int MaxTotalSeen { get; private set; }

    public int MinAvailableSeen { get; private set; } = int.MaxValue;

    public DeploymentPlan Sync()
    {
        var plan = DeploymentCalc.Calc(Deployment, ReplicaSets, []);
        _clock++;
        if (plan.Create is { } created)
        {
            created.Metadata.Uid = "uid-" + created.Metadata.Name;
            created.Metadata.CreationTimestamp = new DateTime(2026, 1, 1).AddMinutes(_clock);
            created.Status = new V1ReplicaSetStatus { Replicas = 0, AvailableReplicas = 0 };
            ReplicaSets.Add(created);
        }
        foreach (var (name, size) in plan.Scale)
        {
            var rs = ReplicaSets.Single(rs => rs.Metadata.Name == name);
            rs.Spec.Replicas = size;
            rs.Metadata.Annotations[ProportionalScale.DesiredReplicasAnnotation] = plan.DesiredReplicas.ToString(System.Globalization.CultureInfo.InvariantCulture);
            rs.Metadata.Annotations[ProportionalScale.MaxReplicasAnnotation] = plan.MaxReplicas.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        ReplicaSets.RemoveAll(rs => plan.Delete.Contains(rs.Metadata.Name));
        Deployment.Status = plan.Status;
        Observe();
        Trace.Add(string.Join(" ", ReplicaSets.Select(rs => $"{rs.Spec.Template.Spec.Containers[0].Image}:{rs.Spec.Replicas}/{rs.Status.AvailableReplicas}")));
        return plan;
    }

    /// <summary>Pods appear at once and become available <see cref="AvailabilityLag"/> syncs later; removed pods go at once.</summary>
    private void Observe()
    {
        foreach (var rs in ReplicaSets)
        {
            var spec = rs.Spec.Replicas ?? 0;
            var available = rs.Status.AvailableReplicas ?? 0;
            if (available > spec)
            {
                available = spec;
            }
            else if (available < spec)
            {
                _pendingSince.TryAdd(rs.Metadata.Name, _clock);
                if (_clock - _pendingSince[rs.Metadata.Name] >= AvailabilityLag)
                {
                    available = spec;
                    _pendingSince.Remove(rs.Metadata.Name);
                }
            }
            rs.Status.Replicas = spec;
            rs.Status.ReadyReplicas = available;
            rs.Status.AvailableReplicas = available;
        }
        MaxTotalSeen = Math.Max(MaxTotalSeen, ReplicaSets.Sum(rs => rs.Status.Replicas));
        MinAvailableSeen = Math.Min(MinAvailableSeen, ReplicaSets.Sum(rs => rs.Status.AvailableReplicas ?? 0));
    }

    /// <summary>Syncs until every pod is available and a sync writes nothing; returns how many syncs it took.</summary>
    public int RunToCompletion(int limit = 200)
    {
        for (var i = 1; i <= limit; i++)
        {
            var before = Deployment.Status;
            var settled = ReplicaSets.All(rs => rs.Status.AvailableReplicas == rs.Spec.Replicas);
            var plan = Sync();
            if (settled && plan.Create is null && plan.Scale.Count == 0 && plan.Delete.Count == 0 && !DeploymentStatusCalc.Differs(before, plan.Status))
            {
                return i;
            }
        }
        throw new InvalidOperationException("the rollout did not converge: " + string.Join(" | ", Trace));
    }
}
