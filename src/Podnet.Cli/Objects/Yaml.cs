using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Podnet.Cli.Objects;

/// <summary>
/// JSON to YAML as kubectl prints it (sigs.k8s.io/yaml over a JSON map): keys sorted, two-space
/// indents, list items at their parent's indent, strings quoted only when they would read as
/// something else.
/// </summary>
internal static class Yaml
{
    public static string Write(JsonNode node)
    {
        var text = new StringBuilder();
        WriteValue(text, node, 0, inList: false);
        return text.ToString();
    }

    private static void WriteValue(StringBuilder text, JsonNode? node, int indent, bool inList)
    {
        switch (node)
        {
            case JsonObject o when o.Count > 0:
                var first = true;
                foreach (var (key, value) in o.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (!(inList && first))
                    {
                        text.Append(' ', indent);
                    }
                    first = false;
                    text.Append(Scalar(key)).Append(':');
                    WriteChild(text, value, indent);
                }
                break;
            case JsonArray a when a.Count > 0:
                foreach (var item in a)
                {
                    text.Append(' ', indent).Append("- ");
                    if (item is JsonObject { Count: > 0 } or JsonArray { Count: > 0 })
                    {
                        WriteValue(text, item, indent + 2, inList: true);
                    }
                    else
                    {
                        text.Append(Leaf(item)).Append('\n');
                    }
                }
                break;
            default:
                text.Append(' ', indent).Append(Leaf(node)).Append('\n');
                break;
        }
    }

    private static void WriteChild(StringBuilder text, JsonNode? value, int indent)
    {
        switch (value)
        {
            case JsonObject { Count: > 0 }:
                text.Append('\n');
                WriteValue(text, value, indent + 2, inList: false);
                break;
            case JsonArray { Count: > 0 }:
                text.Append('\n');
                WriteValue(text, value, indent, inList: false);
                break;
            default:
                text.Append(' ').Append(Leaf(value)).Append('\n');
                break;
        }
    }

    private static string Leaf(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "{}",
        JsonArray => "[]",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => Scalar(v.GetValue<string>()),
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>() ? "true" : "false",
        JsonValue v => v.ToJsonString(),
        _ => node.ToJsonString(),
    };

    /// <summary>A string as YAML: plain unless it would read as a number, boolean, null or contains special characters.</summary>
    private static string Scalar(string s)
    {
        var plain = s.Length > 0
            && !double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
            && s is not ("true" or "false" or "null" or "yes" or "no" or "on" or "off" or "y" or "n" or "~" or "True" or "False" or "Null" or "NULL" or "Yes" or "No" or "On" or "Off")
            && !char.IsWhiteSpace(s[0]) && !char.IsWhiteSpace(s[^1])
            && "-?:,[]{}#&*!|>'\"%@`".IndexOf(s[0]) < 0
            && !s.Contains(": ", StringComparison.Ordinal) && !s.Contains(" #", StringComparison.Ordinal) && !s.EndsWith(':')
            && s.All(c => c >= ' ' && c != '\u007f');
        if (plain)
        {
            return s;
        }
        if (!s.Contains('\n') && s.All(c => c >= ' '))
        {
            return "'" + s.Replace("'", "''") + "'";
        }
        return JsonValue.Create(s).ToJsonString();
    }
}
