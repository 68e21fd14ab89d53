using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Tests.Server;
using ServerProtobuf = Podnet.ApiServer.Http.Protobuf;

namespace Podnet.ApiServer.Tests.CustomResources;

/// <summary>Custom resources over HTTPS: discovery (legacy and aggregated), negotiation, conversion webhooks, /openapi/v3.</summary>
public sealed class CustomResourceHttpTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static string Definition(string group, string plural, string kind, string scope = "Namespaced", string conversion = "") =>
        Widgets.Yaml.Replace("widgets.example.com", $"{plural}.{group}").Replace("group: example.com", $"group: {group}")
            .Replace("plural: widgets", $"plural: {plural}").Replace("singular: widget", $"singular: {kind.ToLowerInvariant()}")
            .Replace("kind: Widget", $"kind: {kind}").Replace("shortNames: [wd]", "shortNames: []")
            .Replace("scope: Namespaced", $"scope: {scope}").Replace("  versions:\n", conversion + "  versions:\n");

    private async Task<JsonObject> SendAsync(HttpMethod method, string path, string? body = null, string? accept = null, string contentType = "application/yaml", HttpStatusCode expect = HttpStatusCode.OK)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }
        using var response = await server.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expect, $"{method} {path}: {(int)response.StatusCode} {text}");
        return text.Length > 0 && text[0] == '{' ? JsonNode.Parse(text)!.AsObject() : new JsonObject { ["raw"] = text };
    }

    [Fact]
    public async Task EstablishedDefinition_AppearsInDiscovery_AndLeavesWithIt()
    {
        await SendAsync(HttpMethod.Post, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", Definition("disco.example.org", "things", "Thing", "Cluster"), expect: HttpStatusCode.Created);
        var groups = await SendAsync(HttpMethod.Get, "/apis");
        var group = groups["groups"]!.AsArray().Single(g => (string?)g!["name"] == "disco.example.org")!;
        Assert.Equal(["v1", "v1beta1"], group["versions"]!.AsArray().Select(v => (string?)v!["version"]));
        Assert.Equal("disco.example.org/v1", (string?)group["preferredVersion"]!["groupVersion"]);
        Assert.Equal("disco.example.org", (string?)(await SendAsync(HttpMethod.Get, "/apis/disco.example.org"))["name"]);
        var resources = (await SendAsync(HttpMethod.Get, "/apis/disco.example.org/v1"))["resources"]!.AsArray();
        Assert.Equal(["things", "things/status", "things/scale"], resources.Select(r => (string?)r!["name"]));
        Assert.Equal((false, "Thing", "thing"), ((bool?)resources[0]!["namespaced"], (string?)resources[0]!["kind"], (string?)resources[0]!["singularName"]));
        var aggregated = await SendAsync(HttpMethod.Get, "/apis", accept: AggregatedDiscovery.ContentType);
        var item = aggregated["items"]!.AsArray().Single(i => (string?)i!["metadata"]!["name"] == "disco.example.org")!;
        Assert.Equal(["v1", "v1beta1"], item["versions"]!.AsArray().Select(v => (string?)v!["version"]));
        Assert.Equal("Cluster", (string?)item["versions"]![0]!["resources"]![0]!["scope"]);
        Assert.Contains("crds", (await SendAsync(HttpMethod.Get, "/apis/apiextensions.k8s.io/v1"))["resources"]![0]!["shortNames"]!.AsArray().Select(n => (string?)n));

        await SendAsync(HttpMethod.Post, "/apis/disco.example.org/v1/things", "apiVersion: disco.example.org/v1\nkind: Thing\nmetadata: {name: t1}\nspec: {size: 1}\n", expect: HttpStatusCode.Created);
        await SendAsync(HttpMethod.Delete, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/things.disco.example.org");
        Assert.DoesNotContain((await SendAsync(HttpMethod.Get, "/apis"))["groups"]!.AsArray(), g => (string?)g!["name"] == "disco.example.org");
        await SendAsync(HttpMethod.Get, "/apis/disco.example.org/v1/things", expect: HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task CustomObjects_AreJsonOnly_LikeUpstream()
    {
        await SendAsync(HttpMethod.Post, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", Definition("json.example.org", "blobs", "Blob"), expect: HttpStatusCode.Created);
        await SendAsync(HttpMethod.Post, "/apis/json.example.org/v1/namespaces/default/blobs", "apiVersion: json.example.org/v1\nkind: Blob\nmetadata: {name: b}\nspec: {size: 1}\n", expect: HttpStatusCode.Created);
        // The 406's Status itself goes out in protobuf (the client takes that), as upstream.
        await SendAsync(HttpMethod.Get, "/apis/json.example.org/v1/namespaces/default/blobs/b", accept: ServerProtobuf.MediaType, expect: HttpStatusCode.NotAcceptable);
        var json = await SendAsync(HttpMethod.Get, "/apis/json.example.org/v1/namespaces/default/blobs/b", accept: $"{ServerProtobuf.MediaType}, application/json");
        Assert.Equal("red", (string?)json["spec"]!["color"]);
        await SendAsync(HttpMethod.Get, "/apis/json.example.org/v1/namespaces/default/blobs?watch=true", accept: ServerProtobuf.MediaType, expect: HttpStatusCode.NotAcceptable);
        await SendAsync(HttpMethod.Get, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/blobs.json.example.org", accept: ServerProtobuf.MediaType, expect: HttpStatusCode.NotAcceptable);
        await SendAsync(HttpMethod.Delete, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/blobs.json.example.org");
    }

    [Fact]
    public async Task StatusSentOnCreate_IsDropped_WhenTheStatusSubresourceOwnsIt()
    {
        await SendAsync(HttpMethod.Post, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", Definition("fresh.example.org", "gadgets", "Gadget"), expect: HttpStatusCode.Created);
        const string Path = "/apis/fresh.example.org/v1/namespaces/default/gadgets";
        var created = await SendAsync(HttpMethod.Post, Path, "apiVersion: fresh.example.org/v1\nkind: Gadget\nmetadata: {name: g}\nspec: {size: 1}\nstatus: {phase: Made, replicas: 3}\n", expect: HttpStatusCode.Created);
        Assert.Null(created["status"]);
        Assert.Null((await SendAsync(HttpMethod.Get, Path + "/g"))["status"]);
        created["status"] = new JsonObject { ["phase"] = "Made" };
        var written = await SendAsync(HttpMethod.Put, Path + "/g/status", created.ToJsonString(), contentType: "application/json");
        Assert.Equal("Made", (string?)written["status"]!["phase"]);
        await SendAsync(HttpMethod.Delete, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.fresh.example.org");
    }

    [Fact]
    public async Task WebhookConversion_ServesTheStorageVersionOnly_AndSaysWhy()
    {
        const string Webhook = "  conversion:\n    strategy: Webhook\n    webhook:\n      conversionReviewVersions: [v1]\n      clientConfig: {url: 'https://example.org/convert'}\n";
        await SendAsync(HttpMethod.Post, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", Definition("hook.example.org", "hooks", "Hook", conversion: Webhook), expect: HttpStatusCode.Created);
        await SendAsync(HttpMethod.Post, "/apis/hook.example.org/v1/namespaces/default/hooks", "apiVersion: hook.example.org/v1\nkind: Hook\nmetadata: {name: h}\nspec: {size: 1}\n", expect: HttpStatusCode.Created);
        var refused = await SendAsync(HttpMethod.Get, "/apis/hook.example.org/v1beta1/namespaces/default/hooks/h", expect: HttpStatusCode.BadRequest);
        Assert.StartsWith("conversion webhook for hook.example.org/v1, Kind=Hook is not supported by Podnet", (string?)refused["message"]);
        await SendAsync(HttpMethod.Delete, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/hooks.hook.example.org");
    }

    [Fact]
    public async Task OpenApiV3_HasTheCustomGroupVersion_WithTheCrdsSchema()
    {
        await SendAsync(HttpMethod.Post, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", Definition("docs.example.org", "pages", "Page"), expect: HttpStatusCode.Created);
        var index = await SendAsync(HttpMethod.Get, "/openapi/v3");
        var url = (string)index["paths"]!["apis/docs.example.org/v1"]!["serverRelativeURL"]!;
        var document = await SendAsync(HttpMethod.Get, url);
        var schema = document["components"]!["schemas"]!["org.example.docs.v1.Page"]!;
        Assert.Equal("integer", (string?)schema["properties"]!["spec"]!["properties"]!["size"]!["type"]);
        Assert.Equal("#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", (string?)schema["properties"]!["metadata"]!["$ref"]);
        Assert.NotNull(document["components"]!["schemas"]!["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]);
        Assert.Equal("Page", (string?)schema["x-kubernetes-group-version-kind"]![0]!["kind"]);
        Assert.NotNull(index["paths"]!["apis/apiextensions.k8s.io/v1"]);
        await SendAsync(HttpMethod.Delete, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/pages.docs.example.org");
    }
}
