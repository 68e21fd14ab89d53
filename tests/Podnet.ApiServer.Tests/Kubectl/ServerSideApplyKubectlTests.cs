using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Podnet.ApiServer.Tests.Server;

namespace Podnet.ApiServer.Tests.Kubectl;

/// <summary>Server-side apply from the real kubectl and from KubernetesClient against the running server.</summary>
public sealed class ServerSideApplyKubectlTests : IClassFixture<ServerFixture>, IDisposable
{
    private const string Web = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          labels: {app: web}
        spec:
          replicas: 2
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              containers:
              - name: web
                image: agnhost:2.39
                ports: [{containerPort: 8080}]
        """;

    private readonly ServerFixture _server;
    private readonly string _home = Directory.CreateTempSubdirectory("podnet-ssa-").FullName;
    private readonly Kubectl _kubectl;

    public ServerSideApplyKubectlTests(ServerFixture server)
    {
        _server = server;
        _kubectl = new Kubectl(server.Host.KubeconfigPath, _home);
    }

    public void Dispose() => Directory.Delete(_home, recursive: true);

    private string Namespace()
    {
        var name = "ssa-" + Guid.NewGuid().ToString("N")[..8];
        _kubectl.Ok("create", "namespace", name);
        return name;
    }

    private string File(string text)
    {
        var path = Path.Combine(_home, "web.yaml");
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void KubectlServerSide_CreatesReappliesConflictsAfterScale_ThenForceWins()
    {
        var ns = Namespace();
        Assert.Equal("deployment.apps/web serverside-applied\n", _kubectl.Ok("apply", "--server-side", "-n", ns, "-f", File(Web)));
        Assert.Equal("deployment.apps/web serverside-applied\n", _kubectl.Ok("apply", "--server-side", "-n", ns, "-f", File(Web.Replace("agnhost:2.39", "agnhost:2.40"))));
        Assert.Equal("agnhost:2.40", _kubectl.Ok("get", "-n", ns, "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"));

        _kubectl.Ok("scale", "-n", ns, "deployment", "web", "--replicas=5");
        var changed = File(Web.Replace("agnhost:2.39", "agnhost:2.40").Replace("replicas: 2", "replicas: 3"));
        var conflict = _kubectl.Run("apply", "--server-side", "-n", ns, "-f", changed);
        Assert.NotEqual(0, conflict.ExitCode);
        Assert.Matches("""Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1 at [0-9TZ:-]+: \.spec\.replicas""", conflict.Error);
        Assert.Contains("--force-conflicts", conflict.Error);
        Assert.Equal("5", _kubectl.Ok("get", "-n", ns, "deployment", "web", "-o", "jsonpath={.spec.replicas}"));

        Assert.Equal("deployment.apps/web serverside-applied\n", _kubectl.Ok("apply", "--server-side", "--force-conflicts", "-n", ns, "-f", changed));
        Assert.Equal("3", _kubectl.Ok("get", "-n", ns, "deployment", "web", "-o", "jsonpath={.spec.replicas}"));

        var yaml = _kubectl.Ok("get", "-n", ns, "deployment", "web", "-o", "yaml", "--show-managed-fields");
        Assert.Contains("managedFields:", yaml);
        Assert.Contains("manager: kubectl\n    operation: Apply", yaml);
        Assert.Contains("fieldsType: FieldsV1", yaml);
        Assert.Contains("""k:{"containerPort":8080,"protocol":"TCP"}:""", yaml);
        Assert.DoesNotContain("subresource: scale", yaml);
        Assert.DoesNotContain("managedFields", _kubectl.Ok("get", "-n", ns, "deployment", "web", "-o", "yaml"));
    }

    [Fact]
    public void KubectlServerSide_FieldDroppedFromTheFile_IsRemoved_OthersLabelStays()
    {
        var ns = Namespace();
        var withEnv = Web.Replace("ports: [{containerPort: 8080}]", "ports: [{containerPort: 8080}]\n        env: [{name: A, value: \"1\"}]");
        _kubectl.Ok("apply", "--server-side", "-n", ns, "-f", File(withEnv));
        _kubectl.Ok("label", "-n", ns, "deployment", "web", "owner=ops");
        _kubectl.Ok("apply", "--server-side", "-n", ns, "-f", File(Web));
        var deployment = JsonNode.Parse(_kubectl.Ok("get", "-n", ns, "deployment", "web", "-o", "json"))!;
        Assert.Null(deployment["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]);
        Assert.Equal("ops", (string?)deployment["metadata"]!["labels"]!["owner"]);
    }

    [Fact]
    public void KubectlClientSideThenServerSide_MovesOwnershipToTheApplier()
    {
        var ns = Namespace();
        _kubectl.Ok("apply", "-n", ns, "-f", File(Web));
        Assert.Contains("manager: kubectl-client-side-apply", _kubectl.Ok("get", "-n", ns, "deployment", "web", "-o", "yaml", "--show-managed-fields"));
        Assert.Equal("deployment.apps/web serverside-applied\n", _kubectl.Ok("apply", "--server-side", "-n", ns, "-f", File(Web.Replace("agnhost:2.39", "agnhost:2.40"))));
        var yaml = _kubectl.Ok("get", "-n", ns, "deployment", "web", "-o", "yaml", "--show-managed-fields");
        Assert.Contains("manager: kubectl\n    operation: Apply", yaml);
        Assert.Contains("image: agnhost:2.40", yaml);
    }

    [Fact]
    public async Task KubernetesClient_ApplyPatch_CreatesThenUpdates_AndRequiresAFieldManager()
    {
        var ns = Namespace();
        var client = _server.Client;
        var config = """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","labels":{"a":"b"}},"data":{"k":"1"}}""";
        var created = await client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(config, V1Patch.PatchType.ApplyPatch), "cfg", ns, fieldManager: "podnet-test");
        Assert.Equal("1", created.Data["k"]);
        var entry = Assert.Single(created.Metadata.ManagedFields);
        Assert.Equal(("podnet-test", "Apply", "FieldsV1"), (entry.Manager, entry.Operation, entry.FieldsType));

        var updated = await client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(config.Replace("\"k\":\"1\"", "\"k\":\"2\""), V1Patch.PatchType.ApplyPatch), "cfg", ns, fieldManager: "podnet-test");
        Assert.Equal("2", updated.Data["k"]);
        Assert.Equal(created.Metadata.Uid, updated.Metadata.Uid);

        using var request = new HttpRequestMessage(HttpMethod.Patch, $"api/v1/namespaces/{ns}/configmaps/cfg")
        {
            Content = new StringContent(config, Encoding.UTF8, "application/apply-patch+yaml"),
        };
        using var response = await _server.Http.SendAsync(request);
        var status = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(422, (int)response.StatusCode);
        Assert.Equal("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch", (string?)status["message"]);
    }
}
