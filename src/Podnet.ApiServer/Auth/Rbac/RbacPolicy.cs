using System.Text.Json.Nodes;

namespace Podnet.ApiServer.Auth.Rbac;

/// <summary>A binding as the authorizer reads it: whom it names and which role.</summary>
internal sealed record Binding(string Namespace, string Name, string RoleKind, string RoleName, IReadOnlyList<Subject> Subjects)
{
    public static Binding From(JsonObject obj)
    {
        var meta = obj["metadata"];
        return new Binding((string?)meta?["namespace"] ?? "", (string?)meta?["name"] ?? "", (string?)obj["roleRef"]?["kind"] ?? "", (string?)obj["roleRef"]?["name"] ?? "", Subject.ListFrom(obj["subjects"]));
    }

    /// <summary>How upstream's binding describers name a binding in reasons.</summary>
    public string Describe => Namespace.Length == 0 ? $"ClusterRoleBinding \"{Name}\"" : $"RoleBinding \"{Name}/{Namespace}\"";
}

/// <summary>
/// One immutable view of every Role, ClusterRole and binding, evaluated as upstream's RBAC
/// authorizer: the ClusterRoleBindings first, then, for a request in a namespace, that
/// namespace's RoleBindings (to a Role of the namespace or a ClusterRole); the first rule that
/// allows wins. A binding to a role that does not exist counts as an error, reported in the
/// denial's reason ("RBAC: clusterrole.rbac.authorization.k8s.io \"x\" not found").
/// </summary>
/// <remarks>
/// Bindings are indexed by their subjects' user, group and service-account names, so a request
/// looks only at the bindings that could name it (with 1,000 bindings in a namespace, a request
/// visits the few that do, not all of them).
/// </remarks>
internal sealed class RbacPolicy
{
    private readonly Dictionary<string, IReadOnlyList<PolicyRule>> _clusterRoles = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyList<PolicyRule>> _roles = new(StringComparer.Ordinal);
    private readonly List<Binding> _clusterBindings = [];
    private readonly Dictionary<string, Dictionary<string, List<Binding>>> _bindingsBySubject = new(StringComparer.Ordinal);

    public static RbacPolicy Empty { get; } = new([], [], [], []);

    public RbacPolicy(IEnumerable<JsonObject> clusterRoles, IEnumerable<JsonObject> roles, IEnumerable<JsonObject> clusterBindings, IEnumerable<JsonObject> roleBindings)
    {
        foreach (var role in clusterRoles)
        {
            _clusterRoles[(string)role["metadata"]!["name"]!] = PolicyRule.ListFrom(role["rules"]);
        }
        foreach (var role in roles)
        {
            _roles[$"{role["metadata"]!["namespace"]}/{role["metadata"]!["name"]}"] = PolicyRule.ListFrom(role["rules"]);
        }
        _clusterBindings.AddRange(clusterBindings.Select(Binding.From));
        foreach (var binding in roleBindings.Select(Binding.From))
        {
            if (!_bindingsBySubject.TryGetValue(binding.Namespace, out var index))
            {
                _bindingsBySubject[binding.Namespace] = index = new(StringComparer.Ordinal);
            }
            foreach (var key in binding.Subjects.Select(s => SubjectKey(s, binding.Namespace)).Distinct())
            {
                if (!index.TryGetValue(key, out var list))
                {
                    index[key] = list = [];
                }
                list.Add(binding);
            }
        }
    }

    public int RoleCount => _clusterRoles.Count + _roles.Count;

    /// <summary>Whether RBAC allows the request, and the reason upstream gives when it does not.</summary>
    public (bool Allowed, string Reason) Authorize(RequestAttributes a)
    {
        var errors = new List<string>();
        foreach (var (binding, rules) in Visit(a.User, a.Namespace, errors))
        {
            if (rules.Any(r => r.Allows(a)))
            {
                var subject = binding.Subjects.First(s => s.AppliesTo(a.User, binding.Namespace));
                return (true, $"RBAC: allowed by {binding.Describe} of {binding.RoleKind} \"{binding.RoleName}\" to {subject.Describe(binding.Namespace)}");
            }
        }
        return (false, errors.Count == 0 ? "" : "RBAC: " + Aggregate(errors));
    }

    /// <summary>Every rule that applies to the user in the namespace ("" for cluster-wide only), as upstream's RulesFor.</summary>
    public (List<PolicyRule> Rules, List<string> Errors) RulesFor(UserInfo user, string ns)
    {
        var errors = new List<string>();
        var rules = Visit(user, ns, errors).SelectMany(b => b.Rules).ToList();
        return (rules, errors);
    }

    /// <summary>The rules of the role a binding refers to; null when it does not exist.</summary>
    public IReadOnlyList<PolicyRule>? RoleRules(string kind, string ns, string name) => kind switch
    {
        "ClusterRole" => _clusterRoles.GetValueOrDefault(name),
        "Role" => _roles.GetValueOrDefault($"{ns}/{name}"),
        _ => null,
    };

    private IEnumerable<(Binding Binding, IReadOnlyList<PolicyRule> Rules)> Visit(UserInfo user, string ns, List<string> errors)
    {
        foreach (var binding in _clusterBindings)
        {
            if (!binding.Subjects.Any(s => s.AppliesTo(user, "")))
            {
                continue;
            }
            if (RoleRules(binding.RoleKind, "", binding.RoleName) is { } rules)
            {
                yield return (binding, rules);
            }
            else
            {
                errors.Add($"clusterrole.rbac.authorization.k8s.io \"{binding.RoleName}\" not found");
            }
        }
        if (ns.Length == 0 || !_bindingsBySubject.TryGetValue(ns, out var index))
        {
            yield break;
        }
        var seen = new HashSet<Binding>(ReferenceEqualityComparer.Instance);
        foreach (var key in KeysOf(user))
        {
            if (!index.TryGetValue(key, out var bindings))
            {
                continue;
            }
            foreach (var binding in bindings)
            {
                if (!seen.Add(binding) || !binding.Subjects.Any(s => s.AppliesTo(user, ns)))
                {
                    continue;
                }
                if (RoleRules(binding.RoleKind, ns, binding.RoleName) is { } rules)
                {
                    yield return (binding, rules);
                }
                else
                {
                    errors.Add(binding.RoleKind == "Role"
                        ? $"role.rbac.authorization.k8s.io \"{binding.RoleName}\" not found"
                        : $"clusterrole.rbac.authorization.k8s.io \"{binding.RoleName}\" not found");
                }
            }
        }
    }

    private static string SubjectKey(Subject s, string bindingNamespace) => s.Kind switch
    {
        "User" => "u:" + s.Name,
        "Group" => "g:" + s.Name,
        "ServiceAccount" => "u:" + UserInfo.ServiceAccountName(s.Namespace.Length > 0 ? s.Namespace : bindingNamespace, s.Name),
        _ => "?",
    };

    private static IEnumerable<string> KeysOf(UserInfo user) => user.Groups.Select(g => "g:" + g).Prepend("u:" + user.Name);

    private static string Aggregate(List<string> errors) => errors.Count == 1 ? errors[0] : "[" + string.Join(", ", errors) + "]";
}
