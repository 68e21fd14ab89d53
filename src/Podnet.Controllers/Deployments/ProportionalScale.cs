using System.Globalization;
using k8s.Models;

namespace Podnet.Controllers.Deployments;

/// <summary>
/// What the Deployment controller does when spec.replicas changes in the middle of a rollout,
/// as upstream: a lone active ReplicaSet is resized; a saturated new one lets the old ones go;
/// otherwise the change (within replicas + maxSurge) is spread over the active ReplicaSets in
/// proportion to their size, the rounding leftover going to the largest.
/// </summary>
/// <remarks>
/// It is a scaling event when an active ReplicaSet's desired-replicas annotation differs from
/// spec.replicas; every ReplicaSet this controller sizes gets desired-replicas and max-replicas
/// (replicas + maxSurge) annotations so the next change can be told apart.
/// </remarks>
public static class ProportionalScale
{
    public const string DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas";
    public const string MaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas";

    public static int? Annotation(V1ReplicaSet rs, string name) =>
        rs.Metadata.Annotations?.TryGetValue(name, out var text) == true
        && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

    public static bool IsScalingEvent(V1Deployment deployment, IEnumerable<V1ReplicaSet> owned) =>
        owned.Where(rs => (rs.Spec?.Replicas ?? 0) > 0)
            .Any(rs => Annotation(rs, DesiredReplicasAnnotation) is { } desired && desired != (deployment.Spec.Replicas ?? 1));

    /// <summary>The new sizes of the ReplicaSets that change (annotations are refreshed by the caller on each).</summary>
    public static Dictionary<string, int> Calc(V1Deployment deployment, V1ReplicaSet? newRs, IReadOnlyList<V1ReplicaSet> old, int surge)
    {
        var desired = deployment.Spec.Replicas ?? 1;
        var result = new Dictionary<string, int>();
        var all = old.Append(newRs).OfType<V1ReplicaSet>().ToList();
        var active = all.Where(rs => Size(rs) > 0).ToList();
        var lone = active.Count switch
        {
            0 => newRs ?? old.OrderByDescending(Created).FirstOrDefault(),
            1 => active[0],
            _ => null,
        };
        if (lone is not null)
        {
            if (Size(lone) != desired)
            {
                result[lone.Metadata.Name] = desired;
            }
            return result;
        }
        if (newRs is not null && Size(newRs) == desired && Annotation(newRs, DesiredReplicasAnnotation) == desired && (newRs.Status?.AvailableReplicas ?? 0) == desired)
        {
            foreach (var rs in old.Where(rs => Size(rs) > 0))
            {
                result[rs.Metadata.Name] = 0;
            }
            return result;
        }
        if (deployment.Spec.Strategy?.Type == "Recreate")
        {
            return result;
        }
        Spread(deployment, active, desired, surge, result);
        return result;
    }

    private static void Spread(V1Deployment deployment, List<V1ReplicaSet> active, int desired, int surge, Dictionary<string, int> result)
    {
        var allowed = desired > 0 ? desired + surge : 0;
        var toAdd = allowed - active.Sum(Size);
        if (toAdd == 0)
        {
            return;
        }
        // Growing: largest first, newer first on a tie; shrinking: largest first, older first.
        var ordered = toAdd > 0
            ? active.OrderByDescending(Size).ThenByDescending(Created).ToList()
            : active.OrderByDescending(Size).ThenBy(Created).ToList();
        var added = 0;
        var sizes = ordered.ToDictionary(rs => rs.Metadata.Name, Size);
        foreach (var rs in ordered)
        {
            var share = Proportion(rs, deployment, desired, surge, toAdd, added);
            sizes[rs.Metadata.Name] += share;
            added += share;
        }
        var first = ordered[0].Metadata.Name;
        sizes[first] = Math.Max(0, sizes[first] + toAdd - added);
        foreach (var rs in ordered.Where(rs => sizes[rs.Metadata.Name] != Size(rs)))
        {
            result[rs.Metadata.Name] = sizes[rs.Metadata.Name];
        }
    }

    private static int Proportion(V1ReplicaSet rs, V1Deployment deployment, int desired, int surge, int toAdd, int added)
    {
        if (Size(rs) == 0 || toAdd == added)
        {
            return 0;
        }
        int fraction;
        if (desired == 0)
        {
            fraction = -Size(rs);
        }
        else
        {
            var annotated = Annotation(rs, MaxReplicasAnnotation) ?? deployment.Status?.Replicas ?? 0;
            var target = annotated == 0 ? Size(rs) : Math.Round((double)Size(rs) * (desired + surge) / annotated, MidpointRounding.AwayFromZero);
            fraction = (int)target - Size(rs);
        }
        var allowed = toAdd - added;
        return toAdd > 0 ? Math.Min(fraction, allowed) : Math.Max(fraction, allowed);
    }

    private static int Size(V1ReplicaSet rs) => rs.Spec?.Replicas ?? 0;

    private static DateTime Created(V1ReplicaSet rs) => rs.Metadata.CreationTimestamp ?? DateTime.MinValue;
}
