using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Podnet.ApiServer.Auth.Rbac;
using Podnet.ApiServer.Http;

namespace Podnet.ApiServer.Auth;

/// <summary>
/// The review APIs, create-only and never stored, as kube-apiserver serves them:
/// authorization.k8s.io/v1 SelfSubjectAccessReview, SubjectAccessReview,
/// LocalSubjectAccessReview and SelfSubjectRulesReview (what `kubectl auth can-i`, with --list
/// and --as, asks) and authentication.k8s.io/v1 SelfSubjectReview (`kubectl auth whoami`). Each
/// answers with the request's object and its status filled in.
/// </summary>
internal static class Reviews
{
    private const string Authorization = "authorization.k8s.io";
    private const string Authentication = "authentication.k8s.io";

    /// <summary>The review kinds' (group, plural, kind, namespaced), for discovery.</summary>
    public static readonly (string Group, string Plural, string Kind, bool Namespaced)[] Kinds =
    [
        (Authentication, "selfsubjectreviews", "SelfSubjectReview", false),
        (Authentication, "tokenreviews", "TokenReview", false),
        (Authorization, "localsubjectaccessreviews", "LocalSubjectAccessReview", true),
        (Authorization, "selfsubjectaccessreviews", "SelfSubjectAccessReview", false),
        (Authorization, "selfsubjectrulesreviews", "SelfSubjectRulesReview", false),
        (Authorization, "subjectaccessreviews", "SubjectAccessReview", false),
    ];

    public static async Task<bool> TryServeAsync(HttpContext context, string path, UserInfo user, RbacAuthorizer authorizer, Func<JsonObject, JsonObject>? tokenReview = null)
    {
        var parts = path.Trim('/').Split('/');
        if (parts.Length < 4 || parts[0] != "apis" || parts[1] is not (Authorization or Authentication))
        {
            return false;
        }
        var ns = parts.Length == 6 && parts[3] == "namespaces" ? parts[4] : null;
        var plural = parts[^1];
        var kind = Kinds.FirstOrDefault(k => k.Group == parts[1] && k.Plural == plural && k.Namespaced == (ns is not null));
        if (kind.Kind is null || parts[2] != "v1" || parts.Length != (ns is null ? 4 : 6))
        {
            return false;
        }
        if (context.Request.Method != "POST")
        {
            throw ApiException.MethodNotAllowed("the server does not allow this method on the requested resource");
        }
        var body = await Bodies.ReadObjectAsync(context.Request).ConfigureAwait(false);
        if ((string?)body["kind"] is { } bodyKind && bodyKind != kind.Kind)
        {
            throw ApiException.BadRequest($"the body's kind {bodyKind} is not {kind.Kind}");
        }
        body["kind"] = kind.Kind;
        body["apiVersion"] = $"{kind.Group}/v1";
        body["metadata"] = body["metadata"] as JsonObject ?? new JsonObject();
        var spec = body["spec"] as JsonObject ?? new JsonObject();
        body["spec"] = spec;
        body["status"] = kind.Kind switch
        {
            "SelfSubjectReview" => new JsonObject { ["userInfo"] = UserJson(user) },
            "SelfSubjectAccessReview" => Access(authorizer, user, spec, null),
            "SubjectAccessReview" => Access(authorizer, SubjectOf(spec), spec, null),
            "LocalSubjectAccessReview" => Access(authorizer, SubjectOf(spec), spec, ns),
            "SelfSubjectRulesReview" => Rules(authorizer, user, (string?)spec["namespace"] ?? ""),
            "TokenReview" => tokenReview?.Invoke(spec) ?? new JsonObject { ["authenticated"] = false, ["error"] = "token reviews are not served" },
            _ => throw new InvalidOperationException(kind.Kind),
        };
        await Bodies.WriteAsync(context.Response, 201, body).ConfigureAwait(false);
        return true;
    }

    public static JsonObject UserJson(UserInfo user)
    {
        var json = new JsonObject { ["username"] = user.Name };
        if (user.Uid.Length > 0)
        {
            json["uid"] = user.Uid;
        }
        json["groups"] = new JsonArray(user.Groups.Select(g => (JsonNode)JsonValue.Create(g)).ToArray());
        if (user.Extra.Count > 0)
        {
            json["extra"] = new JsonObject(user.Extra.Select(e => KeyValuePair.Create(e.Key, (JsonNode?)new JsonArray(e.Value.Select(v => (JsonNode)JsonValue.Create(v)).ToArray()))));
        }
        return json;
    }

