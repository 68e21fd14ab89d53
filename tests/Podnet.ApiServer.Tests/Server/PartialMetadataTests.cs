using System.Text.Json.Nodes;
using Podnet.ApiServer.Tests.Protobuf;

namespace Podnet.ApiServer.Tests.Server;

/// <summary>
/// Metadata-only answers (`as=PartialObjectMetadata(List);g=meta.k8s.io;v=v1`), as client-go's
/// metadata client asks for them — the protobuf clause first, then the JSON one — for a get, a
/// list and a watch (kube-controller-manager's garbage collector and namespace controller).
/// </summary>
public sealed class PartialMetadataTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const string One = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";
    private const string Many = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

    private ProtobufClient Client => new(server.Http);

    private async Task<string> ConfigMapAsync(string ns, string name)
    {
        var created = await Client.SendAsync(HttpMethod.Post, $"/api/v1/namespaces/{ns}/configmaps", new JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "ConfigMap",
            ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { ["a"] = "b" } },
            ["data"] = new JsonObject { ["secret-ish"] = "not in the answer" },
        }, "application/json", "application/json");
        Assert.Equal(201, created.Code);
        return (string)created.Body["metadata"]!["resourceVersion"]!;
    }

    private async Task<string> NamespaceAsync()
    {
        var name = "pm-" + Guid.NewGuid().ToString("N")[..8];
        var created = await Client.SendAsync(HttpMethod.Post, "/api/v1/namespaces", new JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = name },
        }, "application/json", "application/json");
        Assert.Equal(201, created.Code);
        return name;
    }

    [Fact]
    public async Task GetAndList_AnswerTypeAndMetadataOnly_InJson()
    {
        var ns = await NamespaceAsync();
        await ConfigMapAsync(ns, "one");
        var got = await Client.SendAsync(HttpMethod.Get, $"/api/v1/namespaces/{ns}/configmaps/one", accept: One);
        Assert.Equal((200, "application/json", "PartialObjectMetadata", "meta.k8s.io/v1"), (got.Code, got.ContentType, (string?)got.Body["kind"], (string?)got.Body["apiVersion"]));
        Assert.Equal(["kind", "apiVersion", "metadata"], got.Body.Select(p => p.Key));
        Assert.Equal(("one", "b"), ((string?)got.Body["metadata"]!["name"], (string?)got.Body["metadata"]!["labels"]!["a"]));
        Assert.False(string.IsNullOrEmpty((string?)got.Body["metadata"]!["uid"]));

        var list = await Client.SendAsync(HttpMethod.Get, $"/api/v1/namespaces/{ns}/configmaps?labelSelector=a%3Db", accept: Many);
        Assert.Equal((200, "PartialObjectMetadataList", "meta.k8s.io/v1"), (list.Code, (string?)list.Body["kind"], (string?)list.Body["apiVersion"]));
        Assert.False(string.IsNullOrEmpty((string?)list.Body["metadata"]!["resourceVersion"]));
        var item = Assert.Single(list.Body["items"]!.AsArray())!.AsObject();
        Assert.Equal(("PartialObjectMetadata", "one"), ((string?)item["kind"], (string?)item["metadata"]!["name"]));
        Assert.Null(item["data"]);

        // The shape must fit the answer: a list asked for as one object falls to the next clause.
        var mismatched = await Client.SendAsync(HttpMethod.Get, $"/api/v1/namespaces/{ns}/configmaps", accept: One);
        Assert.Equal("ConfigMapList", (string?)mismatched.Body["kind"]);
        var only = await Client.SendAsync(HttpMethod.Get, $"/api/v1/namespaces/{ns}/configmaps", accept: "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1");
        Assert.Equal(406, only.Code);
        var otherGroup = await Client.SendAsync(HttpMethod.Get, $"/api/v1/namespaces/{ns}/configmaps/one", accept: "application/json;as=PartialObjectMetadata;g=example.com;v=v1");
        Assert.Equal(406, otherGroup.Code);
    }

    [Fact]
    public async Task Watch_EventsAndBookmarksCarryPartialObjectMetadata()
    {
        var ns = await NamespaceAsync();
        var rv = await ConfigMapAsync(ns, "before");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/namespaces/{ns}/configmaps?labelSelector=a%3Db&watch=true&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan");
        request.Headers.TryAddWithoutValidation("Accept", One);
        using var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(200, (int)response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        async Task<JsonObject> NextAsync() => JsonNode.Parse((await reader.ReadLineAsync(timeout.Token))!)!.AsObject();

        var added = await NextAsync();
        Assert.Equal(("ADDED", "PartialObjectMetadata", "before"), ((string?)added["type"], (string?)added["object"]!["kind"], (string?)added["object"]!["metadata"]!["name"]));
        var bookmark = await NextAsync();
        Assert.Equal(("BOOKMARK", "PartialObjectMetadata", "meta.k8s.io/v1"), ((string?)bookmark["type"], (string?)bookmark["object"]!["kind"], (string?)bookmark["object"]!["apiVersion"]));
        await ConfigMapAsync(ns, "after");
        var next = await NextAsync();
        Assert.Equal(("ADDED", "PartialObjectMetadata", "after"), ((string?)next["type"], (string?)next["object"]!["kind"], (string?)next["object"]!["metadata"]!["name"]));
        Assert.Null(next["object"]!["data"]);
        Assert.NotEqual(rv, (string?)next["object"]!["metadata"]!["resourceVersion"]);
    }
}
