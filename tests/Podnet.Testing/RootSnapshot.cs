using System.Text.Json.Nodes;

namespace Podnet.Testing;

/// <summary>
/// The root network namespace's links, addresses, routes, rules and nft ruleset as one text,
/// read with iproute2 and nft (read-only), with counters and address lifetimes left out since
/// they change on their own. Podnet must never change any of it.
/// </summary>
public static class RootSnapshot
{
    public static string Take()
    {
        var parts = new[]
        {
            Normalize(Tools.Run(null, "ip", "-j", "link", "show").StandardOutput, "stats", "stats64"),
            Normalize(Tools.Run(null, "ip", "-j", "addr", "show").StandardOutput, "stats", "stats64", "valid_life_time", "preferred_life_time"),
            Normalize(Tools.Run(null, "ip", "-j", "route", "show", "table", "all").StandardOutput, "expires"),
            Normalize(Tools.Run(null, "ip", "-6", "-j", "route", "show", "table", "all").StandardOutput, "expires"),
            Tools.Run(null, "ip", "-j", "rule", "show").StandardOutput,
            Tools.Run(null, "nft", "list", "ruleset").StandardOutput,
        };
        return string.Join("\n", parts);
    }

    private static string Normalize(string json, params string[] drop)
    {
        var node = JsonNode.Parse(json.Trim().Length == 0 ? "[]" : json);
        Strip(node, drop);
        return node?.ToJsonString() ?? "";
    }

    private static void Strip(JsonNode? node, string[] drop)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var key in drop)
                {
                    o.Remove(key);
                }
                foreach (var (_, child) in o)
                {
                    Strip(child, drop);
                }
                break;
            case JsonArray a:
                foreach (var child in a)
                {
                    Strip(child, drop);
                }
                break;
        }
    }
}
