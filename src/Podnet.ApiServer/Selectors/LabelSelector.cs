using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Podnet.ApiServer.Selectors;

internal enum SelectorOperator
{
    Equals,
    NotEquals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

internal sealed record LabelRequirement(string Key, SelectorOperator Operator, IReadOnlyList<string> Values)
{
    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        var has = labels.TryGetValue(Key, out var value);
        return Operator switch
        {
            SelectorOperator.Equals or SelectorOperator.In => has && Values.Contains(value!),
            SelectorOperator.NotEquals or SelectorOperator.NotIn => !has || !Values.Contains(value!),
            SelectorOperator.Exists => has,
            _ => !has,
        };
    }
}

/// <summary>
/// A label selector in the query-string syntax: equality (<c>a=b</c>, <c>a==b</c>, <c>a!=b</c>)
/// and set-based (<c>a in (x,y)</c>, <c>a notin (x)</c>, <c>a</c>, <c>!a</c>), comma-separated, all
/// of which must hold.
/// </summary>
internal sealed partial class LabelSelector(IReadOnlyList<LabelRequirement> requirements)
{
    public static readonly LabelSelector Everything = new([]);

    public IReadOnlyList<LabelRequirement> Requirements { get; } = requirements;

    public bool IsEmpty => Requirements.Count == 0;

    public bool Matches(IReadOnlyDictionary<string, string> labels) => Requirements.All(r => r.Matches(labels));

    public bool Matches(JsonObject obj) => IsEmpty || Matches(LabelsOf(obj));

    public static Dictionary<string, string> LabelsOf(JsonObject obj)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (obj["metadata"]?["labels"] is JsonObject map)
        {
            foreach (var (k, v) in map)
            {
                labels[k] = v?.GetValueKind() == System.Text.Json.JsonValueKind.String ? (string)v! : v?.ToJsonString() ?? "";
            }
        }
        return labels;
    }

    /// <summary>Parses a selector; throws <see cref="FormatException"/> naming the bad part.</summary>
    public static LabelSelector Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Everything;
        }
        var requirements = new List<LabelRequirement>();
        foreach (var part in SplitTopLevel(text))
        {
            requirements.Add(ParseRequirement(part.Trim()));
        }
        return new LabelSelector(requirements);
    }

    /// <summary>The selector of a Service or a matchLabels map: every pair must be present.</summary>
    public static LabelSelector FromMap(JsonObject? map) =>
        map is null ? Everything : new(map.Select(p => new LabelRequirement(p.Key, SelectorOperator.Equals, [(string?)p.Value ?? ""])).ToList());

    private static LabelRequirement ParseRequirement(string part)
    {
        var set = SetRegex().Match(part);
        if (set.Success)
        {
            var values = set.Groups[3].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var op = set.Groups[2].Value == "in" ? SelectorOperator.In : SelectorOperator.NotIn;
            return Checked(new LabelRequirement(set.Groups[1].Value, op, values.Select(CheckValue).ToList()), part);
        }
        var eq = EqualityRegex().Match(part);
        if (eq.Success)
        {
            var op = eq.Groups[2].Value == "!=" ? SelectorOperator.NotEquals : SelectorOperator.Equals;
            return Checked(new LabelRequirement(eq.Groups[1].Value, op, [CheckValue(eq.Groups[3].Value.Trim())]), part);
        }
        if (part.StartsWith('!'))
        {
            return Checked(new LabelRequirement(part[1..].Trim(), SelectorOperator.DoesNotExist, []), part);
        }
        return Checked(new LabelRequirement(part, SelectorOperator.Exists, []), part);
    }

    private static LabelRequirement Checked(LabelRequirement requirement, string part)
    {
        var error = Validation.Names.LabelKeyError(requirement.Key);
        if (error is not null)
        {
            throw new FormatException($"unable to parse requirement: \"{part}\": invalid label key \"{requirement.Key}\": {error}");
        }
        return requirement;
    }

    private static string CheckValue(string value)
    {
        var error = Validation.Names.LabelValueError(value);
        return error is null ? value : throw new FormatException($"invalid label value: \"{value}\": {error}");
    }

    private static IEnumerable<string> SplitTopLevel(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            depth += text[i] == '(' ? 1 : text[i] == ')' ? -1 : 0;
            if (text[i] == ',' && depth == 0)
            {
                yield return text[start..i];
                start = i + 1;
            }
        }
        yield return text[start..];
    }

    [GeneratedRegex(@"^\s*([^\s!=,()]+)\s+(in|notin)\s*\(([^()]*)\)\s*$")]
    private static partial Regex SetRegex();

    [GeneratedRegex(@"^\s*([^\s!=,()]+)\s*(==|!=|=)\s*([^=!,()]*)$")]
    private static partial Regex EqualityRegex();
}
