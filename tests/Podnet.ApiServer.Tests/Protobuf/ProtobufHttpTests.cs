using System.Text.Json.Nodes;
using Podnet.ApiServer.Registry;
using Podnet.ApiServer.Tests.Server;
using ServerProtobuf = Podnet.ApiServer.Http.Protobuf;

namespace Podnet.ApiServer.Tests.Protobuf;

/// <summary>
/// Every served resource spoken to in protobuf, as client-go does by default: create, get, list,
/// a watch in the protobuf framing (with bookmarks allowed), a JSON merge patch answered in
/// protobuf, and a delete carrying protobuf DeleteOptions; plus the negotiation around it.
/// </summary>
public sealed class ProtobufHttpTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(30);

    private ProtobufClient Client => new(server.Http);

    public static TheoryData<string> Resources() => new(ResourceCatalog.Resources.Except(ResourceCatalog.JsonOnly).Select(r => r.Key));

    [Theory]
    [MemberData(nameof(Resources))]
    public async Task Resource_InProtobuf_CreateGetListWatchPatchDelete(string key)
    {
        var r = ResourceCatalog.Get(key);
        var ns = r.Namespaced ? await NamespaceAsync() : null;
        // An IPAddress is named by its address.
        var name = r.Kind == "IPAddress" ? $"10.99.{Random.Shared.Next(256)}.{Random.Shared.Next(1, 255)}" : "pb-" + Guid.NewGuid().ToString("N")[..8];
        var collection = Collection(r, ns);

        var created = await Client.SendAsync(HttpMethod.Post, collection, Sample(r, name, ns));
        Assert.True(created.Code == 201, $"create {key}: {created.Code} {created.Body.ToJsonString()}");
        Assert.Equal(ServerProtobuf.MediaType, created.ContentType);
        Assert.Equal((r.ApiVersion, r.Kind, name), ((string?)created.Body["apiVersion"], (string?)created.Body["kind"], (string?)created.Body["metadata"]!["name"]));
        Assert.False(string.IsNullOrEmpty((string?)created.Body["metadata"]!["uid"]));
        var rv = (string)created.Body["metadata"]!["resourceVersion"]!;

        var got = await Client.SendAsync(HttpMethod.Get, $"{collection}/{name}");
        Assert.Equal((200, ServerProtobuf.MediaType), (got.Code, got.ContentType));
        var json = await Client.SendAsync(HttpMethod.Get, $"{collection}/{name}", accept: "application/json");
        Assert.Equal("application/json", json.ContentType);
        Assert.Equal(Normalized(json.Body).ToJsonString(), Normalized(got.Body).ToJsonString());

        var list = await Client.SendAsync(HttpMethod.Get, collection);
        Assert.Equal((200, ServerProtobuf.MediaType, r.ListKind), (list.Code, list.ContentType, (string?)list.Body["kind"]));
        Assert.Contains(list.Body["items"]!.AsArray(), i => (string?)i!["metadata"]!["name"] == name);
        Assert.False(string.IsNullOrEmpty((string?)list.Body["metadata"]!["resourceVersion"]));

        await using var watch = await Client.WatchAsync($"{collection}?watch=true&allowWatchBookmarks=true&resourceVersion={rv}");
        Assert.Equal(ServerProtobuf.WatchMediaType, watch.ContentType);
        var patch = new JsonObject { ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["patched"] = "yes" } } };
        var patched = await Client.SendAsync(HttpMethod.Patch, $"{collection}/{name}", patch, "application/merge-patch+json");
        Assert.True(patched.Code == 200, $"patch {key}: {patched.Code} {patched.Body.ToJsonString()}");
        Assert.Equal(ServerProtobuf.MediaType, patched.ContentType);
        Assert.Equal("yes", (string?)patched.Body["metadata"]!["labels"]!["patched"]);
        var modified = await watch.WaitForAsync("MODIFIED", o => (string?)o["metadata"]!["name"] == name, Within);
        Assert.Equal((r.ApiVersion, r.Kind, "yes"), ((string?)modified["apiVersion"], (string?)modified["kind"], (string?)modified["metadata"]!["labels"]!["patched"]));

        var options = new JsonObject { ["apiVersion"] = r.ApiVersion, ["kind"] = "DeleteOptions", ["gracePeriodSeconds"] = 0, ["propagationPolicy"] = "Background" };
        var deleted = await Client.SendAsync(HttpMethod.Delete, $"{collection}/{name}", options);
        Assert.True(deleted.Code == 200, $"delete {key}: {deleted.Code} {deleted.Body.ToJsonString()}");
        Assert.Equal(ServerProtobuf.MediaType, deleted.ContentType);
        await watch.WaitForAsync("DELETED", o => (string?)o["metadata"]!["name"] == name, Within);
        var gone = await Client.SendAsync(HttpMethod.Get, $"{collection}/{name}");
        Assert.Equal((404, ServerProtobuf.MediaType, "Status", "NotFound"), (gone.Code, gone.ContentType, (string?)gone.Body["kind"], (string?)gone.Body["reason"]));
        Assert.Equal(404, (int)gone.Body["code"]!);
    }

    [Fact]
    public async Task Watch_InProtobuf_SendsBookmarksWhenAllowed()
    {
        var ns = await NamespaceAsync();
        await using var watch = await Client.WatchAsync($"/api/v1/namespaces/{ns}/configmaps?watch=true&allowWatchBookmarks=true");
        var bookmark = await watch.WaitForAsync("BOOKMARK", _ => true, Within);
        Assert.Equal(("v1", "ConfigMap"), ((string?)bookmark["apiVersion"], (string?)bookmark["kind"]));
        Assert.False(string.IsNullOrEmpty((string?)bookmark["metadata"]!["resourceVersion"]));
    }

    [Fact]
    public async Task Watch_FromAnExpiredVersion_IsOneErrorEventWithA410Status()
    {
        var ns = await NamespaceAsync();
        await using var watch = await Client.WatchAsync($"/api/v1/namespaces/{ns}/configmaps?watch=true&resourceVersion=1");
        var (type, status) = await watch.NextAsync(Within);
        // The fixture's window is large: version 1 may still be in it, then events follow instead.
        if (type == "ERROR")
        {
            Assert.Equal(("Status", 410, "Expired"), ((string?)status["kind"], (int)status["code"]!, (string?)status["reason"]));
        }
        else
        {
            Assert.Equal("ADDED", type);
        }
    }

    [Theory]
    [InlineData("application/vnd.kubernetes.protobuf", true)]
    [InlineData("application/json;q=0.5, application/vnd.kubernetes.protobuf", true)]
    [InlineData("application/vnd.kubernetes.protobuf;q=0.1, application/json", false)]
    [InlineData("application/cbor, application/vnd.kubernetes.protobuf", true)]
    [InlineData("*/*", false)]
    [InlineData("", false)]
    public async Task AcceptList_PicksTheFirstWritableType_ByQuality(string accept, bool protobuf)
    {
        var ns = await NamespaceAsync();
        var answer = await Client.SendAsync(HttpMethod.Get, $"/api/v1/namespaces/{ns}", accept: accept);
        Assert.Equal((200, protobuf ? ServerProtobuf.MediaType : "application/json"), (answer.Code, answer.ContentType));
        Assert.Equal(ns, (string?)answer.Body["metadata"]!["name"]);
    }

    [Fact]
    public async Task ProtobufTable_FallsBackToTheJsonTable_AsUpstreamServesTablesInJsonOnly()
    {
        var ns = await NamespaceAsync();
        var answer = await Client.SendAsync(HttpMethod.Get, $"/api/v1/namespaces/{ns}/configmaps",
            accept: "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io, application/json;as=Table;v=v1;g=meta.k8s.io, application/json");
        Assert.Equal((200, "application/json", "Table"), (answer.Code, answer.ContentType, (string?)answer.Body["kind"]));
        var only = await Client.SendAsync(HttpMethod.Get, $"/api/v1/namespaces/{ns}/configmaps", accept: "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io");
        Assert.Equal((406, "NotAcceptable"), (only.Code, (string?)only.Body["reason"]));
    }

    [Fact]
    public async Task NothingAcceptable_Is406_InJson()
    {
        var ns = await NamespaceAsync();
        var answer = await Client.SendAsync(HttpMethod.Get, $"/api/v1/namespaces/{ns}", accept: "text/html");
        Assert.Equal((406, "application/json", "NotAcceptable"), (answer.Code, answer.ContentType, (string?)answer.Body["reason"]));
        Assert.Equal(Http.Negotiation.NotAcceptableMessage, (string?)answer.Body["message"]);
    }

    [Fact]
    public async Task Discovery_StaysJson_WhateverTheAccept()
    {
        foreach (var path in new[] { "/api", "/apis", "/api/v1", "/apis/apps/v1" })
        {
            var answer = await Client.SendAsync(HttpMethod.Get, path, accept: "application/vnd.kubernetes.protobuf, application/json");
            Assert.Equal((200, "application/json"), (answer.Code, answer.ContentType));
        }
    }

    [Fact]
    public async Task ScaleAndEviction_InProtobuf()
    {
        var ns = await NamespaceAsync();
        var deployments = Collection(ResourceCatalog.Deployments, ns);
        Assert.Equal(201, (await Client.SendAsync(HttpMethod.Post, deployments, Sample(ResourceCatalog.Deployments, "d", ns))).Code);
        var scale = await Client.SendAsync(HttpMethod.Get, $"{deployments}/d/scale");
        Assert.Equal((200, ServerProtobuf.MediaType, "Scale"), (scale.Code, scale.ContentType, (string?)scale.Body["kind"]));
        scale.Body["spec"] = new JsonObject { ["replicas"] = 3 };
        var scaled = await Client.SendAsync(HttpMethod.Put, $"{deployments}/d/scale", scale.Body);
        Assert.Equal((200, 3), (scaled.Code, (int)scaled.Body["spec"]!["replicas"]!));

        var pods = Collection(ResourceCatalog.Pods, ns);
        Assert.Equal(201, (await Client.SendAsync(HttpMethod.Post, pods, Sample(ResourceCatalog.Pods, "p", ns))).Code);
        var eviction = new JsonObject
        {
            ["apiVersion"] = "policy/v1", ["kind"] = "Eviction",
            ["metadata"] = new JsonObject { ["name"] = "p", ["namespace"] = ns },
            ["deleteOptions"] = new JsonObject { ["gracePeriodSeconds"] = 0 },
        };
        var evicted = await Client.SendAsync(HttpMethod.Post, $"{pods}/p/eviction", eviction);
        Assert.Equal((201, ServerProtobuf.MediaType, "Success"), (evicted.Code, evicted.ContentType, (string?)evicted.Body["status"]));
    }

    private async Task<string> NamespaceAsync()
    {
        var name = "pb-" + Guid.NewGuid().ToString("N")[..8];
        var created = await Client.SendAsync(HttpMethod.Post, "/api/v1/namespaces", new JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = name },
        });
        Assert.Equal(201, created.Code);
        return name;
    }

    private static string Collection(ResourceInfo r, string? ns) =>
        (r.Group.Length == 0 ? "/api/v1" : $"/apis/{r.Group}/{r.Version}") + (ns is null ? "" : $"/namespaces/{ns}") + "/" + r.Plural;

    /// <summary>The JSON without what protobuf cannot say apart from absent: nulls and empty objects and lists.</summary>
    private static JsonNode Normalized(JsonNode node) => node switch
    {
        JsonObject o => new JsonObject(o.Where(p => Kept(p.Value)).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, (JsonNode?)Normalized(p.Value!)))),
        JsonArray a => new JsonArray(a.Select(i => (JsonNode?)Normalized(i!)).ToArray()),
        _ => node.DeepClone(),
    };

    private static bool Kept(JsonNode? value) => value switch
    {
        null => false,
        JsonObject o => o.Any(p => Kept(p.Value)),
        JsonArray a => a.Count > 0,
        _ => true,
    };

    /// <summary>A valid object of each served kind, with something in each part protobuf carries.</summary>
    private static JsonObject Sample(ResourceInfo r, string name, string? ns)
    {
        var meta = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { ["app"] = name } };
        if (ns is not null)
        {
            meta["namespace"] = ns;
        }
        var template = JsonNode.Parse($$$$"""{"metadata":{"labels":{"app":"{{{{name}}}}"}},"spec":{"containers":[{"name":"c","image":"agnhost:2.39","ports":[{"containerPort":8080}],"resources":{"requests":{"cpu":"100m","memory":"64Mi"}}}]}}""")!;
        var selector = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name } };
        var body = r.Kind switch
        {
            "Pod" => new JsonObject { ["spec"] = template["spec"]!.DeepClone() },
            "Service" => JsonNode.Parse($$$"""{"spec":{"selector":{"app":"{{{name}}}"},"ports":[{"name":"http","port":80,"targetPort":8080},{"name":"named","port":81,"targetPort":"web"}]}}""")!.AsObject(),
            "Endpoints" => JsonNode.Parse("""{"subsets":[{"addresses":[{"ip":"10.1.2.3"}],"ports":[{"name":"http","port":80}]}]}""")!.AsObject(),
            "ConfigMap" => JsonNode.Parse("""{"data":{"a":"b"},"binaryData":{"bin":"AAEC/w=="}}""")!.AsObject(),
            "Secret" => JsonNode.Parse("""{"type":"Opaque","data":{"pw":"aHVudGVyMg=="}}""")!.AsObject(),
            "ServiceAccount" => JsonNode.Parse("""{"automountServiceAccountToken":false}""")!.AsObject(),
            "Event" => JsonNode.Parse($$"""{"involvedObject":{"kind":"Pod","namespace":"{{ns}}","name":"p"},"reason":"Tested","message":"m","type":"Normal","count":1,"firstTimestamp":"2024-01-02T03:04:05Z","eventTime":"2024-01-02T03:04:05.123456Z","reportingComponent":"test","reportingInstance":"t1","action":"Testing"}""")!.AsObject(),
            "EndpointSlice" => JsonNode.Parse("""{"addressType":"IPv4","endpoints":[{"addresses":["10.1.2.3"],"conditions":{"ready":true}}],"ports":[{"name":"http","port":80,"protocol":"TCP"}]}""")!.AsObject(),
            "NetworkPolicy" => JsonNode.Parse("""{"spec":{"podSelector":{},"ingress":[{"ports":[{"port":80},{"port":"http"}]}],"policyTypes":["Ingress"]}}""")!.AsObject(),
            "Deployment" or "ReplicaSet" => new JsonObject { ["spec"] = new JsonObject { ["replicas"] = 0, ["selector"] = selector, ["template"] = template.DeepClone() } },
            "StatefulSet" => new JsonObject { ["spec"] = new JsonObject { ["replicas"] = 0, ["serviceName"] = name, ["selector"] = selector, ["template"] = template.DeepClone() } },
            "DaemonSet" => new JsonObject { ["spec"] = new JsonObject { ["selector"] = selector, ["template"] = template.DeepClone() } },
            "ControllerRevision" => JsonNode.Parse("""{"revision":1,"data":{"spec":{"template":{"metadata":{"labels":{"a":"b"}}}}}}""")!.AsObject(),
            "PodDisruptionBudget" => new JsonObject { ["spec"] = new JsonObject { ["minAvailable"] = 1, ["selector"] = selector } },
            "Lease" => JsonNode.Parse("""{"spec":{"holderIdentity":"h","leaseDurationSeconds":10,"renewTime":"2024-01-02T03:04:05.123456Z"}}""")!.AsObject(),
            "Role" or "ClusterRole" => JsonNode.Parse("""{"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["get","list"]}]}""")!.AsObject(),
            "RoleBinding" or "ClusterRoleBinding" => JsonNode.Parse("""{"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"},"subjects":[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"alice"}]}""")!.AsObject(),
            "Ingress" => JsonNode.Parse("""{"spec":{"defaultBackend":{"service":{"name":"web","port":{"number":80}}},"rules":[{"host":"a.example.com","http":{"paths":[{"path":"/","pathType":"Prefix","backend":{"service":{"name":"web","port":{"name":"http"}}}}]}}]}}""")!.AsObject(),
            "IngressClass" => JsonNode.Parse("""{"spec":{"controller":"example.com/ingress"}}""")!.AsObject(),
            "ServiceCIDR" => JsonNode.Parse("""{"spec":{"cidrs":["10.97.0.0/24"]}}""")!.AsObject(),
            "IPAddress" => JsonNode.Parse("""{"spec":{"parentRef":{"group":"","resource":"services","namespace":"default","name":"owner"}}}""")!.AsObject(),
            "Node" => JsonNode.Parse("""{"spec":{"podCIDR":"10.244.9.0/24","taints":[{"key":"k","effect":"NoSchedule"}]}}""")!.AsObject(),
            _ => new JsonObject(),
        };
        var obj = new JsonObject { ["apiVersion"] = r.ApiVersion, ["kind"] = r.Kind, ["metadata"] = meta };
        foreach (var (k, v) in body.ToList())
        {
            body.Remove(k);
            obj[k] = v;
        }
        return obj;
    }
}
