using System.Text.Json.Nodes;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Http;

/// <summary>
/// Aggregated discovery (apidiscovery.k8s.io/v2): /api and /apis answer every group, version
/// and resource in one document when the client's Accept asks for it, which saves kubectl a
/// request per group-version. Clients that do not ask get the legacy documents.
/// </summary>
internal static class AggregatedDiscovery
{
    public const string ContentType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

    /// <summary>True when one of the Accept media types is the v2 APIGroupDiscoveryList.</summary>
    public static bool Wanted(string accept) =>
        accept.Split(',').Any(mediaType =>
        {
            var parameters = mediaType.Split(';').Skip(1).Select(p => p.Trim()).ToHashSet();
            return parameters.Contains("g=apidiscovery.k8s.io") && parameters.Contains("v=v2") && parameters.Contains("as=APIGroupDiscoveryList");
        });

    /// <summary>The core group (for /api) or every named group (for /apis).</summary>
    public static JsonObject List(bool core, CustomResources resources)
    {
        List<(string Group, string[] Versions)> groups = core ? [("", ["v1"])] : resources.Groups().ToList();
        return new JsonObject
        {
            ["kind"] = "APIGroupDiscoveryList",
            ["apiVersion"] = "apidiscovery.k8s.io/v2",
            ["metadata"] = new JsonObject(),
            ["items"] = new JsonArray(groups.Select(g => (JsonNode)new JsonObject
            {
                ["metadata"] = g.Group.Length == 0 ? new JsonObject() : new JsonObject { ["name"] = g.Group },
                ["versions"] = new JsonArray(g.Versions.Select(v => (JsonNode)new JsonObject
                {
                    ["version"] = v,
                    ["resources"] = new JsonArray(resources.InGroupVersion(g.Group, v).Select(r => (JsonNode)Resource(r))
                        .Concat(Discovery.ReviewKinds.Where(k => k.Group == g.Group && v == "v1").Select(k => (JsonNode)new JsonObject
                        {
                            ["resource"] = k.Plural,
                            ["responseKind"] = Kind(k.Group, "v1", k.Kind),
                            ["scope"] = k.Namespaced ? "Namespaced" : "Cluster",
                            ["singularResource"] = k.Kind.ToLowerInvariant(),
                            ["verbs"] = new JsonArray("create"),
                        })).ToArray()),
                    ["freshness"] = "Current",
                }).ToArray()),
            }).ToArray()),
        };
    }

    private static JsonObject Resource(ResourceInfo r)
    {
        var entry = new JsonObject
        {
            ["resource"] = r.Plural,
            ["responseKind"] = Kind(r.Group, r.Version, r.Kind),
            ["scope"] = r.Namespaced ? "Namespaced" : "Cluster",
            ["singularResource"] = r.Singular,
            ["verbs"] = new JsonArray("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"),
        };
        if (r.ShortNames.Length > 0)
        {
            entry["shortNames"] = new JsonArray(r.ShortNames.Select(s => (JsonNode)s).ToArray());
        }
        if (r.Categories.Length > 0)
        {
            entry["categories"] = new JsonArray(r.Categories.Select(s => (JsonNode)s).ToArray());
        }
        if (r.Subresources.Length > 0)
        {
            entry["subresources"] = new JsonArray(r.Subresources.Select(r.DescribeSubresource).Select(d => (JsonNode)new JsonObject
            {
                ["subresource"] = d.Name,
                ["responseKind"] = Kind(d.Group, d.Version, d.Kind),
                ["verbs"] = new JsonArray(d.Verbs.Select(v => (JsonNode)v).ToArray()),
            }).ToArray());
        }
        return entry;
    }

    private static JsonObject Kind(string group, string version, string kind) =>
        new() { ["group"] = group, ["version"] = version, ["kind"] = kind };
}
