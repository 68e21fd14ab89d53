using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Podnet.ApiServer.Tests.Server;

namespace Podnet.ApiServer.Tests.Kubectl;

/// <summary>Server-side apply from the real kubectl and from KubernetesClient against the running server.</summary>
public sealed class ServerSideApplyKubectlTests(ServerFixture server) : KubectlTestBase(server)
{
    private static readonly string Web = WebDeployment.Replace("\n        env: [{name: A, value: \"1\"}]", "", StringComparison.Ordinal);

    private string File(string text) => File("web.yaml", text);

    [Fact]
    public void KubectlServerSide_CreatesReappliesConflictsAfterScale_ThenForceWins()
    {
        var ns = Namespace("ssa-");
        Assert.Equal("deployment.apps/web serverside-applied\n", Kubectl.Ok("apply", "--server-side", "-n", ns, "-f", File(Web)));
        Assert.Equal("deployment.apps/web serverside-applied\n", Kubectl.Ok("apply", "--server-side", "-n", ns, "-f", File(Web.Replace("agnhost:2.39", "agnhost:2.40"))));
        Assert.Equal("agnhost:2.40", Kubectl.Ok("get", "-n", ns, "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"));

        Kubectl.Ok("scale", "-n", ns, "deployment", "web", "--replicas=5");
        var changed = File(Web.Replace("agnhost:2.39", "agnhost:2.40").Replace("replicas: 2", "replicas: 3"));
        var conflict = Kubectl.Run("apply", "--server-side", "-n", ns, "-f", changed);
        Assert.NotEqual(0, conflict.ExitCode);
        Assert.Matches("""Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1 at [0-9TZ:-]+: \.spec\.replicas""", conflict.Error);
        Assert.Contains("--force-conflicts", conflict.Error);
        Assert.Equal("5", Kubectl.Ok("get", "-n", ns, "deployment", "web", "-o", "jsonpath={.spec.replicas}"));

        Assert.Equal("deployment.apps/web serverside-applied\n", Kubectl.Ok("apply", "--server-side", "--force-conflicts", "-n", ns, "-f", changed));
        Assert.Equal("3", Kubectl.Ok("get", "-n", ns, "deployment", "web", "-o", "jsonpath={.spec.replicas}"));

        var yaml = Kubectl.Ok("get", "-n", ns, "deployment", "web", "-o", "yaml", "--show-managed-fields");
        Assert.Contains("managedFields:", yaml);
        Assert.Contains("manager: kubectl\n    operation: Apply", yaml);
        Assert.Contains("fieldsType: FieldsV1", yaml);
        Assert.Contains("""k:{"containerPort":8080,"protocol":"TCP"}:""", yaml);
        Assert.DoesNotContain("subresource: scale", yaml);
        Assert.DoesNotContain("managedFields", Kubectl.Ok("get", "-n", ns, "deployment", "web", "-o", "yaml"));
    }

    [Fact]
    public void KubectlServerSide_FieldDroppedFromTheFile_IsRemoved_OthersLabelStays()
    {
        var ns = Namespace("ssa-");
        var withEnv = WebDeployment;
        Kubectl.Ok("apply", "--server-side", "-n", ns, "-f", File(withEnv));
        Kubectl.Ok("label", "-n", ns, "deployment", "web", "owner=ops");
        Kubectl.Ok("apply", "--server-side", "-n", ns, "-f", File(Web));
        var deployment = JsonNode.Parse(Kubectl.Ok("get", "-n", ns, "deployment", "web", "-o", "json"))!;
        Assert.Null(deployment["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]);
        Assert.Equal("ops", (string?)deployment["metadata"]!["labels"]!["owner"]);
    }

    [Fact]
    public void KubectlClientSideThenServerSide_MovesOwnershipToTheApplier()
    {
        var ns = Namespace("ssa-");
        Kubectl.Ok("apply", "-n", ns, "-f", File(Web));
        Assert.Contains("manager: kubectl-client-side-apply", Kubectl.Ok("get", "-n", ns, "deployment", "web", "-o", "yaml", "--show-managed-fields"));
        Assert.Equal("deployment.apps/web serverside-applied\n", Kubectl.Ok("apply", "--server-side", "-n", ns, "-f", File(Web.Replace("agnhost:2.39", "agnhost:2.40"))));
        var yaml = Kubectl.Ok("get", "-n", ns, "deployment", "web", "-o", "yaml", "--show-managed-fields");
        Assert.Contains("manager: kubectl\n    operation: Apply", yaml);
        Assert.Contains("image: agnhost:2.40", yaml);
    }

    [Fact]
    public async Task KubernetesClient_ApplyPatch_CreatesThenUpdates_AndRequiresAFieldManager()
    {
        var ns = Namespace("ssa-");
        var client = Server.Client;
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
        using var response = await Server.Http.SendAsync(request);
        var status = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(422, (int)response.StatusCode);
        Assert.Equal("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch", (string?)status["message"]);

        using var forced = new HttpRequestMessage(HttpMethod.Patch, $"api/v1/namespaces/{ns}/configmaps/cfg?force=true")
        {
            Content = new StringContent("""{"data":{"k":"3"}}""", Encoding.UTF8, "application/merge-patch+json"),
        };
        using var forcedResponse = await Server.Http.SendAsync(forced);
        Assert.Equal(422, (int)forcedResponse.StatusCode);
        Assert.Contains("force: Forbidden: may not be specified for non-apply patch", await forcedResponse.Content.ReadAsStringAsync());
        Assert.Equal("2", (await client.CoreV1.ReadNamespacedConfigMapAsync("cfg", ns)).Data["k"]);
    }
}
