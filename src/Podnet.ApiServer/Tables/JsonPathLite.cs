using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Podnet.ApiServer.Tables;

/// <summary>
/// The JSONPath that additionalPrinterColumns use (upstream's jsonpath package, the forms
/// CRDs write): <c>.a.b</c>, <c>.a['b.c']</c>, <c>[N]</c>, <c>[*]</c> and one filter
/// <c>[?(@.f=="v")]</c>. The first value found is the cell, as upstream's table convertor.
/// </summary>
internal static partial class JsonPathLite
{
    [GeneratedRegex("""\G(?:\.([A-Za-z0-9_$-]+)|\['([^']*)'\]|\[(\d+|\*)\]|\[\?\(@\.([A-Za-z0-9_.-]+)\s*==\s*(?:"([^"]*)"|'([^']*)')\)\])""")]
    private static partial Regex Step();

    /// <summary>Null when <paramref name="path"/> is one of the supported forms, else what is wrong.</summary>
    public static string? Error(string path) => Parse(path) is null ? $"unsupported JSONPath (Podnet takes .field, ['field'], [N], [*] and [?(@.field==\"value\")])" : null;

    /// <summary>The values <paramref name="path"/> selects in <paramref name="root"/>.</summary>
    public static List<JsonNode?> Evaluate(JsonNode? root, string path)
    {
        var steps = Parse(path) ?? [];
        var current = new List<JsonNode?> { root };
        foreach (var step in steps)
        {
            var next = new List<JsonNode?>();
            foreach (var node in current)
            {
                switch (step)
                {
                    case { Field: { } f } when node is JsonObject o && o.TryGetPropertyValue(f, out var v):
                        next.Add(v);
                        break;
                    case { Index: "*" } when node is JsonArray a:
                        next.AddRange(a);
                        break;
                    case { Index: { } i } when node is JsonArray a && int.TryParse(i, out var n) && n < a.Count:
                        next.Add(a[n]);
                        break;
                    case { FilterField: { } ff } when node is JsonArray a:
                        next.AddRange(a.Where(item => Evaluate(item, "." + ff).FirstOrDefault() is JsonValue value && value.ToString() == step.FilterValue));
                        break;
                }
            }
            current = next;
        }
        return current;
    }

    private sealed record PathStep(string? Field, string? Index, string? FilterField, string? FilterValue);

    private static List<PathStep>? Parse(string path)
    {
        path = path.Trim();
        if (path.StartsWith('{') && path.EndsWith('}'))
        {
            path = path[1..^1];
        }
        if (path.StartsWith('$'))
        {
            path = path[1..];
        }
        if (path.Length > 1024)
        {
            return null;
        }
        var steps = new List<PathStep>();
        var at = 0;
        while (at < path.Length)
        {
            var m = Step().Match(path, at);
            if (!m.Success || m.Length == 0)
            {
                return null;
            }
            steps.Add(m.Groups[1].Success ? new(m.Groups[1].Value, null, null, null)
                : m.Groups[2].Success ? new(m.Groups[2].Value, null, null, null)
                : m.Groups[3].Success ? new(null, m.Groups[3].Value, null, null)
                : new(null, null, m.Groups[4].Value, m.Groups[5].Success ? m.Groups[5].Value : m.Groups[6].Value));
            at += m.Length;
        }
        return steps.Count == 0 ? null : steps;
    }
}
