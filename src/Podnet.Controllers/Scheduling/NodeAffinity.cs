using System.Globalization;
using k8s.Models;

namespace Podnet.Controllers.Scheduling;

/// <summary>requiredDuringSchedulingIgnoredDuringExecution: terms are ORed, expressions in a term ANDed.</summary>
public static class NodeAffinity
{
    public static bool Matches(V1NodeAffinity? affinity, V1Node node)
    {
        var terms = affinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms;
        if (terms is null || terms.Count == 0)
        {
            return true;
        }
        var labels = node.Metadata.Labels ?? new Dictionary<string, string>();
        var fields = new Dictionary<string, string> { ["metadata.name"] = node.Metadata.Name };
        return terms.Any(term =>
            (term.MatchExpressions is { Count: > 0 } || term.MatchFields is { Count: > 0 })
            && (term.MatchExpressions ?? []).All(r => Matches(r, labels))
            && (term.MatchFields ?? []).All(r => Matches(r, fields)));
    }

    private static bool Matches(V1NodeSelectorRequirement requirement, IDictionary<string, string> labels)
    {
        var present = labels.TryGetValue(requirement.Key, out var value);
        var values = requirement.Values ?? [];
        return requirement.OperatorProperty switch
        {
            "In" => present && values.Contains(value!),
            "NotIn" => !present || !values.Contains(value!),
            "Exists" => present,
            "DoesNotExist" => !present,
            "Gt" => present && Compare(value!, values) > 0,
            "Lt" => present && Compare(value!, values) < 0,
            _ => false,
        };
    }

    private static int Compare(string value, IList<string> values) =>
        values.Count == 1 && long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var a)
            && long.TryParse(values[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var b)
            ? a.CompareTo(b) : 0;
}
