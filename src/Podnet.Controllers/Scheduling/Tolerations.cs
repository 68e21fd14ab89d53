using k8s.Models;

namespace Podnet.Controllers.Scheduling;

/// <summary>Toleration matching with upstream's rules.</summary>
public static class Tolerations
{
    public static bool ToleratesTaint(IEnumerable<V1Toleration>? tolerations, V1Taint taint) =>
        (tolerations ?? []).Any(t => Tolerates(t, taint));

    /// <remarks>
    /// An empty effect matches every effect; an empty key with operator Exists matches every
    /// taint; Exists ignores the value; Equal (the default operator) compares it.
    /// </remarks>
    public static bool Tolerates(V1Toleration toleration, V1Taint taint)
    {
        if (!string.IsNullOrEmpty(toleration.Effect) && toleration.Effect != taint.Effect)
        {
            return false;
        }
        if (!string.IsNullOrEmpty(toleration.Key) && toleration.Key != taint.Key)
        {
            return false;
        }
        return toleration.OperatorProperty switch
        {
            "Exists" => true,
            "Equal" or "" or null => !string.IsNullOrEmpty(toleration.Key) && (toleration.Value ?? "") == (taint.Value ?? ""),
            _ => false,
        };
    }
}
