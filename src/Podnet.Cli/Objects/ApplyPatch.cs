using System.Text.Json.Nodes;

namespace Podnet.Cli.Objects;

/// <summary>
/// kubectl apply's three-way merge, over JSON merge patch: the patch sets every field of the
/// new configuration that differs from the live object, and removes (null) every field the
/// last applied configuration had and the new one does not. Fields set by others (defaults,
/// status, controllers) are left alone. Lists are replaced whole, as merge patch does.
/// </summary>
internal static class ApplyPatch
{
    public const string LastApplied = "kubectl.kubernetes.io/last-applied-configuration";

    /// <summary>The patch, or null when the live object already matches.</summary>
    public static JsonObject? Build(JsonObject? lastApplied, JsonObject modified, JsonObject live)
    {
        var patch = Diff(lastApplied, modified, live);
        return patch is { Count: > 0 } ? patch : null;
    }

    /// <summary>
    /// True when <paramref name="live"/> already says everything <paramref name="wanted"/> says:
    /// the server adds defaults (to containers, ports…), which must not count as a change.
    /// </summary>
    public static bool Covers(JsonNode? wanted, JsonNode? live) => (wanted, live) switch
    {
        (JsonObject w, JsonObject l) => w.All(p => Covers(p.Value, l[p.Key])),
        (JsonArray w, JsonArray l) => w.Count == l.Count && w.Zip(l).All(pair => Covers(pair.First, pair.Second)),
        _ => JsonNode.DeepEquals(wanted, live),
    };

    private static JsonObject? Diff(JsonObject? original, JsonObject modified, JsonObject? live)
    {
        var patch = new JsonObject();
        foreach (var (key, value) in modified)
        {
            var current = live?[key];
            if (value is JsonObject child && current is JsonObject liveChild)
            {
                if (Diff(original?[key] as JsonObject, child, liveChild) is { Count: > 0 } nested)
                {
                    patch[key] = nested;
                }
            }
            else if (!Covers(value, current))
            {
                patch[key] = value?.DeepClone();
            }
        }
        foreach (var (key, _) in original ?? [])
        {
            if (!modified.ContainsKey(key) && live?.ContainsKey(key) == true)
            {
                patch[key] = null;
            }
        }
        return patch;
    }
}
