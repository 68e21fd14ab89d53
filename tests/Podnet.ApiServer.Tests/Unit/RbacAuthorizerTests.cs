using System.Text.Json.Nodes;
using Podnet.ApiServer.Auth;
using Podnet.ApiServer.Auth.Rbac;

namespace Podnet.ApiServer.Tests.Unit;

/// <summary>
/// The RBAC evaluation against the cases upstream documents (RBAC docs "Referring to resources",
/// rbac/v1 helpers' tests): subresources, "*/scale", resourceNames, nonResourceURLs with a
/// trailing "*", verbs "*", bindings to Roles and ClusterRoles, ServiceAccount subjects, missing
/// roles, aggregation and the bootstrap policy.
/// </summary>
public sealed class RbacAuthorizerTests
{
    private static JsonObject Rule(string verbs, string groups = "", string resources = "", string names = "", string urls = "")
    {
        static JsonArray List(string csv) => new(csv.Split(',').Select(v => (JsonNode)JsonValue.Create(v == "-" ? "" : v)).ToArray());
        var rule = new JsonObject { ["verbs"] = List(verbs) };
        if (resources.Length > 0)
        {
            rule["apiGroups"] = List(groups);
            rule["resources"] = List(resources);
        }
        if (names.Length > 0)
        {
            rule["resourceNames"] = List(names);
        }
        if (urls.Length > 0)
        {
            rule["nonResourceURLs"] = List(urls);
        }
        return rule;
    }

    private static JsonObject Role(string name, string? ns, params JsonObject[] rules) => new()
    {
        ["metadata"] = ns is null ? new JsonObject { ["name"] = name } : new JsonObject { ["name"] = name, ["namespace"] = ns },
        ["rules"] = new JsonArray(rules.Select(r => (JsonNode)r).ToArray()),
    };

    private static JsonObject Bind(string name, string? ns, string roleKind, string role, params (string Kind, string Name, string Ns)[] subjects) => new()
    {
        ["metadata"] = ns is null ? new JsonObject { ["name"] = name } : new JsonObject { ["name"] = name, ["namespace"] = ns },
        ["roleRef"] = new JsonObject { ["kind"] = roleKind, ["name"] = role, ["apiGroup"] = "rbac.authorization.k8s.io" },
        ["subjects"] = new JsonArray(subjects.Select(s => (JsonNode)new JsonObject { ["kind"] = s.Kind, ["name"] = s.Name, ["namespace"] = s.Ns }).ToArray()),
    };

    private static readonly UserInfo Alice = UserInfo.Authenticated("alice", ["devs"]);

    private static RequestAttributes Res(UserInfo user, string verb, string resource, string ns = "", string name = "", string sub = "", string group = "") =>
        new(user, verb, true, "", group, "v1", resource, sub, ns, name);

    private static RbacPolicy Policy(JsonObject[] clusterRoles, JsonObject[] roles, JsonObject[] clusterBindings, JsonObject[] bindings) =>
        new(clusterRoles, roles, clusterBindings, bindings);

