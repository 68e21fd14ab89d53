using System.Net;
using System.Net.Sockets;
using k8s.Models;
using Podnet.Controllers.Projections;
using Podnet.Core.Cluster;

namespace Podnet.Controllers.Tests.Projections;

public sealed class ObjectProjectionTests
{
    [Fact]
    public void Service_EveryFieldThePlannersRead()
    {
        var service = new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "shop", Labels = new Dictionary<string, string> { [ServiceInfo.ProxyNameLabel] = "other" } },
            Spec = new V1ServiceSpec
            {
                Type = "LoadBalancer",
                ClusterIPs = ["10.96.0.10", "fd00:10:96::a"],
                ExternalIPs = ["203.0.113.7", "not-an-ip"],
                LoadBalancerSourceRanges = ["172.18.0.0/24 "],
                ExternalTrafficPolicy = "Local",
                InternalTrafficPolicy = "Local",
                HealthCheckNodePort = 32000,
                SessionAffinity = "ClientIP",
                SessionAffinityConfig = new V1SessionAffinityConfig { ClientIP = new V1ClientIPConfig { TimeoutSeconds = 60 } },
                PublishNotReadyAddresses = true,
                TrafficDistribution = "PreferClose",
                Ports =
                [
                    new V1ServicePort { Name = "http", Port = 80, TargetPort = "http-alt", NodePort = 30080, AppProtocol = "http" },
                    new V1ServicePort { Name = "dns", Port = 53, Protocol = "UDP", TargetPort = 5353 },
                    new V1ServicePort { Name = "plain", Port = 81 },
                ],
            },
            Status = new V1ServiceStatus { LoadBalancer = new V1LoadBalancerStatus { Ingress = [new V1LoadBalancerIngress { Ip = "172.18.0.200" }, new V1LoadBalancerIngress { Ip = "172.18.0.201", IpMode = "Proxy" }] } },
        };
        var info = ObjectProjection.ToServiceInfo(service);
        Assert.Equal("shop/web", info.Key);
        Assert.Equal(["10.96.0.10", "fd00:10:96::a"], info.ClusterIPs.Select(a => a.ToString()));
        Assert.Equal([IPAddress.Parse("203.0.113.7")], info.ExternalIPs);
        Assert.Equal([IPAddress.Parse("172.18.0.200")], info.LoadBalancerIPs);
        Assert.Equal([IPNetwork.Parse("172.18.0.0/24")], info.LoadBalancerSourceRanges);
        Assert.Equal(TrafficPolicy.Local, info.ExternalTrafficPolicy);
        Assert.Equal(TrafficPolicy.Local, info.InternalTrafficPolicy);
        Assert.Equal(32000, info.HealthCheckNodePort);
        Assert.Equal(TimeSpan.FromSeconds(60), info.AffinityTimeout);
        Assert.True(info.PublishNotReadyAddresses);
        Assert.Equal("other", info.ProxyName);
        Assert.Equal("PreferClose", info.TrafficDistribution);
        Assert.False(info.Headless);
        var http = info.Ports[0];
        Assert.Equal((80, 30080, 0, "http-alt", "http"), (http.Port, http.NodePort, http.TargetPort, http.TargetPortName, http.AppProtocol));
        Assert.Equal(("UDP", 5353, (string?)null), (info.Ports[1].Protocol, info.Ports[1].TargetPort, info.Ports[1].TargetPortName));
        Assert.Equal(("TCP", 81), (info.Ports[2].Protocol, info.Ports[2].TargetPort));
    }

    [Fact]
    public void Service_Defaults_HeadlessAndExternalName()
    {
        var headless = ObjectProjection.ToServiceInfo(new V1Service { Metadata = new V1ObjectMeta { Name = "h" }, Spec = new V1ServiceSpec { ClusterIP = "None", SessionAffinity = "ClientIP" } });
        Assert.True(headless.Headless);
        Assert.Empty(headless.ClusterIPs);
        Assert.Equal(ServiceInfo.DefaultAffinityTimeout, headless.AffinityTimeout);
        Assert.Equal("default", headless.Namespace);
        var external = ObjectProjection.ToServiceInfo(new V1Service { Metadata = new V1ObjectMeta { Name = "e" }, Spec = new V1ServiceSpec { Type = "ExternalName", ExternalName = "db.example.org", ClusterIP = "10.96.0.9" } });
        Assert.Equal("db.example.org", external.ExternalName);
        Assert.Empty(external.ClusterIPs);
        Assert.Null(external.AffinityTimeout);
    }

    [Fact]
    public void EndpointSlice_ConditionsAsDiscoveryV1DefinesThem()
    {
        var slice = new V1EndpointSlice
        {
            Metadata = new V1ObjectMeta { Name = "web-abc", NamespaceProperty = "shop", Labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = "web", ["endpointslice.kubernetes.io/managed-by"] = "endpointslice-controller.k8s.io" } },
            AddressType = "IPv4",
            Ports = [new Discoveryv1EndpointPort { Name = "http", Port = 8080 }, new Discoveryv1EndpointPort { Name = "broken" }],
            Endpoints =
            [
                new V1Endpoint { Addresses = ["10.244.1.5"], NodeName = "n1", Hostname = "web-0", TargetRef = new V1ObjectReference { Kind = "Pod", Name = "web-0" }, Hints = new V1EndpointHints { ForZones = [new V1ForZone { Name = "z1" }] } },
                new V1Endpoint { Addresses = ["10.244.2.5"], Conditions = new V1EndpointConditions { Ready = false, Serving = true, Terminating = true } },
                new V1Endpoint { Addresses = ["10.244.3.5"], Conditions = new V1EndpointConditions { Ready = false } },
                new V1Endpoint { Addresses = ["fd00::5", "junk"] },
            ],
        };
        var info = ObjectProjection.ToEndpointSliceInfo(slice)!;
        Assert.Equal(("shop/web", AddressFamily.InterNetwork, "endpointslice-controller.k8s.io"), (info.ServiceKey, info.Family, info.ManagedBy));
        Assert.Equal([new EndpointPortInfo("http", "TCP", 8080)], info.Ports);
        Assert.Equal(3, info.Endpoints.Count);
        var first = info.Endpoints[0];
        Assert.Equal((true, true, false, "n1", "web-0", "shop/web-0"), (first.Ready, first.Serving, first.Terminating, first.NodeName, first.Hostname, first.TargetPod));
        Assert.Equal(["z1"], first.ZoneHints);
        Assert.Equal((false, true, true), (info.Endpoints[1].Ready, info.Endpoints[1].Serving, info.Endpoints[1].Terminating));
        Assert.Equal((false, false, false), (info.Endpoints[2].Ready, info.Endpoints[2].Serving, info.Endpoints[2].Terminating));
    }

    [Fact]
    public void EndpointSlice_WithoutAServiceOrOfTypeFqdn_IsNotProjected()
    {
        Assert.Null(ObjectProjection.ToEndpointSliceInfo(new V1EndpointSlice { Metadata = new V1ObjectMeta { Name = "x" }, AddressType = "IPv4" }));
        Assert.Null(ObjectProjection.ToEndpointSliceInfo(new V1EndpointSlice { Metadata = new V1ObjectMeta { Name = "x", Labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = "s" } }, AddressType = "FQDN" }));
    }
}
