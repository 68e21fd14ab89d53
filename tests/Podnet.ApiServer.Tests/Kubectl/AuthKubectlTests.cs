using System.Net;
using System.Text.Json.Nodes;
using Podnet.ApiServer.Auth;
using Podnet.ApiServer.Tests.Server;

namespace Podnet.ApiServer.Tests.Kubectl;

/// <summary>
/// Authentication and RBAC as kubectl sees them: the admin kubeconfig's client certificate,
/// impersonation (--as), a ServiceAccount with a Role, `kubectl auth can-i` (with --list) and
/// `kubectl auth whoami`, and upstream's 401 and 403 bodies.
/// </summary>
public sealed class AuthKubectlTests : KubectlTestBase
{
    public AuthKubectlTests(ServerFixture server)
        : base(server)
    {
    }

    private static string Sa(string ns, string name) => $"system:serviceaccount:{ns}:{name}";

    /// <summary>A namespace with a ServiceAccount "reader" bound by a RoleBinding to a Role that lists and gets pods.</summary>
    private string ReaderNamespace()
    {
        var ns = Namespace("rbac-");
        Kubectl.Ok("create", "serviceaccount", "reader", "-n", ns);
        Kubectl.Ok("create", "role", "pod-reader", "--verb=get,list,watch", "--resource=pods", "-n", ns);
        Kubectl.Ok("create", "rolebinding", "read-pods", "--role=pod-reader", $"--serviceaccount={ns}:reader", "-n", ns);
        return ns;
    }

    [Fact]
    public void Whoami_AdminKubeconfig_IsKubernetesAdminInSystemMasters()
    {
        var output = Kubectl.Ok("auth", "whoami", "-o", "json");
        var info = JsonNode.Parse(output)!["status"]!["userInfo"]!;
        Assert.Equal("kubernetes-admin", (string?)info["username"]);
        Assert.Equal(["system:masters", "system:authenticated"], info["groups"]!.AsArray().Select(g => (string?)g));
        var table = Kubectl.Ok("auth", "whoami", "--as", Sa("default", "default"));
        Assert.Matches(@"Username\s+system:serviceaccount:default:default", table);
        Assert.Matches(@"Groups\s+\[system:serviceaccounts system:serviceaccounts:default system:authenticated\]", table);
    }

    [Fact]
    public void ServiceAccountWithRole_ListsPodsThere_ForbiddenElsewhereAndOnSecrets()
    {
        var ns = ReaderNamespace();
        var other = Namespace("rbac-other-");
        var user = Sa(ns, "reader");
        Kubectl.Ok("run", "p1", "--image=agnhost", "-n", ns);
        Assert.Equal("yes\n", Kubectl.Run("auth", "can-i", "list", "pods", "-n", ns, "--as", user).Out);
        Assert.Contains("p1", Kubectl.Ok("get", "pods", "-n", ns, "--as", user));
        var elsewhere = Kubectl.Run("auth", "can-i", "list", "pods", "-n", other, "--as", user);
        Assert.Equal((1, "no\n"), (elsewhere.ExitCode, elsewhere.Out));
        Assert.Equal("no\n", Kubectl.Run("auth", "can-i", "get", "secrets", "-n", ns, "--as", user).Out);
        var denied = Kubectl.Run("get", "pods", "-n", other, "--as", user);
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains($"Error from server (Forbidden): pods is forbidden: User \"{user}\" cannot list resource \"pods\" in API group \"\" in the namespace \"{other}\"", denied.Error);
        var secrets = Kubectl.Run("get", "secret", "x", "-n", ns, "--as", user);
        Assert.Contains($"Error from server (Forbidden): secrets \"x\" is forbidden: User \"{user}\" cannot get resource \"secrets\" in API group \"\" in the namespace \"{ns}\"", secrets.Error);
        var delete = Kubectl.Run("delete", "pod", "p1", "-n", ns, "--as", user);
        Assert.Contains($"pods \"p1\" is forbidden: User \"{user}\" cannot delete resource \"pods\" in API group \"\" in the namespace \"{ns}\"", delete.Error);
    }

