using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Tests.Unit;

public sealed class ValidationTests : IDisposable
{
    private readonly TempService _api = new();

    public void Dispose() => _api.Dispose();

    [Fact]
    public async Task Name_NotDns1123_IsInvalid()
    {
        var causes = await _api.Invalid(ResourceCatalog.ConfigMaps, """{"metadata":{"name":"Bad_Name"}}""");
        Assert.Contains(causes, c => c.StartsWith("metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Labels_BadKeyAndValue_AreInvalid()
    {
        var causes = await _api.Invalid(ResourceCatalog.ConfigMaps, """{"metadata":{"name":"c","labels":{"-x":"ok","y":"bad value"}}}""");
        Assert.Equal(2, causes.Count);
        Assert.All(causes, c => Assert.StartsWith("metadata.labels: Invalid value:", c));
    }

    [Fact]
    public async Task Pod_ContainerPortOutOfRange_NamesTheField()
    {
        var causes = await _api.Invalid(ResourceCatalog.Pods, """{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i","ports":[{"containerPort":0}]},{"name":"c","image":""}]}}""");
        Assert.Contains("spec.containers[0].ports[0].containerPort: Invalid value: 0: must be between 1 and 65535, inclusive", causes);
        Assert.Contains("spec.containers[1].name: Duplicate value: \"c\"", causes);
        Assert.Contains("spec.containers[1].image: Required value", causes);
    }

    [Fact]
    public async Task Service_BadPortsTypeAndExternalName()
    {
        var causes = await _api.Invalid(ResourceCatalog.Services, """{"metadata":{"name":"s"},"spec":{"ports":[{"port":80},{"port":70000,"name":"b"}],"selector":{"app":"bad value"}}}""");
        Assert.Contains("spec.ports[0].name: Required value", causes);
        Assert.Contains("spec.ports[1].port: Invalid value: 70000: must be between 1 and 65535, inclusive", causes);
        Assert.Contains(causes, c => c.StartsWith("spec.selector: Invalid value: \"bad value\"", StringComparison.Ordinal));
        Assert.Contains("spec.type: Unsupported value: \"Magic\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"",
            await _api.Invalid(ResourceCatalog.Services, """{"metadata":{"name":"s"},"spec":{"type":"Magic","ports":[{"port":80}]}}"""));
        Assert.Contains("spec.externalName: Required value", await _api.Invalid(ResourceCatalog.Services, """{"metadata":{"name":"s"},"spec":{"type":"ExternalName"}}"""));
    }

    [Fact]
    public async Task NetworkPolicy_PeersAndPorts()
    {
        var causes = await _api.Invalid(ResourceCatalog.NetworkPolicies, """
            {"metadata":{"name":"np"},"spec":{"podSelector":{},"ingress":[{"from":[
              {"ipBlock":{"cidr":"10.0.0.0/8","except":["192.168.0.0/16"]},"podSelector":{}},
              {"ipBlock":{"cidr":"10.0.0.0/33"}}],
              "ports":[{"endPort":90}]}]}}
            """);
        Assert.Contains("spec.ingress[0].from[0]: Forbidden: may not specify more than 1 peer type", causes);
        Assert.Contains("spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: \"192.168.0.0/16\": must be a strict subset of `cidr`", causes);
        Assert.Contains(causes, c => c.StartsWith("spec.ingress[0].from[1].ipBlock.cidr: Invalid value: \"10.0.0.0/33\"", StringComparison.Ordinal));
        Assert.Contains("spec.ingress[0].ports[0].port: Required value: must specify port when endPort is specified", causes);
    }

    [Fact]
    public async Task Deployment_SelectorMustMatchTemplate_AndIsImmutable()
    {
        var causes = await _api.Invalid(ResourceCatalog.Deployments, """{"metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"app":"a"}},"template":{"metadata":{"labels":{"app":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}""");
        Assert.Contains(causes, c => c.StartsWith("spec.template.metadata.labels: Invalid value:", StringComparison.Ordinal) && c.EndsWith("`selector` does not match template `labels`", StringComparison.Ordinal));
        await _api.Create(ResourceCatalog.Deployments, """{"metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"app":"a"}},"template":{"metadata":{"labels":{"app":"a","v":"1"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}""");
        var error = await Assert.ThrowsAsync<Http.ApiException>(() => _api.Service.PatchAsync(ResourceCatalog.Deployments, "default", "d", null, PatchType.Merge,
            TempService.Json("""{"spec":{"selector":{"matchLabels":{"app":"a","v":"1"}}}}"""), false));
        Assert.Equal(422, error.Code);
        Assert.Contains("spec.selector", error.Message);
    }

    [Fact]
    public async Task Pod_SpecUpdate_OtherThanImage_IsForbidden()
    {
        await _api.Create(ResourceCatalog.Pods, """{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i"}]}}""");
        await _api.Service.PatchAsync(ResourceCatalog.Pods, "default", "p", null, PatchType.Strategic, TempService.Json("""{"spec":{"containers":[{"name":"c","image":"j"}]}}"""), false);
        var error = await Assert.ThrowsAsync<Http.ApiException>(() => _api.Service.PatchAsync(ResourceCatalog.Pods, "default", "p", null, PatchType.Merge, TempService.Json("""{"spec":{"restartPolicy":"Never"}}"""), false));
        Assert.Equal(422, error.Code);
        Assert.Contains("spec: Forbidden: pod updates may not change fields", error.Message);
    }

    [Fact]
    public async Task Defaults_PodServiceNamespace()
    {
        var pod = await _api.Create(ResourceCatalog.Pods, """{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"nginx","ports":[{"containerPort":80}]}]}}""");
        Assert.Equal("Always", (string?)pod["spec"]!["restartPolicy"]);
        Assert.Equal("Always", (string?)pod["spec"]!["containers"]![0]!["imagePullPolicy"]);
        Assert.Equal("TCP", (string?)pod["spec"]!["containers"]![0]!["ports"]![0]!["protocol"]);
        Assert.Equal("Pending", (string?)pod["status"]!["phase"]);
        var svc = await _api.Create(ResourceCatalog.Services, """{"metadata":{"name":"s"},"spec":{"ports":[{"port":80}]}}""");
        Assert.Equal("ClusterIP", (string?)svc["spec"]!["type"]);
        Assert.Equal(80, (int)svc["spec"]!["ports"]![0]!["targetPort"]!);
        var ns = await _api.Create(ResourceCatalog.Namespaces, """{"metadata":{"name":"team-a"}}""");
        Assert.Equal("team-a", (string?)ns["metadata"]!["labels"]!["kubernetes.io/metadata.name"]);
        Assert.Equal("Active", (string?)ns["status"]!["phase"]);
    }

    [Fact]
    public async Task Secret_StringDataMergedIntoData_AndImmutableDataRefused()
    {
        var secret = await _api.Create(ResourceCatalog.Secrets, """{"metadata":{"name":"s"},"data":{"a":"eA=="},"stringData":{"b":"hello"},"immutable":true}""");
        Assert.Equal("aGVsbG8=", (string?)secret["data"]!["b"]);
        Assert.Equal("eA==", (string?)secret["data"]!["a"]);
        Assert.Null(secret["stringData"]);
        Assert.Equal("Opaque", (string?)secret["type"]);
        var error = await Assert.ThrowsAsync<Http.ApiException>(() => _api.Service.PatchAsync(ResourceCatalog.Secrets, "default", "s", null, PatchType.Merge, TempService.Json("""{"data":{"a":"eQ=="}}"""), false));
        Assert.Equal(422, error.Code);
        Assert.Contains("data: Forbidden: field is immutable when `immutable` is set", error.Message);
        await _api.Service.PatchAsync(ResourceCatalog.Secrets, "default", "s", null, PatchType.Merge, TempService.Json("""{"metadata":{"labels":{"ok":"yes"}}}"""), false);
    }
}
