using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Podnet.ApiServer.Patch;

namespace Podnet.Cli.Objects;

/// <summary>
/// kubectl apply's client side: the last-applied-configuration annotation as kubectl writes
/// it, and the three-way strategic merge patch (<see cref="ThreeWayPatch"/>) between it, the
/// file and the live object.
/// </summary>
internal static class ApplyPatch
{
    public const string LastApplied = "kubectl.kubernetes.io/last-applied-configuration";

    public const string ContentType = "application/strategic-merge-patch+json";

    private static readonly JsonWriterOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// The configuration to send, as kubectl's GetModifiedConfiguration makes it: the file's
    /// object whose annotations (an empty map when it had none) gain the annotation holding the
    /// object itself, serialized as Go does (keys sorted, &lt; &gt; &amp; escaped, a final newline).
    /// </summary>
    public static JsonObject Annotate(JsonObject obj)
    {
        var modified = obj.DeepClone().AsObject();
        var meta = modified["metadata"] as JsonObject ?? (JsonObject)(modified["metadata"] = new JsonObject());
        var annotations = meta["annotations"] as JsonObject ?? (JsonObject)(meta["annotations"] = new JsonObject());
        annotations.Remove(LastApplied);
        annotations[LastApplied] = GoJson(modified) + "\n";
        return modified;
    }

    /// <summary>The patch that moves <paramref name="live"/> to <paramref name="modified"/>, or null when there is nothing to send ("unchanged").</summary>
    public static JsonObject? Build(JsonObject modified, JsonObject live)
    {
        var lastText = (string?)live["metadata"]?["annotations"]?[LastApplied];
        var original = string.IsNullOrEmpty(lastText) ? null : JsonNode.Parse(lastText) as JsonObject;
        var patch = ThreeWayPatch.Create(original, modified, live);
        return patch.Count > 0 ? patch : null;
    }

    /// <summary>JSON as Go's encoding/json writes a map: keys sorted, HTML characters escaped.</summary>
    public static string GoJson(JsonNode node)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Relaxed))
        {
            Sorted(node).WriteTo(writer);
        }
        return Encoding.UTF8.GetString(buffer.ToArray()).Replace("<", "\\u003c", StringComparison.Ordinal)
            .Replace(">", "\\u003e", StringComparison.Ordinal).Replace("&", "\\u0026", StringComparison.Ordinal);
    }

    private static JsonNode Sorted(JsonNode node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, p.Value is null ? null : Sorted(p.Value)))),
        JsonArray a => new JsonArray(a.Select(i => i is null ? null : Sorted(i)).ToArray()),
        _ => node.DeepClone(),
    };
}
