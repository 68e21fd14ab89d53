using System.Text.Json.Nodes;

namespace Podnet.ApiServer.Auth.Rbac;

/// <summary>
/// One rule of a Role or ClusterRole, matched as upstream's RBAC authorizer (rbac/v1 helpers
/// VerbMatches, APIGroupMatches, ResourceMatches, ResourceNameMatches, NonResourceURLMatches):
/// "*" matches every verb, group, resource or URL; "*/SUB" every resource's SUB; a
/// nonResourceURL ending in "*" every path it prefixes; resourceNames, when given, only those
/// names (so never a list without a metadata.name field selector, nor a create).
/// </summary>
internal sealed record PolicyRule(string[] Verbs, string[] ApiGroups, string[] Resources, string[] ResourceNames, string[] NonResourceUrls)
{
    public static PolicyRule From(JsonNode? node) => new(
        Strings(node?["verbs"]), Strings(node?["apiGroups"]), Strings(node?["resources"]), Strings(node?["resourceNames"]), Strings(node?["nonResourceURLs"]));

    public static IReadOnlyList<PolicyRule> ListFrom(JsonNode? rules) =>
        rules is JsonArray array ? array.Select(From).ToArray() : [];

    public bool Allows(RequestAttributes a)
    {
        if (a.IsResourceRequest)
        {
            var combined = a.Subresource.Length > 0 ? $"{a.Resource}/{a.Subresource}" : a.Resource;
            return VerbMatches(a.Verb) && GroupMatches(a.ApiGroup) && ResourceMatches(combined, a.Subresource) && NameMatches(a.Name);
        }
        return VerbMatches(a.Verb) && UrlMatches(a.Path);
    }

    public bool VerbMatches(string verb) => Verbs.Any(v => v == "*" || v == verb);

    public bool GroupMatches(string group) => ApiGroups.Any(g => g == "*" || g == group);

    public bool ResourceMatches(string combined, string subresource) =>
        Resources.Any(r => r == "*" || r == combined || (subresource.Length > 0 && r == "*/" + subresource));

    public bool NameMatches(string name) => ResourceNames.Length == 0 || ResourceNames.Contains(name);

    public bool UrlMatches(string path) =>
        NonResourceUrls.Any(u => u == "*" || u == path || (u.EndsWith('*') && path.StartsWith(u[..^1], StringComparison.Ordinal)));

    public JsonObject ToJson()
    {
        var rule = new JsonObject { ["verbs"] = Array(Verbs) };
        if (ApiGroups.Length > 0)
        {
            rule["apiGroups"] = Array(ApiGroups);
        }
        if (Resources.Length > 0)
        {
            rule["resources"] = Array(Resources);
        }
        if (ResourceNames.Length > 0)
        {
            rule["resourceNames"] = Array(ResourceNames);
        }
        if (NonResourceUrls.Length > 0)
        {
            rule["nonResourceURLs"] = Array(NonResourceUrls);
        }
        return rule;
    }

    /// <summary>The rule as upstream's PolicyRule String() prints it in escalation messages.</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (ApiGroups.Length > 0)
        {
            parts.Add($"APIGroups:[{Quoted(ApiGroups)}]");
        }
        if (Resources.Length > 0)
        {
            parts.Add($"Resources:[{Quoted(Resources)}]");
        }
        if (ResourceNames.Length > 0)
        {
            parts.Add($"ResourceNames:[{Quoted(ResourceNames)}]");
        }
        if (NonResourceUrls.Length > 0)
        {
            parts.Add($"NonResourceURLs:[{Quoted(NonResourceUrls)}]");
        }
        parts.Add($"Verbs:[{Quoted(Verbs)}]");
        return "{" + string.Join(", ", parts) + "}";
    }

    private static string Quoted(string[] values) => string.Join(" ", values.Select(v => $"\"{v}\""));

    private static JsonArray Array(string[] values) => new(values.Select(v => (JsonNode)JsonValue.Create(v)).ToArray());

    private static string[] Strings(JsonNode? node) =>
        node is JsonArray array ? array.Select(n => n?.GetValueKind() == System.Text.Json.JsonValueKind.String ? (string)n! : "").ToArray() : [];
}

/// <summary>A binding's subject: User, Group or ServiceAccount (namespace defaults to the binding's).</summary>
internal sealed record Subject(string Kind, string Name, string Namespace)
{
    public static IReadOnlyList<Subject> ListFrom(JsonNode? subjects) =>
        subjects is JsonArray array
            ? array.Select(s => new Subject((string?)s?["kind"] ?? "", (string?)s?["name"] ?? "", (string?)s?["namespace"] ?? "")).ToArray()
            : [];

    /// <summary>As upstream's describeSubject: Kind "name", a ServiceAccount as "namespace/name".</summary>
    public string Describe(string bindingNamespace) =>
        Kind == "ServiceAccount" ? $"{Kind} \"{(Namespace.Length > 0 ? Namespace : bindingNamespace)}/{Name}\"" : $"{Kind} \"{Name}\"";

    /// <summary>As upstream's appliesToUser.</summary>
    public bool AppliesTo(UserInfo user, string bindingNamespace) => Kind switch
    {
        "User" => user.Name == Name,
        "Group" => user.Groups.Contains(Name),
        "ServiceAccount" => (Namespace.Length > 0 ? Namespace : bindingNamespace) is { Length: > 0 } ns && UserInfo.ServiceAccountName(ns, Name) == user.Name,
        _ => false,
    };
}
