using System.Text;
using System.Text.Json.Nodes;

namespace Podnet.Cli.Objects;

/// <summary>
/// Prints a meta.k8s.io Table the way kubectl does: upper-case headers, only priority-0
/// columns unless wide, NAMESPACE first for all namespaces, and Go tabwriter alignment
/// (cells padded by 3 spaces to their column's widest, at least 6, the last not padded).
/// </summary>
internal static class TableText
{
    private const int MinWidth = 6;
    private const int Padding = 3;

    public static string Format(JsonNode table, bool wide, bool withNamespace, bool withHeaders = true)
    {
        var definitions = table["columnDefinitions"]!.AsArray();
        var shown = Enumerable.Range(0, definitions.Count).Where(i => wide || ((int?)definitions[i]!["priority"] ?? 0) == 0).ToArray();
        var rows = new List<string[]>();
        if (withHeaders)
        {
            rows.Add([.. withNamespace ? ["NAMESPACE"] : Array.Empty<string>(), .. shown.Select(i => ((string)definitions[i]!["name"]!).ToUpperInvariant())]);
        }
        foreach (var row in table["rows"]?.AsArray() ?? [])
        {
            var cells = row!["cells"]!.AsArray();
            var ns = (string?)row["object"]?["metadata"]?["namespace"] ?? "";
            rows.Add([.. withNamespace ? [ns] : Array.Empty<string>(), .. shown.Select(i => Cell(cells[i]))]);
        }
        return Align(rows);
    }

    public static string Align(List<string[]> rows)
    {
        if (rows.Count == 0)
        {
            return "";
        }
        var columns = rows.Max(r => r.Length);
        var widths = new int[columns];
        foreach (var row in rows)
        {
            for (var c = 0; c < row.Length - 1; c++)
            {
                widths[c] = Math.Max(widths[c], Math.Max(row[c].Length + Padding, MinWidth));
            }
        }
        var text = new StringBuilder();
        foreach (var row in rows)
        {
            for (var c = 0; c < row.Length; c++)
            {
                text.Append(c < row.Length - 1 ? row[c].PadRight(widths[c]) : row[c]);
            }
            text.Append('\n');
        }
        return text.ToString();
    }

    private static string Cell(JsonNode? cell) => cell switch
    {
        null => "<none>",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v => v.ToJsonString(),
        _ => cell.ToJsonString(),
    };
}
