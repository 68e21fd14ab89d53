using System.Globalization;
using System.Text.Json.Nodes;

namespace Podnet.ApiServer.Registry;

/// <summary>Small accessors over an object's JSON, so handlers read like the API's field names.</summary>
internal static class ObjectMeta
{
    public static JsonObject Meta(this JsonObject obj) =>
        obj["metadata"] as JsonObject ?? (JsonObject)(obj["metadata"] = new JsonObject());

    public static string Name(this JsonObject obj) => (string?)obj["metadata"]?["name"] ?? "";

    public static string Namespace(this JsonObject obj) => (string?)obj["metadata"]?["namespace"] ?? "";

    public static string Uid(this JsonObject obj) => (string?)obj["metadata"]?["uid"] ?? "";

    public static bool IsDeleting(this JsonObject obj) => obj["metadata"]?["deletionTimestamp"] is not null;

    public static JsonObject Child(this JsonObject obj, string name) =>
        obj[name] as JsonObject ?? (JsonObject)(obj[name] = new JsonObject());

    public static List<string> Finalizers(this JsonObject obj) =>
        obj["metadata"]?["finalizers"] is JsonArray a ? a.Select(f => (string?)f ?? "").ToList() : [];

    public static void SetFinalizers(this JsonObject obj, List<string> finalizers)
    {
        if (finalizers.Count == 0)
        {
            obj.Meta().Remove("finalizers");
        }
        else
        {
            obj.Meta()["finalizers"] = new JsonArray(finalizers.Select(f => (JsonNode)f).ToArray());
        }
    }

    public static string Timestamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset? ParseTimestamp(JsonNode? node) =>
        (string?)node is { } s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    /// <summary>A whole JSON number as a long; null when absent, not a number, or fractional.</summary>
    public static long? Long(JsonNode? node)
    {
        if (node is not JsonValue v || v.GetValueKind() != System.Text.Json.JsonValueKind.Number)
        {
            return null;
        }
        var text = v.ToJsonString();
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
        {
            return l;
        }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d == Math.Floor(d) && Math.Abs(d) < 9e18 ? (long)d : null;
    }

    /// <summary>Same content once the resourceVersion is set aside (managedFields count: a change of owners is a write).</summary>
    public static bool SameContent(JsonObject a, JsonObject b)
    {
        var x = a.DeepClone().AsObject();
        var y = b.DeepClone().AsObject();
        foreach (var o in new[] { x, y })
        {
            o.Meta().Remove("resourceVersion");
        }
        return JsonNode.DeepEquals(x, y);
    }
}
