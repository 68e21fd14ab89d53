using Microsoft.AspNetCore.Http;
using Podnet.ApiServer.Http;

namespace Podnet.ApiServer.Auth;

/// <summary>
/// kubectl's --as, --as-group, --as-uid and extras, as kube-apiserver's impersonation filter:
/// each requested attribute is authorized with the verb impersonate (users or a ServiceAccount
/// by name, groups, uids and userextras/KEY in authentication.k8s.io), and the request then runs
/// as the impersonated user: the given groups (a ServiceAccount's two groups when none are
/// given), plus system:authenticated.
/// </summary>
internal static class Impersonation
{
    private const string UserHeader = "Impersonate-User";
    private const string UidHeader = "Impersonate-Uid";
    private const string GroupHeader = "Impersonate-Group";
    private const string ExtraPrefix = "Impersonate-Extra-";

    public static UserInfo Apply(HttpContext context, UserInfo actor, Func<RequestAttributes, (bool Allowed, string Reason)> authorize)
    {
        var headers = context.Request.Headers;
        var name = (string?)headers[UserHeader];
        var groups = headers[GroupHeader].Where(g => g is not null).Select(g => g!).ToList();
        var uid = (string?)headers[UidHeader];
        var extra = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (key, values) in headers)
        {
            if (key.StartsWith(ExtraPrefix, StringComparison.OrdinalIgnoreCase))
            {
                extra[Uri.UnescapeDataString(key[ExtraPrefix.Length..]).ToLowerInvariant()] = values.Where(v => v is not null).Select(v => v!).ToArray();
            }
        }
        if (string.IsNullOrEmpty(name))
        {
            if (groups.Count > 0 || extra.Count > 0 || !string.IsNullOrEmpty(uid))
            {
                throw new ApiException(500, "InternalError", "Internal error occurred: requested impersonation without impersonating a user");
            }
            return actor;
        }
        var account = UserInfo.SplitServiceAccount(name);
        Check(account is { } sa
            ? Attributes(actor, "", "serviceaccounts", sa.Name, "", sa.Namespace)
            : Attributes(actor, "", "users", name, ""), authorize);
        foreach (var group in groups)
        {
            Check(Attributes(actor, "", "groups", group, ""), authorize);
        }
        foreach (var (key, values) in extra)
        {
            foreach (var value in values)
            {
                Check(Attributes(actor, "authentication.k8s.io", "userextras", value, key), authorize);
            }
        }
        if (!string.IsNullOrEmpty(uid))
        {
            Check(Attributes(actor, "authentication.k8s.io", "uids", uid, ""), authorize);
        }
        if (account is { } s && groups.Count == 0)
        {
            groups.AddRange(UserInfo.ServiceAccountGroups(s.Namespace));
        }
        if (name == UserInfo.Anonymous)
        {
            if (!groups.Contains(UserInfo.AllUnauthenticated))
            {
                groups.Add(UserInfo.AllUnauthenticated);
            }
            return new UserInfo(name, uid ?? "", groups, extra);
        }
        return UserInfo.Authenticated(name, groups, uid ?? "", extra);
    }

    private static RequestAttributes Attributes(UserInfo actor, string group, string resource, string name, string subresource, string ns = "") =>
        new(actor, "impersonate", true, "", group, "v1", resource, subresource, ns, name);

    private static void Check(RequestAttributes a, Func<RequestAttributes, (bool Allowed, string Reason)> authorize)
    {
        var (allowed, reason) = authorize(a);
        if (!allowed)
        {
            throw Forbidden.For(a, reason);
        }
    }
}