    [Fact]
    public void CanIList_ServiceAccount_ShowsItsRoleAndTheBasicRules()
    {
        var ns = ReaderNamespace();
        var list = Kubectl.Ok("auth", "can-i", "--list", "-n", ns, "--as", Sa(ns, "reader"));
        Assert.Matches(@"\npods\s+\[\]\s+\[\]\s+\[get list watch\]", list);
        Assert.Matches(@"\nselfsubjectaccessreviews.authorization.k8s.io\s+\[\]\s+\[\]\s+\[create\]", list);
        Assert.Matches(@"\n\s+\[/api/\*\]\s+\[\]\s+\[get\]", list);
        Assert.DoesNotContain("secrets", list);
        var admin = Kubectl.Ok("auth", "can-i", "--list");
        Assert.Matches(@"\*\.\*\s+\[\]\s+\[\]\s+\[\*\]", admin);
    }

    [Fact]
    public void CanI_AdminEverything_NonResourceUrls_AndSubresources()
    {
        Assert.Equal("yes\n", Kubectl.Ok("auth", "can-i", "delete", "nodes"));
        Assert.Equal("yes\n", Kubectl.Ok("auth", "can-i", "get", "/logs/anything"));
        var ns = ReaderNamespace();
        var user = Sa(ns, "reader");
        Assert.Equal("no\n", Kubectl.Run("auth", "can-i", "get", "pods", "--subresource=log", "-n", ns, "--as", user).Out);
        Assert.Equal("yes\n", Kubectl.Run("auth", "can-i", "get", "/api/v1", "--as", user).Out);
        Assert.Equal("no\n", Kubectl.Run("auth", "can-i", "get", "/metrics", "--as", user).Out);
        // system:anonymous may not even ask (no selfsubjectaccessreviews for system:unauthenticated, as upstream).
        Assert.Contains("selfsubjectaccessreviews.authorization.k8s.io is forbidden: User \"system:anonymous\" cannot create resource \"selfsubjectaccessreviews\" in API group \"authorization.k8s.io\" at the cluster scope",
            Kubectl.Run("auth", "can-i", "get", "/healthz", "--as", "system:anonymous").Error);
    }

