namespace Podnet.ApiServer.Auth;

/// <summary>
/// What an authorizer decides on, as kube-apiserver's authorizer.Attributes: the user, the verb,
/// and either a resource (group, resource, subresource, namespace, name) or a non-resource path.
/// </summary>
internal sealed record RequestAttributes(
    UserInfo User,
    string Verb,
    bool IsResourceRequest,
    string Path,
    string ApiGroup = "",
    string ApiVersion = "",
    string Resource = "",
    string Subresource = "",
    string Namespace = "",
    string Name = "")
{
    private static readonly HashSet<string> NamespaceSubresources = ["status", "finalize"];

    /// <summary>
    /// Decodes a request as upstream's RequestInfoFactory does, independently of what is served:
    /// /api/v1/… and /apis/G/V/… are resource requests (an optional watch/ prefix, namespaces/NS/
    /// scoping, then resource, name, subresource); every other path is a non-resource request
    /// whose verb is the method in lower case. A list or watch narrowed by the field selector
    /// metadata.name=X carries the name X, so that resourceNames rules apply to it.
    /// </summary>
    public static RequestAttributes From(UserInfo user, string method, string path, Func<string, string?> query, bool websocketUpgrade = false)
    {
        var parts = path.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        int rest;
        string group;
        if (parts.Length >= 3 && parts[0] == "api")
        {
            (group, rest) = ("", 2);
        }
        else if (parts.Length >= 4 && parts[0] == "apis")
        {
            (group, rest) = (parts[1], 3);
        }
        else
        {
            return new RequestAttributes(user, method.ToLowerInvariant(), false, path);
        }
        var version = parts[rest - 1];
        var current = parts[rest..];
        var verb = method switch
        {
            "POST" => "create",
            "GET" or "HEAD" => "get",
            "PUT" => "update",
            "PATCH" => "patch",
            "DELETE" => "delete",
            _ => "",
        };
        if (current.Length > 0 && current[0] == "watch")
        {
            verb = "watch";
            current = current[1..];
        }
        var ns = "";
        if (current.Length > 0 && current[0] == "namespaces" && current.Length > 1)
        {
            ns = current[1];
            if (current.Length > 2 && !NamespaceSubresources.Contains(current[2]))
            {
                current = current[2..];
            }
        }
        var resource = current.Length > 0 ? current[0] : "";
        var name = current.Length > 1 ? current[1] : "";
        var sub = current.Length > 2 ? current[2] : "";
        if (name.Length == 0 && verb == "get")
        {
            verb = query("watch") is "true" or "1" ? "watch" : "list";
        }
        if (name.Length == 0 && verb == "delete")
        {
            verb = "deletecollection";
        }
        if (verb is "list" or "watch" && query("fieldSelector") is { Length: > 0 } selector)
        {
            foreach (var term in selector.Split(','))
            {
                var eq = term.Split(["==", "="], StringSplitOptions.None);
                if (eq.Length == 2 && eq[0].Trim() == "metadata.name")
                {
                    name = eq[1].Trim();
                }
            }
        }
        // A WebSocket upgrade of exec, attach or port-forward opens a stream into the pod:
        // upstream (AuthorizePodWebsocketUpgradeCreatePermission, on since 1.30) asks for create.
        if (websocketUpgrade && verb == "get" && resource == "pods" && sub is "exec" or "attach" or "portforward")
        {
            verb = "create";
        }
        return new RequestAttributes(user, verb, true, path, group, version, resource, sub, ns, name);
    }

    /// <summary>"pods", "deployments.apps": the resource as upstream's messages name it.</summary>
    public string QualifiedResource => ApiGroup.Length == 0 ? Resource : $"{Resource}.{ApiGroup}";
}
