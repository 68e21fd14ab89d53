using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;

namespace Podnet.ApiServer.Auth;

/// <summary>The 403 an authorizer's denial becomes, worded as kube-apiserver's (responsewriters.Forbidden).</summary>
internal static class Forbidden
{
    public static ApiException For(RequestAttributes a, string reason)
    {
        var message = Message(a);
        if (reason.Length > 0)
        {
            message += ": " + reason;
        }
        if (!a.IsResourceRequest)
        {
            return new ApiException(403, "Forbidden", $"forbidden: {message}", new JsonObject());
        }
        var details = new JsonObject();
        if (a.Name.Length > 0)
        {
            details["name"] = a.Name;
        }
        if (a.ApiGroup.Length > 0)
        {
            details["group"] = a.ApiGroup;
        }
        details["kind"] = a.Resource;
        var what = a.Name.Length > 0 ? $"{a.QualifiedResource} \"{a.Name}\"" : a.QualifiedResource;
        return new ApiException(403, "Forbidden", $"{what} is forbidden: {message}", details);
    }

    /// <summary>"User \"x\" cannot list resource \"pods\" in API group \"\" in the namespace \"y\"".</summary>
    public static string Message(RequestAttributes a)
    {
        if (!a.IsResourceRequest)
        {
            return $"User \"{a.User.Name}\" cannot {a.Verb} path \"{a.Path}\"";
        }
        var resource = a.Subresource.Length > 0 ? $"{a.Resource}/{a.Subresource}" : a.Resource;
        return a.Namespace.Length > 0
            ? $"User \"{a.User.Name}\" cannot {a.Verb} resource \"{resource}\" in API group \"{a.ApiGroup}\" in the namespace \"{a.Namespace}\""
            : $"User \"{a.User.Name}\" cannot {a.Verb} resource \"{resource}\" in API group \"{a.ApiGroup}\" at the cluster scope";
    }
}