    [Fact]
    public async Task ClientCertificate_UserIsCnGroupsAreO_ImpersonationNeedsTheVerb()
    {
        var pki = Path.Combine(Home, "pki");
        Directory.CreateDirectory(pki);
        var serverPki = Path.GetDirectoryName(Server.Host.KubeconfigPath)! + "/pki";
        var (cert, key) = ClientCertificates.LoadOrIssue(pki, "alice", serverPki, "alice", ["devs", "qa"]);
        using var http = ServerFixture.CreateHttpClient(Server.Host.Url, Server.Host.CaPem, "unused", System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(cert, key));
        var whoami = await http.PostAsync("/apis/authentication.k8s.io/v1/selfsubjectreviews", new StringContent("""{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}""", System.Text.Encoding.UTF8, "application/json"));
        var info = JsonNode.Parse(await whoami.Content.ReadAsStringAsync())!["status"]!["userInfo"]!;
        Assert.Equal("alice", (string?)info["username"]);
        Assert.Equal(["devs", "qa", "system:authenticated"], info["groups"]!.AsArray().Select(g => (string?)g));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/namespaces/default/pods");
        request.Headers.Add("Impersonate-User", "bob");
        var denied = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Equal("users \"bob\" is forbidden: User \"alice\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope", (string?)JsonNode.Parse(await denied.Content.ReadAsStringAsync())!["message"]);
        Kubectl.Ok("create", "clusterrole", "impersonate-bob", "--verb=impersonate", "--resource=users", "--resource-name=bob");
        Kubectl.Ok("create", "clusterrolebinding", "alice-as-bob", "--clusterrole=impersonate-bob", "--group=qa");
        using var again = new HttpRequestMessage(HttpMethod.Post, "/apis/authentication.k8s.io/v1/selfsubjectreviews") { Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json") };
        again.Headers.Add("Impersonate-User", "bob");
        var asBob = JsonNode.Parse(await (await http.SendAsync(again)).Content.ReadAsStringAsync())!;
        Assert.Equal("bob", (string?)asBob["status"]!["userInfo"]!["username"]);
    }

    [Fact]
    public void EscalationCheck_RoleWithRulesNotHeld_IsForbidden_BindVerbAllowsBinding()
    {
        var ns = ReaderNamespace();
        var user = Sa(ns, "reader");
        Kubectl.Ok("create", "role", "role-admin", "--verb=create,get,list", "--resource=roles,rolebindings", "-n", ns);
        Kubectl.Ok("create", "rolebinding", "reader-roles", "--role=role-admin", $"--serviceaccount={ns}:reader", "-n", ns);
        var escalate = Kubectl.Run("create", "role", "secrets", "--verb=get", "--resource=secrets", "-n", ns, "--as", user);
        Assert.Contains($"roles.rbac.authorization.k8s.io \"secrets\" is forbidden: user \"{user}\" (groups=[\"system:serviceaccounts\" \"system:serviceaccounts:{ns}\" \"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:", escalate.Error);
        Assert.Contains("{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\"]}", escalate.Error);
        Assert.Equal(0, Kubectl.Run("create", "role", "fewer", "--verb=list", "--resource=pods", "-n", ns, "--as", user).ExitCode);
        var bindAdmin = Kubectl.Run("create", "rolebinding", "grab", "--clusterrole=admin", $"--serviceaccount={ns}:reader", "-n", ns, "--as", user);
        Assert.Contains("is attempting to grant RBAC permissions not currently held", bindAdmin.Error);
        Kubectl.Ok("create", "role", "binder", "--verb=bind", "--resource=clusterroles", "--resource-name=view", "-n", ns);
        Kubectl.Ok("create", "rolebinding", "reader-binder", "--role=binder", $"--serviceaccount={ns}:reader", "-n", ns);
        Assert.Equal(0, Kubectl.Run("create", "rolebinding", "view", "--clusterrole=view", $"--serviceaccount={ns}:reader", "-n", ns, "--as", user).ExitCode);
        Assert.Equal("yes\n", Kubectl.Run("auth", "can-i", "list", "deployments.apps", "-n", ns, "--as", user).Out);
    }

    [Fact]
    public void BootstrapRoles_ExistWithUpstreamRules_AndAggregation()
    {
        var names = Kubectl.Ok("get", "clusterroles", "-o", "name");
        foreach (var role in new[] { "cluster-admin", "admin", "edit", "view", "system:basic-user", "system:discovery", "system:public-info-viewer", "system:node-proxier", "system:kube-dns", "system:node", "system:kube-controller-manager" })
        {
            Assert.Contains($"clusterrole.rbac.authorization.k8s.io/{role}\n", names);
        }
        var bindings = Kubectl.Ok("get", "clusterrolebindings", "-o", "name");
        Assert.Contains("clusterrolebinding.rbac.authorization.k8s.io/cluster-admin\n", bindings);
        var view = JsonNode.Parse(Kubectl.Ok("get", "clusterrole", "view", "-o", "json"))!;
        Assert.Contains(view["rules"]!.AsArray(), r => r!["resources"]!.AsArray().Any(x => (string?)x == "pods") && r["verbs"]!.AsArray().Select(v => (string?)v).SequenceEqual(["get", "list", "watch"]));
        // A new role labelled aggregate-to-view is folded into view (and so into edit and admin) by the sweeper.
        Kubectl.RunWithInput("""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata:
              name: widgets-view
              labels: {rbac.authorization.k8s.io/aggregate-to-view: "true"}
            rules:
            - apiGroups: [example.com]
              resources: [widgets]
              verbs: [get]
            """, "apply", "-f", "-");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!Kubectl.Ok("get", "clusterrole", "admin", "-o", "json").Contains("widgets", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, "the admin ClusterRole never aggregated widgets-view's rule");
            Thread.Sleep(200);
        }
    }

