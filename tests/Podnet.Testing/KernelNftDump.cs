using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Podnet.Core.Nft;
using Podnet.Kernel;

namespace Podnet.Testing;

/// <summary>
/// What a real kernel holds, in the form of <see cref="NftState.Dump"/>, so that the fake and
/// the kernel can be compared after the same transactions. Chains, elements and numeric
/// priorities come from <c>nft -j list ruleset</c>; rules and set declarations from the text
/// listing (the JSON has no rule text, and nft 1.0.6 leaves "dynamic" and typeof out of it).
/// </summary>
public static partial class KernelNftDump
{
    public static string Read(Netns netns)
    {
        var json = JsonNode.Parse(Nft.ListJson(netns))!["nftables"]!.AsArray();
        var text = Nft.ListText(netns);
        var output = new StringBuilder();
        foreach (var table in json.Select(o => o!["table"]).OfType<JsonObject>()
            .OrderBy(t => (string)t["family"]!, StringComparer.Ordinal).ThenBy(t => (string)t["name"]!, StringComparer.Ordinal))
        {
            var family = (string)table["family"]!;
            var name = (string)table["name"]!;
            var block = Block(text, $"table {family} {name} {{", "");
            output.Append("table ").Append(family).Append(' ').Append(name).Append('\n');
            Of(json, "chain", family, name).OrderBy(c => (string)c["name"]!, StringComparer.Ordinal).ToList().ForEach(c => Chain(c, block, output));
            Of(json, "set", family, name).Concat(Of(json, "map", family, name)).OrderBy(s => (string)s["name"]!, StringComparer.Ordinal).ToList()
                .ForEach(s => Set(s, block, output));
        }
        return output.ToString();
    }

    private static IEnumerable<JsonObject> Of(JsonArray json, string kind, string family, string table) =>
        json.Select(o => o![kind]).OfType<JsonObject>().Where(o => (string)o["family"]! == family && (string)o["table"]! == table);

    private static void Chain(JsonObject chain, string table, StringBuilder output)
    {
        var name = (string)chain["name"]!;
        output.Append("  chain ").Append(name);
        if (chain["hook"] is not null)
        {
            output.Append(" { type ").Append((string)chain["type"]!).Append(" hook ").Append((string)chain["hook"]!)
                .Append(" priority ").Append((int)chain["prio"]!).Append(" ; policy ").Append((string?)chain["policy"] ?? "accept").Append(" ; }");
        }
        output.Append('\n');
        foreach (var line in Block(table, $"chain {name} {{", "\t").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!line.StartsWith("type ", StringComparison.Ordinal))
            {
                output.Append("    ").Append(line).Append('\n');
            }
        }
    }

    private static void Set(JsonObject set, string table, StringBuilder output)
    {
        var isMap = set["map"] is not null;
        var name = (string)set["name"]!;
        var lines = Block(table, $"{(isMap ? "map" : "set")} {name} {{", "\t").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        output.Append(isMap ? "  map " : "  set ").Append(name).Append(" { ").Append(lines.First(l => l.StartsWith("type", StringComparison.Ordinal))).Append(" ;");
        if (lines.FirstOrDefault(l => l.StartsWith("flags ", StringComparison.Ordinal)) is { } flags)
        {
            output.Append(' ').Append(flags).Append(" ;");
        }
        if (set["timeout"] is { } timeout)
        {
            output.Append(" timeout ").Append((long)timeout).Append("s ;");
        }
        output.Append(" }\n");
        var elements = (set["elem"] as JsonArray ?? []).Select(e => isMap ? Element(e!.AsArray()[0]) + " : " + Element(e!.AsArray()[1]) : Element(e))
            .Order(StringComparer.Ordinal);
        foreach (var element in elements)
        {
            output.Append("    ").Append(element).Append('\n');
        }
    }

    private static string Element(JsonNode? node) => node switch
    {
        JsonValue v => Convert.ToString(v.GetValue<object>(), CultureInfo.InvariantCulture) ?? "",
        JsonObject o when o["prefix"] is JsonObject p => $"{(string)p["addr"]!}/{(int)p["len"]!}",
        JsonObject o when o["range"] is JsonArray r => $"{Element(r[0])}-{Element(r[1])}",
        JsonObject o when o["concat"] is JsonArray c => string.Join(" . ", c.Select(Element)),
        JsonObject o when o["elem"] is JsonObject e => Element(e["val"]),
        JsonObject o when o["goto"] is JsonObject g => "goto " + (string)g["target"]!,
        JsonObject o when o["jump"] is JsonObject j => "jump " + (string)j["target"]!,
        JsonObject o when o.Count == 1 => o.First().Key,
        _ => node?.ToJsonString() ?? "",
    };

    /// <summary>The lines inside the block that starts with <paramref name="header"/> (matched after <paramref name="indent"/>).</summary>
    private static string Block(string text, string header, string indent)
    {
        var match = Regex.Match(text, "(?m)^" + Regex.Escape(indent + header));
        if (!match.Success)
        {
            throw new InvalidOperationException($"no \"{header}\" in the listing");
        }
        var start = match.Index;
        var open = text.IndexOf('{', start + 1);
        var depth = 0;
        for (var i = open; i < text.Length; i++)
        {
            depth += text[i] == '{' ? 1 : text[i] == '}' ? -1 : 0;
            if (depth == 0)
            {
                var body = text[(open + 1)..i];
                // Nested blocks of a table are not lines of the table itself; callers ask for their own.
                return Elements().Replace(body, "");
            }
        }
        throw new InvalidOperationException($"unbalanced braces after \"{header}\"");
    }

    [GeneratedRegex(@"elements = \{[^}]*\}", RegexOptions.Singleline)]
    private static partial Regex Elements();
}