    public static TheoryData<string, bool> Cases => new()
    {
        // rule: get,list pods and pods/log in ns "a" (Role "reader" bound to alice)
        { "get pods a", true },
        { "list pods a", true },
        { "get pods b", false },
        { "get pods/log a", true },
        { "get pods/exec a", false },
        { "delete pods a", false },
        // ClusterRole "scaler" (*/scale update) bound in ns "a" by a RoleBinding
        { "update deployments/scale@apps a", true },
        { "update deployments@apps a", false },
        { "update deployments/scale@apps b", false },
        // resourceNames: get configmap "settings" only; not list, not others
        { "get configmaps a settings", true },
        { "get configmaps a other", false },
        { "list configmaps a", false },
        { "list configmaps a settings", true }, // a list narrowed by metadata.name=settings
        // group "devs" gets every verb on widgets in any group, cluster-wide
        { "escalate widgets@example.com -", true },
        { "get widgets@other.io b", true },
        { "get gadgets@example.com -", false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Authorize_UpstreamCases(string request, bool allowed)
    {
        var policy = Policy(
            [
                Role("scaler", null, Rule("update", "*", "*/scale")),
                Role("widgets", null, Rule("*", "*", "widgets")),
            ],
            [
                Role("reader", "a", Rule("get,list", "-", "pods,pods/log"), Rule("get,list", "-", "configmaps", names: "settings")),
            ],
            [Bind("devs-widgets", null, "ClusterRole", "widgets", ("Group", "devs", ""))],
            [
                Bind("alice-reader", "a", "Role", "reader", ("User", "alice", "")),
                Bind("alice-scaler", "a", "ClusterRole", "scaler", ("User", "alice", "")),
            ]);
        var parts = request.Split(' ');
        var (resource, group) = parts[1].Split('@') is [var r, var g] ? (r, g) : (parts[1], "");
        var (res, sub) = resource.Split('/') is [var rr, var s] ? (rr, s) : (resource, "");
        var ns = parts[2] == "-" ? "" : parts[2];
        var name = parts.Length > 3 ? parts[3] : "";
        Assert.Equal(allowed, policy.Authorize(Res(Alice, parts[0], res, ns, name, sub, group)).Allowed);
    }

    [Fact]
    public void NonResourceUrls_TrailingStarIsAPrefix_ExactOtherwise()
    {
        var policy = Policy([Role("urls", null, Rule("get", urls: "/apis/*,/healthz"))], [], [Bind("b", null, "ClusterRole", "urls", ("Group", "system:authenticated", ""))], []);
        bool Get(string path) => policy.Authorize(new RequestAttributes(Alice, "get", false, path)).Allowed;
        Assert.True(Get("/apis/apps/v1"));
        Assert.True(Get("/apis/"));
        Assert.False(Get("/apis"));
        Assert.True(Get("/healthz"));
        Assert.False(Get("/healthz/etcd"));
        Assert.False(policy.Authorize(new RequestAttributes(Alice, "post", false, "/healthz")).Allowed);
    }

    [Fact]
    public void ServiceAccountSubject_NamespaceDefaultsToTheBindings_AndReasonsNameTheBinding()
    {
        var sa = UserInfo.Authenticated("system:serviceaccount:a:robot", UserInfo.ServiceAccountGroups("a"));
        var policy = Policy([Role("view", null, Rule("get", "-", "pods"))], [], [], [Bind("robot-view", "a", "ClusterRole", "view", ("ServiceAccount", "robot", ""))]);
        var (allowed, reason) = policy.Authorize(Res(sa, "get", "pods", "a"));
        Assert.True(allowed);
        Assert.Equal("RBAC: allowed by RoleBinding \"robot-view/a\" of ClusterRole \"view\" to ServiceAccount \"a/robot\"", reason);
        Assert.False(policy.Authorize(Res(sa, "get", "pods", "b")).Allowed);
    }

    [Fact]
    public void MissingRole_DeniesWithUpstreamsReason()
    {
        var policy = Policy([], [], [Bind("x", null, "ClusterRole", "gone", ("User", "alice", ""))], []);
        Assert.Equal((false, "RBAC: clusterrole.rbac.authorization.k8s.io \"gone\" not found"), policy.Authorize(Res(Alice, "get", "pods", "a")));
    }

    [Fact]
    public void Forbidden_MessagesAsUpstream()
    {
        Assert.Equal("pods is forbidden: User \"alice\" cannot list resource \"pods\" in API group \"\" in the namespace \"y\"", Forbidden.For(Res(Alice, "list", "pods", "y"), "").Message);
        Assert.Equal("deployments.apps \"web\" is forbidden: User \"alice\" cannot update resource \"deployments/scale\" in API group \"apps\" at the cluster scope", Forbidden.For(Res(Alice, "update", "deployments", "", "web", "scale", "apps"), "").Message);
        Assert.Equal("forbidden: User \"alice\" cannot get path \"/metrics\"", Forbidden.For(new RequestAttributes(Alice, "get", false, "/metrics"), "").Message);
    }

    [Theory]
    [InlineData("GET", "/api/v1/namespaces/a/pods", "", "list", "pods", "", "a", "")]
    [InlineData("GET", "/api/v1/namespaces/a/pods", "watch=true", "watch", "pods", "", "a", "")]
    [InlineData("GET", "/api/v1/watch/namespaces/a/pods/p", "", "watch", "pods", "", "a", "p")]
    [InlineData("GET", "/api/v1/namespaces/a/pods", "fieldSelector=metadata.name%3Dp", "list", "pods", "", "a", "p")]
    [InlineData("DELETE", "/api/v1/namespaces/a/pods", "", "deletecollection", "pods", "", "a", "")]
    [InlineData("GET", "/api/v1/namespaces/a/pods/p/log", "", "get", "pods", "log", "a", "p")]
    [InlineData("GET", "/api/v1/namespaces/a", "", "get", "namespaces", "", "a", "a")]
    [InlineData("PUT", "/api/v1/namespaces/a/finalize", "", "update", "namespaces", "finalize", "a", "a")]
    [InlineData("PATCH", "/apis/apps/v1/namespaces/a/deployments/web/scale", "", "patch", "deployments", "scale", "a", "web")]
    [InlineData("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "", "create", "selfsubjectaccessreviews", "", "", "")]
    public void RequestAttributes_AsUpstreamsRequestInfo(string method, string path, string query, string verb, string resource, string sub, string ns, string name)
    {
        var parsed = System.Web.HttpUtility.ParseQueryString(query);
        var a = RequestAttributes.From(Alice, method, path, k => parsed[k]);
        Assert.Equal((true, verb, resource, sub, ns, name), (a.IsResourceRequest, a.Verb, a.Resource, a.Subresource, a.Namespace, a.Name));
    }

    [Fact]
    public void Aggregation_FoldsMatchingRolesRulesOnceInNameOrder()
    {
        var bootstrap = BootstrapPolicy.ClusterRoles;
        var changes = ClusterRoleAggregation.Calc(bootstrap);
        var admin = changes.Single(c => c.Name == "admin").Rules;
        var view = changes.Single(c => c.Name == "view").Rules;
        Assert.Contains(admin, r => r!.ToJsonString().Contains("\"rolebindings\"", StringComparison.Ordinal));
        Assert.Contains(admin, r => r!.ToJsonString().Contains("\"pods/exec\"", StringComparison.Ordinal));
        Assert.DoesNotContain(view, r => r!.ToJsonString().Contains("\"secrets\"", StringComparison.Ordinal));
        Assert.Equal(admin.Count, admin.Select(r => r!.ToJsonString()).Distinct().Count());
    }

    [Fact]
    public void BootstrapPolicy_HasUpstreamsRolesAndBindings()
    {
        var names = BootstrapPolicy.ClusterRoles.Select(r => (string)r["metadata"]!["name"]!).ToList();
        Assert.Contains("system:public-info-viewer", names);
        var discovery = BootstrapPolicy.ClusterRoles.Single(r => (string?)r["metadata"]!["name"] == "system:discovery");
        Assert.Equal("""[{"nonResourceURLs":["/api","/api/*","/apis","/apis/*","/healthz","/livez","/openapi","/openapi/*","/readyz","/version","/version/"],"verbs":["get"]}]""", discovery["rules"]!.ToJsonString());
        var publicInfo = BootstrapPolicy.ClusterRoleBindings.Single(b => (string?)b["metadata"]!["name"] == "system:public-info-viewer");
        Assert.Equal(["system:authenticated", "system:unauthenticated"], publicInfo["subjects"]!.AsArray().Select(s => (string?)s!["name"]));
        Assert.Null(BootstrapPolicy.ClusterRoleBindings.Single(b => (string?)b["metadata"]!["name"] == "system:node")["subjects"]);
    }
}
