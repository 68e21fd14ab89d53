namespace Podnet.ApiServer.Auth.Node;

/// <summary>
/// Which node a user is, as upstream's nodeidentifier: a name system:node:NAME and the group
/// system:nodes, both (a certificate with only one of them is an ordinary user).
/// </summary>
internal static class NodeIdentity
{
    public const string UserPrefix = "system:node:";
    public const string Group = "system:nodes";

    /// <summary>The node's name; null for any user that is not a node.</summary>
    public static string? NodeName(UserInfo user) =>
        user.Name.StartsWith(UserPrefix, StringComparison.Ordinal) && user.Name.Length > UserPrefix.Length && user.Groups.Contains(Group)
            ? user.Name[UserPrefix.Length..]
            : null;
}
