using k8s.Models;
using Podnet.Controllers.Common;
using Podnet.Controllers.Deployments;

namespace Podnet.Controllers.Disruption;

/// <summary>A scalable controller a budget's pods belong to: its identity and spec.replicas.</summary>
public sealed record ScaleOf(string Uid, int Replicas);

/// <summary>
/// The disruption controller's compute step: a PodDisruptionBudget's status from the pods its
/// selector picks, as upstream's DisruptionController.
/// </summary>
/// <remarks>
/// <para>expectedPods is the pod count for an integer minAvailable, else the sum of spec.replicas
/// of the pods' controllers (each counted once) — found through <c>scaleOf</c>, which answers for
/// a pod's controller reference (a ReplicaSet counts as its Deployment). A pod whose controller
/// is not found makes the budget fail safe: no disruption allowed, condition reason SyncFailed.</para>
/// <para>A pod counts as healthy when Ready and not being deleted, unless the eviction
/// subresource recorded it in disruptedPods less than <see cref="DeletionTimeout"/> ago: that
/// disruption is spent until the deletion shows. Entries for pods gone, going, or older than the
/// timeout are dropped. disruptionsAllowed = currentHealthy − desiredHealthy, never below 0.</para>
/// </remarks>
public static class DisruptionCalc
{
    public static readonly TimeSpan DeletionTimeout = TimeSpan.FromMinutes(2);

    public const string ConditionType = "DisruptionAllowed";

    public static V1PodDisruptionBudgetStatus Calc(V1PodDisruptionBudget budget, IEnumerable<V1Pod> pods, Func<V1Pod, ScaleOf?> scaleOf, DateTime now)
    {
        var selected = pods.Where(p => p.Metadata.NamespaceProperty == budget.Metadata.NamespaceProperty && Selects(budget.Spec.Selector, p)).ToList();
        var disrupted = new Dictionary<string, DateTime?>();
        foreach (var (name, when) in budget.Status?.DisruptedPods ?? new Dictionary<string, DateTime?>())
        {
            var pod = selected.FirstOrDefault(p => p.Metadata.Name == name);
            if (pod is not null && !PodState.IsTerminating(pod) && when + DeletionTimeout > now)
            {
                disrupted[name] = when;
            }
        }
        var healthy = selected.Count(p => !PodState.IsTerminating(p) && PodState.IsReady(p) && !disrupted.ContainsKey(p.Metadata.Name));
        var (expected, desired, error) = Expectation(budget.Spec, selected, scaleOf);
        var allowed = error is null && expected > 0 ? Math.Max(0, healthy - desired) : 0;
        var condition = new V1Condition
        {
            Type = ConditionType,
            Status = allowed > 0 ? "True" : "False",
            Reason = error is not null ? "SyncFailed" : allowed > 0 ? "SufficientPods" : "InsufficientPods",
            Message = error ?? "",
            ObservedGeneration = budget.Metadata.Generation,
            LastTransitionTime = new DateTime(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc), // metav1.Time: whole seconds
        };
        var previous = budget.Status?.Conditions?.FirstOrDefault(c => c.Type == ConditionType);
        if (previous is not null && previous.Status == condition.Status && previous.Reason == condition.Reason && previous.Message == condition.Message)
        {
            condition.LastTransitionTime = previous.LastTransitionTime;
        }
        return new V1PodDisruptionBudgetStatus
        {
            ObservedGeneration = budget.Metadata.Generation,
            CurrentHealthy = healthy,
            DesiredHealthy = desired,
            ExpectedPods = expected,
            DisruptionsAllowed = allowed,
            DisruptedPods = disrupted.Count > 0 ? disrupted : null,
            Conditions = [condition],
        };
    }

    /// <summary>(expectedPods, desiredHealthy, an error that makes the budget fail safe).</summary>
    private static (int Expected, int Desired, string? Error) Expectation(V1PodDisruptionBudgetSpec spec, List<V1Pod> pods, Func<V1Pod, ScaleOf?> scaleOf)
    {
        var minAvailable = Given(spec.MinAvailable);
        var maxUnavailable = Given(spec.MaxUnavailable);
        if (maxUnavailable is null && minAvailable?.Value is { } min && !min.EndsWith('%'))
        {
            return (pods.Count, RolloutMath.Scaled(minAvailable, 0, roundUp: true), null);
        }
        var controllers = new Dictionary<string, int>();
        foreach (var pod in pods)
        {
            if (scaleOf(pod) is not { } scale)
            {
                return (0, 0, $"found no controllers for pod \"{pod.Metadata.Name}\"");
            }
            controllers[scale.Uid] = scale.Replicas;
        }
        var expected = controllers.Values.Sum();
        if (maxUnavailable is not null)
        {
            return (expected, Math.Max(0, expected - RolloutMath.Scaled(maxUnavailable, expected, roundUp: true)), null);
        }
        return (expected, minAvailable is not null ? RolloutMath.Scaled(minAvailable, expected, roundUp: true) : 0, null);
    }

    /// <summary>An intstr that is set: KubernetesClient reads an absent one as null or as one with no value.</summary>
    private static IntOrString? Given(IntOrString? value) => string.IsNullOrEmpty(value?.Value) ? null : value;

    /// <summary>The controller's selection: a null selector picks nothing, an empty one every pod.</summary>
    private static bool Selects(V1LabelSelector? selector, V1Pod pod) =>
        selector is not null && Labels.Matches(selector, pod.Metadata.Labels);

    public static bool Differs(V1PodDisruptionBudgetStatus? a, V1PodDisruptionBudgetStatus b)
    {
        if (a is null)
        {
            return true;
        }
        var ac = a.Conditions?.FirstOrDefault(c => c.Type == ConditionType);
        var bc = b.Conditions?.FirstOrDefault(c => c.Type == ConditionType);
        return (a.ObservedGeneration, a.CurrentHealthy, a.DesiredHealthy, a.ExpectedPods, a.DisruptionsAllowed, a.DisruptedPods?.Count ?? 0, ac?.Status, ac?.Reason, ac?.Message)
            != (b.ObservedGeneration, b.CurrentHealthy, b.DesiredHealthy, b.ExpectedPods, b.DisruptionsAllowed, b.DisruptedPods?.Count ?? 0, bc?.Status, bc?.Reason, bc?.Message);
    }
}
