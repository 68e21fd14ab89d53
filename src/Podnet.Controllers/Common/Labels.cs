using k8s.Models;

namespace Podnet.Controllers.Common;

/// <summary>Label selector matching as the API server and controllers do it.</summary>
public static class Labels
{
    /// <summary>
    /// A Service-style selector (a plain map): every pair must be present. An empty or null map
    /// selects nothing here, because a Service without a selector gets no managed endpoints.
    /// </summary>
    public static bool MatchesServiceSelector(IDictionary<string, string>? selector, IDictionary<string, string>? labels)
    {
        if (selector is null || selector.Count == 0)
        {
            return false;
        }
        return MatchesPairs(selector, labels);
    }

    /// <summary>A metav1.LabelSelector: matchLabels and matchExpressions, all ANDed; empty selects everything.</summary>
    public static bool Matches(V1LabelSelector? selector, IDictionary<string, string>? labels)
    {
        if (selector is null)
        {
            return false;
        }
        if (selector.MatchLabels is { Count: > 0 } && !MatchesPairs(selector.MatchLabels, labels))
        {
            return false;
        }
        foreach (var requirement in selector.MatchExpressions ?? [])
        {
            if (!MatchesRequirement(requirement, labels))
            {
                return false;
            }
        }
        return true;
    }

    private static bool MatchesPairs(IDictionary<string, string> wanted, IDictionary<string, string>? labels)
    {
        foreach (var (key, value) in wanted)
        {
            if (labels is null || !labels.TryGetValue(key, out var actual) || actual != value)
            {
                return false;
            }
        }
        return true;
    }

    private static bool MatchesRequirement(V1LabelSelectorRequirement requirement, IDictionary<string, string>? labels)
    {
        string? actual = null;
        var present = labels is not null && labels.TryGetValue(requirement.Key, out actual);
        var values = requirement.Values ?? [];
        return requirement.OperatorProperty switch
        {
            "In" => present && values.Contains(actual!),
            "NotIn" => !present || !values.Contains(actual!),
            "Exists" => present,
            "DoesNotExist" => !present,
            _ => false,
        };
    }
}
