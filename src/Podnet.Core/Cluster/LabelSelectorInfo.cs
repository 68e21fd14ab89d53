namespace Podnet.Core.Cluster;

/// <summary>One matchExpressions entry: In, NotIn, Exists or DoesNotExist.</summary>
public sealed record LabelRequirement(string Key, string Operator, IReadOnlyList<string> Values);

/// <summary>
/// A metav1.LabelSelector: matchLabels and matchExpressions, all ANDed; an empty selector
/// selects everything. <see cref="Canonical"/> is the same text for selectors that mean the
/// same (order of labels, expressions and values does not count), so planners can share what
/// they compile from equal selectors.
/// </summary>
public sealed record LabelSelectorInfo(IReadOnlyDictionary<string, string> MatchLabels, IReadOnlyList<LabelRequirement> Expressions)
{
    public static readonly LabelSelectorInfo Everything = new(new Dictionary<string, string>(), []);

    public bool IsEverything => MatchLabels.Count == 0 && Expressions.Count == 0;

    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        foreach (var (key, value) in MatchLabels)
        {
            if (!labels.TryGetValue(key, out var actual) || actual != value)
            {
                return false;
            }
        }
        foreach (var requirement in Expressions)
        {
            var present = labels.TryGetValue(requirement.Key, out var actual);
            var holds = requirement.Operator switch
            {
                "In" => present && requirement.Values.Contains(actual!),
                "NotIn" => !present || !requirement.Values.Contains(actual!),
                "Exists" => present,
                "DoesNotExist" => !present,
                _ => false, // an operator the API would refuse selects nothing
            };
            if (!holds)
            {
                return false;
            }
        }
        return true;
    }

    public string Canonical => string.Join(",", MatchLabels.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")
        .Concat(Expressions.Select(e => $"{e.Key} {e.Operator} ({string.Join("|", e.Values.Order(StringComparer.Ordinal))})").Order(StringComparer.Ordinal)));

    public override string ToString() => IsEverything ? "{}" : Canonical;
}
