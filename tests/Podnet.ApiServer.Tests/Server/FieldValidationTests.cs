using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Podnet.ApiServer.Tests.Server;

/// <summary>fieldValidation over HTTP, as kube-apiserver answers it: every unknown field named, none of them stored.</summary>
public sealed class FieldValidationTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const string Typos = """
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"web"}},
         "spec":{"replica":2,"selector":{"matchLabels":{"app":"web"}},
           "template":{"metadata":{"labels":{"app":"web"}},
             "spec":{"containers":[{"name":"web","image":"agnhost:2.39","imagePullPolicyy":"Always","ports":[{"containerPort":8080}]}]}}}}
        """;

    private async Task<string> NewNamespace()
    {
        var name = "fv-" + Guid.NewGuid().ToString("N")[..8];
        await server.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = name } });
        return name;
    }

    private async Task<HttpResponseMessage> Send(HttpMethod method, string path, string body, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path) { Content = new StringContent(body, Encoding.UTF8, contentType) };
        return await server.Http.SendAsync(request);
    }

    private async Task<JsonNode> Stored(string ns, string name = "web") =>
        JsonNode.Parse(await server.Http.GetStringAsync($"apis/apps/v1/namespaces/{ns}/deployments/{name}"))!;

    private static void AssertWithoutTheTypos(JsonNode stored)
    {
        Assert.Null(stored["spec"]!["replica"]);
        var container = stored["spec"]!["template"]!["spec"]!["containers"]![0]!;
        Assert.Null(container["imagePullPolicyy"]);
        Assert.Equal(("web", "agnhost:2.39", 8080), ((string?)container["name"], (string?)container["image"], (int)container["ports"]![0]!["containerPort"]!));
        Assert.Equal("web", (string?)stored["spec"]!["selector"]!["matchLabels"]!["app"]);
    }

    [Fact]
    public async Task Warn_StoresTheObjectWithoutTheUnknownFields_AndWarnsOncePerField()
    {
        var ns = await NewNamespace();
        using var created = await Send(HttpMethod.Post, $"apis/apps/v1/namespaces/{ns}/deployments", Typos);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(
            ["299 - \"unknown field \\\"spec.replica\\\"\"", "299 - \"unknown field \\\"spec.template.spec.containers[0].imagePullPolicyy\\\"\""],
            created.Headers.GetValues("Warning"));
        AssertWithoutTheTypos(JsonNode.Parse(await created.Content.ReadAsStringAsync())!);
        AssertWithoutTheTypos(await Stored(ns));

        using var patched = await Send(HttpMethod.Patch, $"apis/apps/v1/namespaces/{ns}/deployments/web", """{"metadata":{"labelz":{"a":"b"}},"spec":{"paused":true}}""", "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.Equal(["299 - \"unknown field \\\"metadata.labelz\\\"\""], patched.Headers.GetValues("Warning"));
        var stored = await Stored(ns);
        Assert.Null(stored["metadata"]!["labelz"]);
        Assert.True((bool)stored["spec"]!["paused"]!);
    }

    [Fact]
    public async Task Strict_NamesEveryUnknownField_InOneError_AndStoresNothing()
    {
        var ns = await NewNamespace();
        using var response = await Send(HttpMethod.Post, $"apis/apps/v1/namespaces/{ns}/deployments?fieldValidation=Strict", Typos);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var status = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("strict decoding error: unknown field \"spec.replica\", unknown field \"spec.template.spec.containers[0].imagePullPolicyy\"", (string?)status["message"]);
        Assert.Equal("BadRequest", (string?)status["reason"]);
        using var missing = await server.Http.GetAsync($"apis/apps/v1/namespaces/{ns}/deployments/web");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Ignore_StoresTheObjectWithoutTheUnknownFields_Silently()
    {
        var ns = await NewNamespace();
        using var created = await Send(HttpMethod.Post, $"apis/apps/v1/namespaces/{ns}/deployments?fieldValidation=Ignore", Typos);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.False(created.Headers.Contains("Warning"));
        AssertWithoutTheTypos(await Stored(ns));
    }

    [Fact]
    public async Task ScaleSubresource_IsCheckedAgainstScale()
    {
        var ns = await NewNamespace();
        using var created = await Send(HttpMethod.Post, $"apis/apps/v1/namespaces/{ns}/deployments?fieldValidation=Ignore", Typos);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var scale = $$$"""{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"web","namespace":"{{{ns}}}"},"spec":{"replicas":3,"replica":4}}""";
        using var strict = await Send(HttpMethod.Put, $"apis/apps/v1/namespaces/{ns}/deployments/web/scale?fieldValidation=Strict", scale);
        Assert.Equal(HttpStatusCode.BadRequest, strict.StatusCode);
        Assert.Contains("strict decoding error: unknown field \\\"spec.replica\\\"", await strict.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var warned = await Send(HttpMethod.Put, $"apis/apps/v1/namespaces/{ns}/deployments/web/scale", scale);
        Assert.Equal(HttpStatusCode.OK, warned.StatusCode);
        Assert.Equal(["299 - \"unknown field \\\"spec.replica\\\"\""], warned.Headers.GetValues("Warning"));
        Assert.Equal(3, (int)(await Stored(ns))["spec"]!["replicas"]!);
    }

    [Fact]
    public async Task JsonPatch_TheFieldsItLeavesAreChecked_StrictRefusesAndWarnDrops()
    {
        var ns = await NewNamespace();
        using var created = await Send(HttpMethod.Post, $"apis/apps/v1/namespaces/{ns}/deployments", Typos);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        const string patch = """[{"op":"add","path":"/spec/paused","value":true},{"op":"add","path":"/spec/template/spec/containers/0/imagePullPolicyy","value":"Never"}]""";

        using var strict = await Send(HttpMethod.Patch, $"apis/apps/v1/namespaces/{ns}/deployments/web?fieldValidation=Strict", patch, "application/json-patch+json");
        Assert.Equal(HttpStatusCode.BadRequest, strict.StatusCode);
        Assert.Equal("strict decoding error: unknown field \"spec.template.spec.containers[0].imagePullPolicyy\"", (string?)JsonNode.Parse(await strict.Content.ReadAsStringAsync())!["message"]);
        Assert.Null((await Stored(ns))["spec"]!["paused"]);

        using var warned = await Send(HttpMethod.Patch, $"apis/apps/v1/namespaces/{ns}/deployments/web", patch, "application/json-patch+json");
        Assert.Equal(HttpStatusCode.OK, warned.StatusCode);
        Assert.Equal(["299 - \"unknown field \\\"spec.template.spec.containers[0].imagePullPolicyy\\\"\""], warned.Headers.GetValues("Warning"));
        var stored = await Stored(ns);
        Assert.True((bool)stored["spec"]!["paused"]!);
        AssertWithoutTheTypos(stored);
    }
}
