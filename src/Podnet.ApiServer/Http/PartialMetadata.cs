using System.Text.Json.Nodes;

namespace Podnet.ApiServer.Http;

/// <summary>
/// meta.k8s.io/v1 PartialObjectMetadata(List): an object's (or each listed object's) type and
/// metadata alone, as kube-apiserver answers `as=PartialObjectMetadata` and puts in Table rows.
/// </summary>
internal static class PartialMetadata
{
    public static JsonObject Of(JsonObject item) => new()
    {
        ["kind"] = "PartialObjectMetadata",
        ["apiVersion"] = "meta.k8s.io/v1",
        ["metadata"] = item["metadata"]?.DeepClone(),
    };

    /// <summary>A list's metadata (resourceVersion, continue, remainingItemCount) and each item's.</summary>
    public static JsonObject OfList(JsonObject list) => new()
    {
        ["kind"] = "PartialObjectMetadataList",
        ["apiVersion"] = "meta.k8s.io/v1",
        ["metadata"] = list["metadata"]?.DeepClone() ?? new JsonObject(),
        ["items"] = new JsonArray((list["items"] as JsonArray ?? []).OfType<JsonObject>().Select(i => (JsonNode)Of(i)).ToArray()),
    };

    /// <summary>The kind that fits <paramref name="body"/> (null: it has no object metadata to give, such as a Scale or a Status).</summary>
    public static string? KindFor(JsonObject body) =>
        body["items"] is JsonArray ? "PartialObjectMetadataList"
        : (string?)body["kind"] is "Scale" or "Status" || body["metadata"] is not JsonObject ? null
        : "PartialObjectMetadata";
}
