using System.Text.Json.Nodes;
using Podnet.ApiServer.Registry;
using Podnet.ApiServer.Tables;

namespace Podnet.ApiServer.Tests.Unit;

/// <summary>networking.k8s.io/v1 Ingress and IngressClass: upstream's validation causes, the default class, the columns.</summary>
public sealed class IngressApiTests : IDisposable
{
    private readonly TempService _api = new();

    public void Dispose() => _api.Dispose();

    private static string Ingress(string spec, string name = "web", string annotations = "{}") =>
        $$"""{"metadata":{"name":"{{name}}","annotations":{{annotations}}},"spec":{{spec}}}""";

    private const string Rule = """{"host":"web.example.com","http":{"paths":[{"path":"/","pathType":"Prefix","backend":{"service":{"name":"web","port":{"number":80}}}}]}}""";

    [Theory]
    [InlineData("{}", "spec: Invalid value: null: either `defaultBackend` or `rules` must be specified")]
    [InlineData("""{"rules":[{"host":"10.0.0.1","http":{"paths":[{"path":"/","pathType":"Prefix","backend":{"service":{"name":"web","port":{"number":80}}}}]}}]}""",
        "spec.rules[0].host: Invalid value: \"10.0.0.1\": must be a DNS name, not an IP address")]
    [InlineData("""{"rules":[{"host":"a.*.com","http":{"paths":[{"path":"/","pathType":"Prefix","backend":{"service":{"name":"web","port":{"number":80}}}}]}}]}""",
        "spec.rules[0].host: Invalid value: \"a.*.com\": a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")]
    [InlineData("""{"rules":[{"http":{"paths":[]}}]}""", "spec.rules[0].http.paths: Required value")]
    [InlineData("""{"rules":[{"http":{"paths":[{"path":"/","backend":{"service":{"name":"web","port":{"number":80}}}}]}}]}""",
        "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified")]
    [InlineData("""{"rules":[{"http":{"paths":[{"path":"a//b","pathType":"Exact","backend":{"service":{"name":"web","port":{"number":80}}}}]}}]}""",
        "spec.rules[0].http.paths[0].path: Invalid value: \"a//b\": must be an absolute path")]
    [InlineData("""{"rules":[{"http":{"paths":[{"path":"/a//b","pathType":"Exact","backend":{"service":{"name":"web","port":{"number":80}}}}]}}]}""",
        "spec.rules[0].http.paths[0].path: Invalid value: \"/a//b\": must not contain '//'")]
    [InlineData("""{"rules":[{"http":{"paths":[{"path":"/","pathType":"Regex","backend":{"service":{"name":"web","port":{"number":80}}}}]}}]}""",
        "spec.rules[0].http.paths[0].pathType: Unsupported value: \"Regex\": supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\"")]
    [InlineData("""{"defaultBackend":{"service":{"name":"web","port":{"name":"http","number":80}}}}""",
        "spec.defaultBackend: Invalid value: \"\": cannot set both port name & port number")]
    [InlineData("""{"defaultBackend":{"service":{"name":"web"}}}""", "spec.defaultBackend: Required value: port name or number is required")]
    [InlineData("""{"defaultBackend":{}}""", "spec.defaultBackend: Invalid value: \"\": resource or service backend is required")]
    [InlineData("""{"defaultBackend":{"service":{"name":"Web","port":{"number":80}}}}""",
        "spec.defaultBackend.service.name: Invalid value: \"Web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")]
    [InlineData("""{"defaultBackend":{"service":{"name":"web","port":{"number":70000}}}}""",
        "spec.defaultBackend.service.port.number: Invalid value: 70000: must be between 1 and 65535, inclusive")]
    [InlineData("""{"defaultBackend":{"resource":{"kind":"Bucket"}}}""", "spec.defaultBackend.resource.name: Required value: name is required")]
    public async Task Invalid_NamedAsUpstream(string spec, string expected)
    {
        var causes = await _api.Invalid(ResourceCatalog.Ingresses, Ingress(spec));
        Assert.Contains(expected, causes);
    }

    [Fact]
    public async Task LegacyAnnotationAndClassName_MustMatch()
    {
        var causes = await _api.Invalid(ResourceCatalog.Ingresses, Ingress("""{"ingressClassName":"a","rules":[""" + Rule + "]}", annotations: """{"kubernetes.io/ingress.class":"b"}"""));
        Assert.Contains("annotations.kubernetes.io/ingress.class: Invalid value: \"b\": must match `ingressClassName` when both are specified", causes);
    }