    [Fact]
    public async Task Anonymous_PublicInfoOnly_WrongToken401()
    {
        using var anonymous = ServerFixture.CreateHttpClient(Server.Host.Url, Server.Host.CaPem, "x");
        anonymous.DefaultRequestHeaders.Authorization = null;
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/version")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);
        var api = await anonymous.GetAsync("/api");
        Assert.Equal(HttpStatusCode.Forbidden, api.StatusCode);
        Assert.Equal("forbidden: User \"system:anonymous\" cannot get path \"/api\"", (string?)JsonNode.Parse(await api.Content.ReadAsStringAsync())!["message"]);
        var pods = JsonNode.Parse(await (await anonymous.GetAsync("/api/v1/namespaces/default/pods")).Content.ReadAsStringAsync())!;
        Assert.Equal("pods is forbidden: User \"system:anonymous\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\"", (string?)pods["message"]);
        Assert.Equal(403, (int)pods["code"]!);
        Assert.Equal("Forbidden", (string?)pods["reason"]);
        using var wrong = ServerFixture.CreateHttpClient(Server.Host.Url, Server.Host.CaPem, "not-a-token");
        var unauthorized = await wrong.GetAsync("/version");
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        Assert.Equal("""{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}""", await unauthorized.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task CreateToken_AuthenticatesAsTheServiceAccount_UntilItIsDeleted()
    {
        var ns = ReaderNamespace();
        var token = Kubectl.Ok("create", "token", "reader", "-n", ns, "--duration=15m").Trim();
        using var http = ServerFixture.CreateHttpClient(Server.Host.Url, Server.Host.CaPem, token);
        var pods = await http.GetAsync($"/api/v1/namespaces/{ns}/pods");
        Assert.Equal(HttpStatusCode.OK, pods.StatusCode);
        var nodes = await http.GetAsync("/api/v1/nodes");
        Assert.Equal(HttpStatusCode.Forbidden, nodes.StatusCode);
        Assert.Equal($"nodes is forbidden: User \"system:serviceaccount:{ns}:reader\" cannot list resource \"nodes\" in API group \"\" at the cluster scope", (string?)JsonNode.Parse(await nodes.Content.ReadAsStringAsync())!["message"]);
        // TokenReview by the admin names the account; another audience is refused.
        var reviewBody = """{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"TOKEN"}}""".Replace("TOKEN", token, StringComparison.Ordinal);
        var reviewAnswer = await Server.Http.PostAsync("/apis/authentication.k8s.io/v1/tokenreviews", new StringContent(reviewBody, System.Text.Encoding.UTF8, "application/json"));
        var review = JsonNode.Parse(await reviewAnswer.Content.ReadAsStringAsync())!["status"]!;
        Assert.True((bool)review["authenticated"]!);
        Assert.Equal($"system:serviceaccount:{ns}:reader", (string?)review["user"]!["username"]);
        Assert.Equal(["system:serviceaccounts", $"system:serviceaccounts:{ns}", "system:authenticated"], review["user"]!["groups"]!.AsArray().Select(g => (string?)g));
        var other = Kubectl.Ok("create", "token", "reader", "-n", ns, "--audience=vault").Trim();
        using var otherHttp = ServerFixture.CreateHttpClient(Server.Host.Url, Server.Host.CaPem, other);
        Assert.Equal(HttpStatusCode.Unauthorized, (await otherHttp.GetAsync($"/api/v1/namespaces/{ns}/pods")).StatusCode);
        var tooShort = Kubectl.Run("create", "token", "reader", "-n", ns, "--duration=5m");
        Assert.Contains("may not specify a duration less than 10 minutes", tooShort.Error);
        // The public key verifies the signature; the OIDC document names the issuer.
        var jwks = JsonNode.Parse(Kubectl.Ok("get", "--raw", "/openid/v1/jwks"))!["keys"]![0]!;
        Assert.Equal(("EC", "P-256", "ES256"), ((string?)jwks["kty"], (string?)jwks["crv"], (string?)jwks["alg"]));
        var parts = token.Split('.');
        using var key = System.Security.Cryptography.ECDsa.Create(new System.Security.Cryptography.ECParameters
        {
            Curve = System.Security.Cryptography.ECCurve.NamedCurves.nistP256,
            Q = new System.Security.Cryptography.ECPoint { X = Base64Url((string)jwks["x"]!), Y = Base64Url((string)jwks["y"]!) },
        });
        Assert.True(key.VerifyData(System.Text.Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64Url(parts[2]), System.Security.Cryptography.HashAlgorithmName.SHA256));
        var claims = JsonNode.Parse(Base64Url(parts[1]))!;
        Assert.Equal("https://kubernetes.default.svc.cluster.local", (string?)claims["iss"]);
        Assert.Equal("reader", (string?)claims["kubernetes.io"]!["serviceaccount"]!["name"]);
        Assert.Equal(900, (long)claims["exp"]! - (long)claims["iat"]!);
        Assert.Equal("https://kubernetes.default.svc.cluster.local", (string?)JsonNode.Parse(Kubectl.Ok("get", "--raw", "/.well-known/openid-configuration"))!["issuer"]);
        // Deleting the ServiceAccount revokes its tokens.
        Kubectl.Ok("delete", "serviceaccount", "reader", "-n", ns);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync($"/api/v1/namespaces/{ns}/pods")).StatusCode);
    }

