namespace Podnet.ApiServer.Auth;

/// <summary>Who a request comes from, as kube-apiserver's user.Info: name, uid, groups, extra.</summary>
internal sealed record UserInfo(string Name, string Uid, IReadOnlyList<string> Groups, IReadOnlyDictionary<string, IReadOnlyList<string>> Extra)
{
    public const string Anonymous = "system:anonymous";
    public const string AllAuthenticated = "system:authenticated";
    public const string AllUnauthenticated = "system:unauthenticated";
    public const string Masters = "system:masters";
    public const string ServiceAccountPrefix = "system:serviceaccount:";
    public const string AllServiceAccounts = "system:serviceaccounts";

    private static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> NoExtra = new Dictionary<string, IReadOnlyList<string>>();

    public static UserInfo AnonymousUser { get; } = new(Anonymous, "", [AllUnauthenticated], NoExtra);

    /// <summary>An authenticated user: system:authenticated added to its groups, as upstream's group adder.</summary>
    public static UserInfo Authenticated(string name, IEnumerable<string> groups, string uid = "", IReadOnlyDictionary<string, IReadOnlyList<string>>? extra = null)
    {
        var all = groups.ToList();
        if (!all.Contains(AllAuthenticated))
        {
            all.Add(AllAuthenticated);
        }
        return new UserInfo(name, uid, all, extra ?? NoExtra);
    }

    /// <summary>system:serviceaccount:NS:NAME's groups: system:serviceaccounts and system:serviceaccounts:NS.</summary>
    public static IEnumerable<string> ServiceAccountGroups(string ns) => [AllServiceAccounts, $"{AllServiceAccounts}:{ns}"];

    public static string ServiceAccountName(string ns, string name) => $"{ServiceAccountPrefix}{ns}:{name}";

    /// <summary>(namespace, name) when the user is a service account.</summary>
    public static (string Namespace, string Name)? SplitServiceAccount(string user)
    {
        if (!user.StartsWith(ServiceAccountPrefix, StringComparison.Ordinal))
        {
            return null;
        }
        var parts = user[ServiceAccountPrefix.Length..].Split(':');
        return parts.Length == 2 && parts[0].Length > 0 && parts[1].Length > 0 ? (parts[0], parts[1]) : null;
    }

    public bool IsMaster => Groups.Contains(Masters);
}