    [Fact]
    public async Task DefaultClass_SetOnNewIngressesWithoutOne_TheNewestWhenSeveral()
    {
        var plain = await _api.Create(ResourceCatalog.Ingresses, Ingress("{\"rules\":[" + Rule + "]}", "before"));
        Assert.Null(plain["spec"]!["ingressClassName"]);
        Assert.Equal("""{"loadBalancer":{}}""", plain["status"]!.ToJsonString());

        await _api.Create(ResourceCatalog.IngressClasses, """{"metadata":{"name":"other"},"spec":{"controller":"example.com/other"}}""");
        await _api.Create(ResourceCatalog.IngressClasses, """{"metadata":{"name":"nginx","annotations":{"ingressclass.kubernetes.io/is-default-class":"true"}},"spec":{"controller":"k8s.io/ingress-nginx"}}""");

        var defaulted = await _api.Create(ResourceCatalog.Ingresses, Ingress("{\"rules\":[" + Rule + "]}", "after"));
        Assert.Equal("nginx", (string?)defaulted["spec"]!["ingressClassName"]);
        var named = await _api.Create(ResourceCatalog.Ingresses, Ingress("{\"ingressClassName\":\"other\",\"rules\":[" + Rule + "]}", "named"));
        Assert.Equal("other", (string?)named["spec"]!["ingressClassName"]);
        var legacy = await _api.Create(ResourceCatalog.Ingresses, Ingress("{\"rules\":[" + Rule + "]}", "legacy", """{"kubernetes.io/ingress.class":"other"}"""));
        Assert.Null(legacy["spec"]!["ingressClassName"]);

        // An update does not default.
        var updated = await _api.Service.PatchAsync(ResourceCatalog.Ingresses, "default", "before", null, PatchType.Merge, JsonNode.Parse("""{"metadata":{"labels":{"a":"b"}}}""")!, false);
        Assert.Null(updated["spec"]!["ingressClassName"]);
    }

    [Fact]
    public async Task IngressClass_ControllerRequiredAndImmutable_ParametersScope()
    {
        Assert.Contains("spec.controller: Required value", await _api.Invalid(ResourceCatalog.IngressClasses, """{"metadata":{"name":"c"},"spec":{}}"""));
        Assert.Contains("spec.controller: Invalid value: \"nginx\": must be a domain-prefixed path (such as \"acme.io/foo\")",
            await _api.Invalid(ResourceCatalog.IngressClasses, """{"metadata":{"name":"c"},"spec":{"controller":"nginx"}}"""));
        Assert.Contains("spec.parameters.namespace: Required value: `parameters.scope` is set to 'Namespace'",
            await _api.Invalid(ResourceCatalog.IngressClasses, """{"metadata":{"name":"c"},"spec":{"controller":"a.io/b","parameters":{"kind":"K","name":"n","scope":"Namespace"}}}"""));

        var made = await _api.Create(ResourceCatalog.IngressClasses, """{"metadata":{"name":"c"},"spec":{"controller":"a.io/b","parameters":{"apiGroup":"k8s.example.com","kind":"IngressParameters","name":"p"}}}""");
        Assert.Equal("Cluster", (string?)made["spec"]!["parameters"]!["scope"]);
        var error = await Assert.ThrowsAsync<Podnet.ApiServer.Http.ApiException>(() =>
            _api.Service.PatchAsync(ResourceCatalog.IngressClasses, null, "c", null, PatchType.Merge, JsonNode.Parse("""{"spec":{"controller":"a.io/c"}}""")!, false));
        Assert.Equal(422, error.Code);
        Assert.Contains("field is immutable", error.Details!.ToJsonString());

        var row = TablePrinter.Print(ResourceCatalog.IngressClasses, made, false)["rows"]![0]!["cells"]!.AsArray().Select(c => c!.ToString()).ToList();
        Assert.Equal(["c", "a.io/b", "IngressParameters.k8s.example.com/p"], row.Take(3));
    }

    [Fact]
    public void Table_ColumnsAsKubectlPrintsThem()
    {
        var ingress = JsonNode.Parse("""
            {"metadata":{"name":"web","creationTimestamp":"2026-01-01T12:00:00Z"},
             "spec":{"ingressClassName":"nginx","tls":[{"hosts":["a.example.com"]}],
              "rules":[{"host":"a.example.com"},{},{"host":"b.example.com"},{"host":"c.example.com"},{"host":"d.example.com"}]},
             "status":{"loadBalancer":{"ingress":[{"ip":"172.18.0.200"},{"hostname":"lb.example.com"}]}}}
            """)!.AsObject();
        var table = TablePrinter.Print(ResourceCatalog.Ingresses, ingress, false, new DateTimeOffset(2026, 1, 1, 12, 0, 5, TimeSpan.Zero));

        Assert.Equal(["Name", "Class", "Hosts", "Address", "Ports", "Age"], table["columnDefinitions"]!.AsArray().Select(c => (string?)c!["name"]));
        var cells = table["rows"]![0]!["cells"]!.AsArray().Select(c => c!.ToString()).ToList();
        Assert.Equal(["web", "nginx", "a.example.com,b.example.com,c.example.com + 2 more...", "172.18.0.200,lb.example.com", "80, 443", "5s"], cells);
    }
}