    [Fact]
    public async Task PodBoundToken_DiesWithThePod_AndPodsNeedTheirServiceAccount()
    {
        var ns = ReaderNamespace();
        var missing = Kubectl.Run("run", "nosa", "--image=agnhost", "-n", ns, "--overrides={\"spec\":{\"serviceAccountName\":\"ghost\"}}");
        Assert.Contains($"pods \"nosa\" is forbidden: error looking up service account {ns}/ghost: serviceaccount \"ghost\" not found", missing.Error);
        Kubectl.Ok("run", "p", "--image=agnhost", "-n", ns, "--overrides={\"spec\":{\"serviceAccountName\":\"reader\"}}");
        var token = Kubectl.Ok("create", "token", "reader", "-n", ns, "--bound-object-kind=Pod", "--bound-object-name=p").Trim();
        var claims = JsonNode.Parse(Base64Url(token.Split('.')[1]))!;
        Assert.Equal("p", (string?)claims["kubernetes.io"]!["pod"]!["name"]);
        using var http = ServerFixture.CreateHttpClient(Server.Host.Url, Server.Host.CaPem, token);
        var whoami = await http.PostAsync("/apis/authentication.k8s.io/v1/selfsubjectreviews", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        var extra = JsonNode.Parse(await whoami.Content.ReadAsStringAsync())!["status"]!["userInfo"]!["extra"]!;
        Assert.Equal("p", (string?)extra["authentication.kubernetes.io/pod-name"]![0]);
        Kubectl.Ok("delete", "pod", "p", "-n", ns, "--grace-period=0", "--force");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync($"/api/v1/namespaces/{ns}/pods")).StatusCode);
    }

    private static byte[] Base64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '='));
    }

    [Fact]
    public void ApiResources_ListTheReviewKindsAndTokenRequest_AsUpstream()
    {
        var resources = Kubectl.Ok("api-resources", "--api-group=authorization.k8s.io", "-o", "wide");
        Assert.Matches(@"localsubjectaccessreviews\s+authorization.k8s.io/v1\s+true\s+LocalSubjectAccessReview\s+create", resources);
        Assert.Matches(@"selfsubjectaccessreviews\s+authorization.k8s.io/v1\s+false\s+SelfSubjectAccessReview\s+create", resources);
        Assert.Matches(@"selfsubjectrulesreviews\s+authorization.k8s.io/v1\s+false\s+SelfSubjectRulesReview\s+create", resources);
        Assert.Matches(@"subjectaccessreviews\s+authorization.k8s.io/v1\s+false\s+SubjectAccessReview\s+create", resources);
        var authn = Kubectl.Ok("api-resources", "--api-group=authentication.k8s.io", "-o", "wide");
        Assert.Matches(@"selfsubjectreviews\s+authentication.k8s.io/v1\s+false\s+SelfSubjectReview\s+create", authn);
        Assert.Matches(@"tokenreviews\s+authentication.k8s.io/v1\s+false\s+TokenReview\s+create", authn);
        var core = Kubectl.Ok("get", "--raw", "/api/v1");
        Assert.Contains("""{"name":"serviceaccounts/token","singularName":"","namespaced":true,"kind":"TokenRequest","verbs":["create"],"group":"authentication.k8s.io","version":"v1"}""", core);
        // Still served as before.
        Assert.Equal("yes\n", Kubectl.Ok("auth", "can-i", "create", "pods"));
    }
}
