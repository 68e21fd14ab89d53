using Podnet.ApiServer.Tests.Server;

namespace Podnet.ApiServer.Tests.Kubectl;

/// <summary>The real kubectl on networking.k8s.io/v1 Ingress, IngressClass, ServiceCIDR and IPAddress.</summary>
public sealed class NetworkingKubectlTests(ServerFixture server) : KubectlTestBase(server)
{
    private const string Ingress = """
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: web}
        spec:
          tls: [{hosts: [web.example.com], secretName: web-tls}]
          rules:
          - host: web.example.com
            http:
              paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]
        """;

    [Fact]
    public void ApplyAndGetIngress_WithUpstreamsColumns_AndTheDefaultClass()
    {
        var ns = Namespace();
        var cls = "c-" + ns;
        Assert.Equal($"ingressclass.networking.k8s.io/{cls} created\n", Kubectl.Ok("apply", "-f", File("class.yaml", $$"""
            apiVersion: networking.k8s.io/v1
            kind: IngressClass
            metadata:
              name: {{cls}}
              annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
            spec: {controller: example.com/ingress}
            """)));
        Assert.Equal("ingress.networking.k8s.io/web created\n", Kubectl.Ok("apply", "-n", ns, "-f", File("ing.yaml", Ingress)));

        // The newest default class (this test's, unless another test made one since) names the Ingress.
        Assert.Matches(@"^NAME\s+CLASS\s+HOSTS\s+ADDRESS\s+PORTS\s+AGE\nweb\s+c-\S+\s+web\.example\.com\s+80, 443\s+\d+s\n$", Kubectl.Ok("get", "ingress", "-n", ns));
        Assert.Matches($@"^NAME\s+CONTROLLER\s+PARAMETERS\s+AGE\n(.*\n)*{cls}\s+example\.com/ingress\s+<none>\s+\d+s\n", Kubectl.Ok("get", "ingressclass"));
        Kubectl.Ok("delete", "ingressclass", cls);
    }

    [Fact]
    public void ApplyInvalidIngress_422WithUpstreamsCause()
    {
        var ns = Namespace();
        var result = Kubectl.Run("apply", "-n", ns, "-f", File("bad.yaml", Ingress.Replace("pathType: Prefix, ", "", StringComparison.Ordinal)));
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified", result.Error, StringComparison.Ordinal);
    }

    // kubectl's create ingress sends protobuf: this branch reads no protobuf Ingress (the protobuf
    // work for every kind, issue 24, lands separately); unskip when it does.
    [Fact]
    public void CreateIngress_TheImperativeCommand()
    {
        var ns = Namespace();
        var result = Kubectl.Run("create", "ingress", "simple", "-n", ns, "--rule=foo.com/bar=svc1:8080");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal("ingress.networking.k8s.io/simple created\n", result.Out);
        Assert.Equal("foo.com /bar Exact svc1 8080", Kubectl.Ok("get", "ingress", "simple", "-n", ns, "-o",
            "jsonpath={.spec.rules[0].host} {.spec.rules[0].http.paths[0].path} {.spec.rules[0].http.paths[0].pathType} {.spec.rules[0].http.paths[0].backend.service.name} {.spec.rules[0].http.paths[0].backend.service.port.number}"));
    }

    [Fact]
    public void GetServiceCidrsAndIPAddresses_TheDefaultRangeAndAServicesAddress()
    {
        var ns = Namespace();
        Kubectl.Ok("apply", "-n", ns, "-f", File("svc.yaml", WebService("[{port: 80}]")));
        var ip = Kubectl.Ok("get", "svc", "web", "-n", ns, "-o", "jsonpath={.spec.clusterIP}");

        Assert.Matches(@"^NAME\s+CIDRS\s+AGE\nkubernetes\s+10\.96\.0\.0/16\s+\d+s\n", Kubectl.Ok("get", "servicecidrs"));
        Assert.Matches($@"^NAME\s+PARENTREF\s*\n{System.Text.RegularExpressions.Regex.Escape(ip)}\s+services/{ns}/web\s*\n$", Kubectl.Ok("get", "ipaddress", ip));
        Assert.Equal("True", Kubectl.Ok("get", "servicecidr", "kubernetes", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"));
    }
}
