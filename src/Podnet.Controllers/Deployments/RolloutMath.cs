using System.Globalization;
using k8s.Models;

namespace Podnet.Controllers.Deployments;

/// <summary>What the rollout arithmetic needs to know about one ReplicaSet.</summary>
public sealed record ReplicaSetCounts(string Name, int Replicas, int Available, DateTime Created);

/// <summary>
/// The Deployment controller's rolling-update arithmetic, as upstream: surge rounds up,
/// unavailable rounds down, and both zero means one may be unavailable.
/// </summary>
public static class RolloutMath
{
    public static int Scaled(IntOrString? value, int total, bool roundUp, string fallback = "25%")
    {
        var text = string.IsNullOrEmpty(value?.Value) ? fallback : value.Value;
        if (!text.EndsWith('%'))
        {
            return int.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture);
        }
        var percent = int.Parse(text[..^1], NumberStyles.Integer, CultureInfo.InvariantCulture);
        var exact = (long)percent * total;
        return (int)(roundUp ? (exact + 99) / 100 : exact / 100);
    }

    public static (int Surge, int Unavailable) ResolveFenceposts(IntOrString? maxSurge, IntOrString? maxUnavailable, int desired)
    {
        var surge = Scaled(maxSurge, desired, roundUp: true);
        var unavailable = Scaled(maxUnavailable, desired, roundUp: false);
        if (surge == 0 && unavailable == 0)
        {
            unavailable = 1;
        }
        return (surge, unavailable);
    }

    /// <summary>MaxUnavailable as upstream's: never more than the desired count.</summary>
    public static int MaxUnavailable(int desired, int unavailable) => desired == 0 ? 0 : Math.Min(unavailable, desired);

    /// <summary>The new ReplicaSet's next size: grow within desired + surge, never past desired.</summary>
    public static int NewReplicaSetReplicas(int desired, int surge, int allReplicas, int newReplicas)
    {
        var maxTotal = desired + surge;
        if (allReplicas >= maxTotal)
        {
            return newReplicas;
        }
        return newReplicas + Math.Min(maxTotal - allReplicas, desired - newReplicas);
    }

    /// <summary>
    /// How far to shrink the old ReplicaSets this step: first their unavailable pods, then
    /// available ones, oldest ReplicaSet first, keeping desired − maxUnavailable available.
    /// Returns the new sizes of the ReplicaSets that change.
    /// </summary>
    public static Dictionary<string, int> ScaleDownOld(int desired, int maxUnavailable, ReplicaSetCounts newRs, IReadOnlyList<ReplicaSetCounts> old)
    {
        var result = new Dictionary<string, int>();
        if (old.Sum(r => r.Replicas) == 0)
        {
            return result;
        }
        var sizes = old.OrderBy(r => r.Created).ThenBy(r => r.Name, StringComparer.Ordinal).ToDictionary(r => r.Name, r => r.Replicas);
        var ordered = old.OrderBy(r => r.Created).ThenBy(r => r.Name, StringComparer.Ordinal).ToList();
        var minAvailable = desired - maxUnavailable;
        var allPods = newRs.Replicas + sizes.Values.Sum();
        var maxScaledDown = allPods - minAvailable - (newRs.Replicas - newRs.Available);
        if (maxScaledDown <= 0)
        {
            return result;
        }
        var cleaned = 0;
        foreach (var rs in ordered)
        {
            var unhealthy = sizes[rs.Name] - Math.Min(rs.Available, sizes[rs.Name]);
            if (cleaned >= maxScaledDown || sizes[rs.Name] == 0 || unhealthy == 0)
            {
                continue;
            }
            var down = Math.Min(maxScaledDown - cleaned, unhealthy);
            sizes[rs.Name] -= down;
            cleaned += down;
        }
        var available = newRs.Available + ordered.Sum(r => Math.Min(r.Available, sizes[r.Name]));
        var toScaleDown = available - minAvailable;
        foreach (var rs in ordered)
        {
            if (toScaleDown <= 0)
            {
                break;
            }
            var down = Math.Min(sizes[rs.Name], toScaleDown);
            sizes[rs.Name] -= down;
            toScaleDown -= down;
        }
        foreach (var rs in ordered.Where(r => sizes[r.Name] != r.Replicas))
        {
            result[rs.Name] = sizes[rs.Name];
        }
        return result;
    }
}
