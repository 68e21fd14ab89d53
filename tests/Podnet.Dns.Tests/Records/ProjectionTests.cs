using k8s.Models;
using Podnet.Dns.Records;

namespace Podnet.Dns.Tests.Records;

public class ProjectionTests
{
    private static V1ObjectMeta Meta(string name, Dictionary<string, string>? labels = null) => new()
    {
        Name = name,
        NamespaceProperty = "default",
        ResourceVersion = "42",
        Labels = labels ?? new Dictionary<string, string> { ["app"] = "web" },
        Annotations = new Dictionary<string, string> { ["kubectl.kubernetes.io/last-applied-configuration"] = new string('x', 4000) },
        ManagedFields = [new V1ManagedFieldsEntry { Manager = "kubectl", Operation = "Apply" }],
    };

    private static string Text(DnsService s) => $"{s.Namespace}/{s.Name} {s.Kind} [{string.Join(",", s.ClusterIPs)}] [{string.Join(",", s.Ports)}] {s.ExternalName} {s.PublishNotReadyAddresses}";

    private static string Text(DnsEndpointSlice? s) => s is null ? "null" : $"{s.Namespace}/{s.ServiceName} [{string.Join(",", s.Ports)}] [{string.Join(",", s.Endpoints.Select(e => $"{string.Join("+", e.Addresses)}/{e.Hostname}/{e.Ready}"))}]";

    [Theory]
    [InlineData("ClusterIP", "10.96.0.20", null)]
    [InlineData("NodePort", "10.96.0.21", null)]
    [InlineData("ClusterIP", "None", null)]
    [InlineData("ExternalName", null, "example.com")]
    public void Service_SlimmedFirst_ProjectsTheSame(string type, string? clusterIP, string? externalName)
    {
        var service = new V1Service
        {
            Metadata = Meta("web"),
            Spec = new V1ServiceSpec
            {
                Type = type,
                ClusterIP = clusterIP,
                ClusterIPs = clusterIP is null ? null : [clusterIP, .. clusterIP == "None" ? Array.Empty<string>() : ["fd00:10:96::20"]],
                ExternalName = externalName,
                PublishNotReadyAddresses = true,
                Selector = new Dictionary<string, string> { ["app"] = "web" },
                Ports = [new V1ServicePort { Name = "http", Port = 80, Protocol = "TCP", TargetPort = 8080, NodePort = 30080 }],
            },
            Status = new V1ServiceStatus(),
        };
        Assert.Equal(Text(Projection.Service(service)), Text(Projection.Service(Slim.Service(service))));
        var slim = Slim.Service(service);
        Assert.Null(slim.Metadata.ManagedFields);
        Assert.Null(slim.Metadata.Annotations);
        Assert.Equal("42", slim.Metadata.ResourceVersion);
    }

    [Fact]
    public void Service_Kinds()
    {
        V1Service Make(string? type, params string[] ips) => new() { Metadata = Meta("s"), Spec = new V1ServiceSpec { Type = type, ClusterIPs = ips, ExternalName = "example.com" } };
        Assert.Equal(ServiceKind.ClusterIP, Projection.Service(Make(null, "10.96.0.1")).Kind);
        Assert.Equal(ServiceKind.Headless, Projection.Service(Make("ClusterIP", "None")).Kind);
        Assert.Equal(ServiceKind.ExternalName, Projection.Service(Make("ExternalName")).Kind);
        Assert.Null(Projection.Service(Make(null, "10.96.0.1")).ExternalName);
    }

    [Fact]
    public void EndpointSlice_SlimmedFirst_ProjectsTheSame_AndNeedsTheServiceLabel()
    {
        var slice = new V1EndpointSlice
        {
            Metadata = Meta("web-abc", new Dictionary<string, string> { [Projection.ServiceNameLabel] = "web", ["other"] = "x" }),
            AddressType = "IPv4",
            Ports = [new Discoveryv1EndpointPort { Name = "http", Port = 8080, Protocol = "TCP" }],
            Endpoints =
            [
                new V1Endpoint { Addresses = ["10.244.1.5"], Hostname = "web-0", Conditions = new V1EndpointConditions { Ready = true, Serving = true }, NodeName = "n1" },
                new V1Endpoint { Addresses = ["10.244.1.6"], Conditions = new V1EndpointConditions { Ready = false } },
                new V1Endpoint { Addresses = ["10.244.1.7"] },
                new V1Endpoint { Addresses = ["not-an-ip"] },
            ],
        };
        var projected = Projection.EndpointSlice(slice);
        Assert.Equal("default/web [DnsPort { Name = http, Protocol = TCP, Port = 8080 }] [10.244.1.5/web-0/True,10.244.1.6//False,10.244.1.7//True]", Text(projected));
        Assert.Equal(Text(projected), Text(Projection.EndpointSlice(Slim.EndpointSlice(slice))));
        slice.Metadata.Labels.Remove(Projection.ServiceNameLabel);
        Assert.Null(Projection.EndpointSlice(slice));
        Assert.Null(Projection.EndpointSlice(Slim.EndpointSlice(slice)));
    }

    [Fact]
    public void Pod_SlimmedFirst_KeepsItsAddresses()
    {
        var pod = new V1Pod { Metadata = Meta("p"), Spec = new V1PodSpec(), Status = new V1PodStatus { PodIP = "10.244.1.5", PodIPs = [new V1PodIP { Ip = "10.244.1.5" }, new V1PodIP { Ip = "fd00:10:244:1::5" }] } };
        Assert.Equal(["10.244.1.5", "fd00:10:244:1::5"], Projection.Pod(Slim.Pod(pod)).Addresses.Select(a => a.ToString()));
    }
}
