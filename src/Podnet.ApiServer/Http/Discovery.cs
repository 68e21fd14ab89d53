using System.Text.Json.Nodes;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Http;

/// <summary>The legacy discovery documents kubectl and client-go read: /api, /apis, each group and group-version.</summary>
internal static class Discovery
{
    /// <summary>
    /// The create-only kinds of authentication.k8s.io and authorization.k8s.io (Auth/Reviews.cs,
    /// Auth/Tokens/): never stored, so not in the ResourceCatalog, but listed as kube-apiserver
    /// lists them, with the verb create alone.
    /// </summary>
    public static readonly IReadOnlyList<(string Group, string Plural, string Kind, bool Namespaced)> ReviewKinds =
    [
        ("authentication.k8s.io", "selfsubjectreviews", "SelfSubjectReview", false),
        ("authentication.k8s.io", "tokenreviews", "TokenReview", false),
        ("authorization.k8s.io", "localsubjectaccessreviews", "LocalSubjectAccessReview", true),
        ("authorization.k8s.io", "selfsubjectaccessreviews", "SelfSubjectAccessReview", false),
        ("authorization.k8s.io", "selfsubjectrulesreviews", "SelfSubjectRulesReview", false),
        ("authorization.k8s.io", "subjectaccessreviews", "SubjectAccessReview", false),
    ];

    /// <summary>Every built-in named group served: the catalog's, then the review kinds'.</summary>
    public static IReadOnlyList<string> AllGroups { get; } = ResourceCatalog.Groups.Concat(ReviewKinds.Select(k => k.Group)).Distinct().ToArray();

    /// <summary>The Kubernetes release this server answers as (kubectl here picks its own version from it).</summary>
    public static JsonObject Version() => new()
    {
        ["major"] = "1",
        ["minor"] = "32",
        ["gitVersion"] = "v1.32.4",
        ["gitCommit"] = "podnet",
        ["gitTreeState"] = "clean",
        ["buildDate"] = "2025-04-22T00:00:00Z",
        ["goVersion"] = "go1.23.8",
        ["compiler"] = "gc",
        ["platform"] = "linux/amd64",
    };

    public static JsonObject Api(string serverAddress) => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = serverAddress }),
    };

    public static JsonObject Groups(CustomResources resources) => new()
    {
        ["kind"] = "APIGroupList",
        ["apiVersion"] = "v1",
        ["groups"] = new JsonArray(resources.Groups().Select(g => (JsonNode)Group(g.Group, g.Versions)).ToArray()),
    };

    /// <summary>One group's document; its versions in priority order, the first preferred.</summary>
    public static JsonObject Group(string group, string[] versions)
    {
        var list = versions.Select(v => new JsonObject { ["groupVersion"] = $"{group}/{v}", ["version"] = v }).ToList();
        return new JsonObject
        {
            ["kind"] = "APIGroup",
            ["apiVersion"] = "v1",
            ["name"] = group,
            ["versions"] = new JsonArray(list.Select(v => (JsonNode)v).ToArray()),
            ["preferredVersion"] = list[0].DeepClone(),
        };
    }

    /// <summary>The /apis/GROUP and /apis/GROUP/VERSION documents, or null when nothing is served there.</summary>
    public static JsonObject? ForPath(string trimmed, CustomResources resources)
    {
        var parts = trimmed.Split('/');
        if (parts.Length is not (3 or 4) || parts[1] != "apis")
        {
            return null;
        }
        var found = resources.Groups().FirstOrDefault(g => g.Group == parts[2]);
        if (found.Group is null)
        {
            return null;
        }
        return parts.Length == 3 ? Group(found.Group, found.Versions) : found.Versions.Contains(parts[3]) ? Resources(found.Group, parts[3], resources) : null;
    }

    public static JsonObject Resources(string group, string version, CustomResources resources)
    {
        var list = new JsonArray();
        foreach (var r in resources.InGroupVersion(group, version))
        {
            var entry = new JsonObject
            {
                ["name"] = r.Plural,
                ["singularName"] = r.Singular,
                ["namespaced"] = r.Namespaced,
                ["kind"] = r.Kind,
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
            list.Add((JsonNode)entry);
            foreach (var sub in r.Subresources)
            {
                var d = r.DescribeSubresource(sub);
                var subEntry = new JsonObject
                {
                    ["name"] = $"{r.Plural}/{sub}",
                    ["singularName"] = "",
                    ["namespaced"] = r.Namespaced,
                    ["kind"] = d.Kind,
                    ["verbs"] = new JsonArray(d.Verbs.Select(v => (JsonNode)v).ToArray()),
                };
                if (d.Group != r.Group)
                {
                    subEntry["group"] = d.Group;
                    subEntry["version"] = d.Version;
                }
                list.Add((JsonNode)subEntry);
            }
        }
        foreach (var k in ReviewKinds.Where(k => k.Group == group && version == "v1"))
        {
            list.Add((JsonNode)new JsonObject
            {
                ["name"] = k.Plural,
                ["singularName"] = k.Kind.ToLowerInvariant(),
                ["namespaced"] = k.Namespaced,
                ["kind"] = k.Kind,
                ["verbs"] = new JsonArray("create"),
            });
        }
        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = group.Length == 0 ? version : $"{group}/{version}",
            ["resources"] = list,
        };
    }
}
