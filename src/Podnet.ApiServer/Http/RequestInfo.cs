using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Http;

/// <summary>A resource request decoded from its path, as kube-apiserver's RequestInfo.</summary>
internal sealed record RequestInfo(ResourceInfo Resource, string? Namespace, string? Name, string? Subresource)
{
    /// <summary>
    /// Decodes <c>/api/v1/…</c> and <c>/apis/G/V/…</c> resource paths; null when the path is
    /// not a resource path (discovery and the like); throws NotFound for unknown resources. Custom
    /// resources are found among the Established CRDs of <paramref name="resources"/>.
    /// </summary>
    public static RequestInfo? Parse(string path, CustomResources resources)
    {
        var segments = path.Trim('/').Split('/');
        string group;
        string version;
        int rest;
        if (segments.Length >= 3 && segments[0] == "api")
        {
            (group, version, rest) = ("", segments[1], 2);
        }
        else if (segments.Length >= 4 && segments[0] == "apis")
        {
            (group, version, rest) = (segments[1], segments[2], 3);
        }
        else
        {
            return null;
        }
        var tail = segments[rest..];
        if (tail.Length >= 3 && tail[0] == "namespaces" && resources.Find(group, version, tail[2]) is { Namespaced: true } namespaced)
        {
            if (tail.Length > 5)
            {
                throw NotFoundPath(path);
            }
            var subresource = tail.ElementAtOrDefault(4);
            if (subresource is not null && !namespaced.HasSubresource(subresource))
            {
                throw NotFoundPath(path);
            }
            return new RequestInfo(namespaced, tail[1], tail.ElementAtOrDefault(3), subresource);
        }
        var resource = resources.Find(group, version, tail[0]) ?? throw NotFoundPath(path);
        if (tail.Length > 3 || (resource.Namespaced && tail.Length > 1))
        {
            throw NotFoundPath(path);
        }
        var info = new RequestInfo(resource, null, tail.ElementAtOrDefault(1), tail.ElementAtOrDefault(2));
        if (info.Subresource is { } sub && !resource.HasSubresource(sub))
        {
            throw NotFoundPath(path);
        }
        return info;
    }

    private static ApiException NotFoundPath(string path) =>
        new(404, "NotFound", "the server could not find the requested resource", new System.Text.Json.Nodes.JsonObject { ["causes"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["reason"] = "UnexpectedServerResponse", ["message"] = $"404 page not found: {path}" }) });
}