    private static UserInfo SubjectOf(JsonObject spec)
    {
        var causes = new List<FieldCause>();
        var name = (string?)spec["user"] ?? "";
        var groups = (spec["groups"] as JsonArray ?? []).Select(g => (string?)g ?? "").ToList();
        if (name.Length == 0 && groups.Count == 0)
        {
            causes.Add(FieldCause.Invalid("spec.user", "", "at least one of user or group must be specified"));
        }
        if (spec["resourceAttributes"] is null == spec["nonResourceAttributes"] is null)
        {
            causes.Add(FieldCause.Invalid("spec.resourceAttributes", spec["resourceAttributes"], "exactly one of nonResourceAttributes or resourceAttributes must be specified"));
        }
        if (causes.Count > 0)
        {
            throw new ApiException(422, "Invalid", $"SubjectAccessReview.authorization.k8s.io \"\" is invalid: {string.Join(", ", causes.Select(c => $"{c.Field}: {c.Message}"))}");
        }
        var extra = spec["extra"] is JsonObject e
            ? e.ToDictionary(p => p.Key, p => (IReadOnlyList<string>)(p.Value as JsonArray ?? []).Select(v => (string?)v ?? "").ToArray())
            : [];
        // A SubjectAccessReview's user is taken as given: no system:authenticated is added.
        return new UserInfo(name, (string?)spec["uid"] ?? "", groups, extra);
    }

    private static JsonObject Access(RbacAuthorizer authorizer, UserInfo user, JsonObject spec, string? localNamespace)
    {
        RequestAttributes attributes;
        if (spec["resourceAttributes"] is JsonObject ra)
        {
            var ns = localNamespace ?? (string?)ra["namespace"] ?? "";
            if (localNamespace is not null)
            {
                ra["namespace"] = localNamespace;
            }
            attributes = new RequestAttributes(user, (string?)ra["verb"] ?? "", true, "", (string?)ra["group"] ?? "", (string?)ra["version"] ?? "",
                (string?)ra["resource"] ?? "", (string?)ra["subresource"] ?? "", ns, (string?)ra["name"] ?? "");
        }
        else if (spec["nonResourceAttributes"] is JsonObject nra)
        {
            attributes = new RequestAttributes(user, (string?)nra["verb"] ?? "", false, (string?)nra["path"] ?? "");
        }
        else
        {
            throw new ApiException(422, "Invalid", "SelfSubjectAccessReview.authorization.k8s.io \"\" is invalid: spec.resourceAttributes: Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified");
        }
        var (allowed, reason) = authorizer.Authorize(attributes);
        var status = new JsonObject { ["allowed"] = allowed };
        if (reason.Length > 0)
        {
            status["reason"] = reason;
        }
        return status;
    }

    /// <summary>
    /// The rules the user has in the namespace, as upstream's union of authorizers lists them:
    /// system:masters' everything first (the privileged-groups authorizer), then RBAC's rules.
    /// </summary>
    private static JsonObject Rules(RbacAuthorizer authorizer, UserInfo user, string ns)
    {
        var resourceRules = new JsonArray();
        var nonResourceRules = new JsonArray();
        if (user.IsMaster || !authorizer.Enabled)
        {
            resourceRules.Add((JsonNode)new JsonObject { ["verbs"] = Array("*"), ["apiGroups"] = Array("*"), ["resources"] = Array("*") });
            nonResourceRules.Add((JsonNode)new JsonObject { ["verbs"] = Array("*"), ["nonResourceURLs"] = Array("*") });
        }
        var (rules, errors) = authorizer.Policy.RulesFor(user, ns);
        foreach (var rule in rules)
        {
            if (rule.NonResourceUrls.Length > 0)
            {
                nonResourceRules.Add((JsonNode)new JsonObject { ["verbs"] = Array(rule.Verbs), ["nonResourceURLs"] = Array(rule.NonResourceUrls) });
            }
            else
            {
                var json = new JsonObject { ["verbs"] = Array(rule.Verbs), ["apiGroups"] = Array(rule.ApiGroups), ["resources"] = Array(rule.Resources) };
                if (rule.ResourceNames.Length > 0)
                {
                    json["resourceNames"] = Array(rule.ResourceNames);
                }
                resourceRules.Add((JsonNode)json);
            }
        }
        var status = new JsonObject { ["resourceRules"] = resourceRules, ["nonResourceRules"] = nonResourceRules, ["incomplete"] = errors.Count > 0 };
        if (errors.Count > 0)
        {
            status["evaluationError"] = string.Join(", ", errors);
        }
        return status;
    }

    private static JsonArray Array(params string[] values) => new(values.Select(v => (JsonNode)JsonValue.Create(v)).ToArray());
}
