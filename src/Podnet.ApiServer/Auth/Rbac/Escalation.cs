using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Auth.Rbac;

/// <summary>
/// RBAC's escalation prevention, as upstream's role and binding storage: a user may create or
/// update a Role or ClusterRole only with rules it holds itself (in the role's namespace) or
/// with the verb escalate on it; and a RoleBinding or ClusterRoleBinding only to a role whose
/// rules it holds, or with the verb bind on that role. system:masters and the server's own
/// writes pass. Rules are compared broken down to one verb, group, resource and name each
/// (upstream's Covers).
/// </summary>
internal static class Escalation
{
    public static void Check(RbacAuthorizer authorizer, ResourceInfo r, JsonObject obj)
    {
        if (AccessGate.RequestUser is not { } user || user.IsMaster || !authorizer.Enabled || r.Group != "rbac.authorization.k8s.io")
        {
            return;
        }
        var ns = (string?)obj["metadata"]?["namespace"] ?? "";
        var name = (string?)obj["metadata"]?["name"] ?? "";
        var policy = authorizer.Policy;
        if (r == ResourceCatalog.Roles || r == ResourceCatalog.ClusterRoles)
        {
            if (Allowed(authorizer, user, "escalate", r, ns, name))
            {
                return;
            }
            var wanted = PolicyRule.ListFrom(obj["rules"]);
            if (r == ResourceCatalog.ClusterRoles && obj["aggregationRule"] is JsonObject)
            {
                // An aggregated role's rules come from the controller: upstream asks for escalate
                // (or cluster-wide *) to create one, since it can gather any permission.
                wanted = [new PolicyRule(["*"], ["*"], ["*"], [], [])];
            }
            Require(user, policy, ns, wanted, r, name);
            return;
        }
        if (r == ResourceCatalog.RoleBindings || r == ResourceCatalog.ClusterRoleBindings)
        {
            var kind = (string?)obj["roleRef"]?["kind"] ?? "";
            var roleName = (string?)obj["roleRef"]?["name"] ?? "";
            var roleResource = kind == "Role" ? ResourceCatalog.Roles : ResourceCatalog.ClusterRoles;
            if (Allowed(authorizer, user, "bind", roleResource, kind == "Role" ? ns : ns, roleName))
            {
                return;
            }
            var rules = policy.RoleRules(kind, ns, roleName)
                ?? throw ApiException.NotFound(roleResource, roleName);
            Require(user, policy, ns, rules, r, name);
        }
    }

    private static bool Allowed(RbacAuthorizer authorizer, UserInfo user, string verb, ResourceInfo r, string ns, string name) =>
        authorizer.Authorize(new RequestAttributes(user, verb, true, "", r.Group, r.Version, r.Plural, "", ns, name)).Allowed;

    private static void Require(UserInfo user, RbacPolicy policy, string ns, IReadOnlyList<PolicyRule> wanted, ResourceInfo r, string name)
    {
        var (owned, errors) = policy.RulesFor(user, ns);
        var missing = wanted.SelectMany(Breakdown).Where(w => !owned.Any(o => Covers(o, w))).Distinct().ToList();
        if (missing.Count == 0)
        {
            return;
        }
        var groups = string.Join(" ", user.Groups.Select(g => $"\"{g}\""));
        var message = $"{r.QualifiedPlural} \"{name}\" is forbidden: user \"{user.Name}\" (groups=[{groups}]) is attempting to grant RBAC permissions not currently held:\n"
            + string.Join("\n", missing.Select(m => m.Describe()));
        if (errors.Count > 0)
        {
            message += $"; resolution errors: [{string.Join(" ", errors)}]";
        }
        var details = new JsonObject { ["name"] = name, ["group"] = r.Group, ["kind"] = r.Plural };
        throw new ApiException(403, "Forbidden", message, details);
    }

    /// <summary>One rule per verb × group × resource × name (or URL), as upstream's BreakdownRule.</summary>
    private static IEnumerable<PolicyRule> Breakdown(PolicyRule rule)
    {
        foreach (var verb in rule.Verbs)
        {
            foreach (var group in rule.ApiGroups)
            {
                foreach (var resource in rule.Resources)
                {
                    if (rule.ResourceNames.Length == 0)
                    {
                        yield return new PolicyRule([verb], [group], [resource], [], []);
                    }
                    foreach (var name in rule.ResourceNames)
                    {
                        yield return new PolicyRule([verb], [group], [resource], [name], []);
                    }
                }
            }
            foreach (var url in rule.NonResourceUrls)
            {
                yield return new PolicyRule([verb], [], [], [], [url]);
            }
        }
    }

    /// <summary>Whether an owned rule covers one broken-down rule, as upstream's ruleCovers.</summary>
    private static bool Covers(PolicyRule owner, PolicyRule wanted)
    {
        var verbs = owner.Verbs.Contains("*") || wanted.Verbs.All(owner.Verbs.Contains);
        var groups = owner.ApiGroups.Contains("*") || wanted.ApiGroups.All(owner.ApiGroups.Contains);
        var resources = wanted.Resources.All(res => owner.Resources.Contains("*") || owner.Resources.Contains(res)
            || (res.IndexOf('/') is var slash and > 0 && owner.Resources.Contains("*" + res[slash..])));
        var urls = wanted.NonResourceUrls.All(u => owner.NonResourceUrls.Any(o => o == "*" || o == u || (o.EndsWith('*') && u.StartsWith(o[..^1], StringComparison.Ordinal))));
        var names = wanted.ResourceNames.Length == 0
            ? owner.ResourceNames.Length == 0
            : owner.ResourceNames.Length == 0 || wanted.ResourceNames.All(owner.ResourceNames.Contains);
        return verbs && groups && resources && urls && names;
    }
}
