using System.Net;
using System.Text.Json.Nodes;
using k8s.Models;

namespace Podnet.Ui.Tests;

public sealed class UiProjectionTests
{
    private static readonly Dictionary<IPAddress, string> s_none = [];

    [Fact]
    public void Node_WithoutReadyCondition_IsUnknown_AndShowsInternalIpAndPodCidr()
    {
        var node = new V1Node
        {
            Metadata = new V1ObjectMeta { Name = "n1" },
            Spec = new V1NodeSpec { PodCIDR = "10.244.1.0/24" },
            Status = new V1NodeStatus { Addresses = [new V1NodeAddress { Address = "172.18.0.11", Type = "InternalIP" }, new V1NodeAddress { Address = "n1", Type = "Hostname" }] },
        };
        var json = UiProjection.Node(node);
        Assert.Equal("Unknown", (string?)json["ready"]);
        Assert.Equal(["172.18.0.11"], json["addresses"]!.AsArray().Select(a => (string)a!));
        Assert.Equal(["10.244.1.0/24"], json["podCIDRs"]!.AsArray().Select(a => (string)a!));
    }

    [Fact]
    public void Service_Headless_HasNoClusterIp_AndExternalName_KeepsItsName()
    {
        var headless = Service("db", new V1ServiceSpec { ClusterIP = "None", ClusterIPs = ["None"], Ports = [new V1ServicePort { Port = 5432 }] });
        var json = UiProjection.Service(headless, "cluster.local", s_none);
        Assert.True((bool)json["headless"]!);
        Assert.Empty(json["clusterIPs"]!.AsArray());
        Assert.Equal("db.default.svc.cluster.local", (string?)json["dns"]);

        var external = UiProjection.Service(Service("ext", new V1ServiceSpec { Type = "ExternalName", ExternalName = "example.com" }), "cluster.local", s_none);
        Assert.Equal("ExternalName", (string?)external["type"]);
        Assert.Equal("example.com", (string?)external["externalName"]);
    }

    [Fact]
    public void Service_LoadBalancer_NamesTheNodeAnnouncingEachAddress()
    {
        var service = Service("lb", new V1ServiceSpec { Type = "LoadBalancer", ClusterIP = "10.96.0.20", Ports = [new V1ServicePort { Port = 80, NodePort = 30080 }] });
        service.Status = new V1ServiceStatus { LoadBalancer = new V1LoadBalancerStatus { Ingress = [new V1LoadBalancerIngress { Ip = "172.18.0.200" }] } };
        var json = UiProjection.Service(service, "cluster.local", new Dictionary<IPAddress, string> { [IPAddress.Parse("172.18.0.200")] = "n2" });
        Assert.Equal(["172.18.0.200"], json["loadBalancerIPs"]!.AsArray().Select(a => (string)a!));
        Assert.Equal("n2", (string?)json["announcedBy"]!["172.18.0.200"]);
        Assert.Equal(30080, (int)json["ports"]![0]!["nodePort"]!);
    }

    [Fact]
    public void EndpointSlice_KeepsTheServiceAndEachEndpointsPod()
    {
        var slice = new V1EndpointSlice
        {
            Metadata = new V1ObjectMeta { Name = "web-abc", NamespaceProperty = "default", Labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = "web" } },
            AddressType = "IPv4",
            Endpoints = [new V1Endpoint { Addresses = ["10.244.1.5"], Conditions = new V1EndpointConditions { Ready = false }, NodeName = "n1", TargetRef = new V1ObjectReference { Kind = "Pod", Name = "web-1" } }],
        };
        var json = UiProjection.EndpointSlice(slice);
        Assert.Equal("web", (string?)json["service"]);
        var endpoint = json["endpoints"]![0]!;
        Assert.Equal("web-1", (string?)endpoint["pod"]);
        Assert.False((bool)endpoint["ready"]!);
    }

    private static V1Service Service(string name, V1ServiceSpec spec) => new() { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" }, Spec = spec };

    [Fact]
    public void ClusterNetworkPolicy_ShowsTierPriorityAndRuleCounts()
    {
        var spec = JsonNode.Parse("""{"tier":"Admin","priority":5,"subject":{"namespaces":{}},"ingress":[{"action":"Deny"},{"action":"Accept"}]}""")!.AsObject();
        var json = UiProjection.ClusterNetworkPolicy(new V1ObjectMeta { Name = "tenants" }, spec);
        Assert.Equal("""{"name":"tenants","tier":"Admin","priority":5,"ingressRules":2,"egressRules":0}""", json.ToJsonString());
        Assert.Null((long?)UiProjection.ClusterNetworkPolicy(new V1ObjectMeta { Name = "bare" }, null)["priority"]);
    }
}
