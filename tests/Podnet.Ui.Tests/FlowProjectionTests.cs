using System.Text.Json.Nodes;
using k8s.Models;

namespace Podnet.Ui.Tests;

/// <summary>An agent's /podnet/flows answer as the page's flows and drops.</summary>
public sealed class FlowProjectionTests
{
    private static V1Pod Pod(string name, string ip) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Spec = new V1PodSpec(),
        Status = new V1PodStatus { PodIP = ip, PodIPs = [new V1PodIP { Ip = ip }] },
    };

    private static readonly FlowLookup s_lookup = FlowLookup.From(
        [Pod("client", "10.244.1.5"), Pod("web-1", "10.244.2.7")],
        [new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default" },
            Spec = new V1ServiceSpec { ClusterIPs = ["10.96.0.20"], Ports = [new V1ServicePort { Port = 80, Protocol = "TCP", NodePort = 30080 }] },
        }],
        [new V1Node { Metadata = new V1ObjectMeta { Name = "n1" }, Status = new V1NodeStatus { Addresses = [new V1NodeAddress { Type = "InternalIP", Address = "172.18.0.11" }] } }]);

    private static JsonNode Answer(params (string Src, int Sport, string Dst, int Dport, string RSrc, int RSport, string RDst)[] connections) => new JsonObject
    {
        ["node"] = "n1",
        ["connections"] = new JsonArray(connections.Select(c => (JsonNode)new JsonObject
        {
            ["protocol"] = "tcp",
            ["state"] = "TIME_WAIT",
            ["original"] = new JsonObject { ["source"] = c.Src, ["sourcePort"] = c.Sport, ["destination"] = c.Dst, ["destinationPort"] = c.Dport },
            ["reply"] = new JsonObject { ["source"] = c.RSrc, ["sourcePort"] = c.RSport, ["destination"] = c.RDst, ["destinationPort"] = c.Sport },
        }).ToArray()),
        ["drops"] = new JsonArray(new JsonObject { ["time"] = "2026-12-08T00:00:00Z", ["direction"] = "ingress", ["pod"] = "default/web-1", ["source"] = "10.244.1.5", ["destination"] = "10.244.2.7", ["protocol"] = "tcp", ["port"] = 8080 }),
    };

    [Fact]
    public void ClusterIpConnection_IsSourcePodServiceEndpoint_WithTheDnat()
    {
        var flow = Assert.Single(FlowProjection.ProjectFlows("n1", Answer(("10.244.1.5", 41000, "10.96.0.20", 80, "10.244.2.7", 8080, "10.244.1.5")), s_lookup)).Flow;
        Assert.Equal("default/client", (string?)flow["sourcePod"]);
        Assert.Equal("default/web", (string?)flow["service"]);
        Assert.Equal("default/web-1", (string?)flow["endpointPod"]);
        Assert.Equal("DNAT 10.96.0.20:80 → 10.244.2.7:8080", (string?)flow["nat"]);
    }

    [Fact]
    public void NodePortFromOutside_IsTheServiceMasqueraded()
    {
        var flow = Assert.Single(FlowProjection.ProjectFlows("n1", Answer(("172.18.0.1", 50000, "172.18.0.11", 30080, "10.244.2.7", 8080, "172.18.0.11")), s_lookup)).Flow;
        Assert.Null((string?)flow["sourcePod"]);
        Assert.Equal("default/web", (string?)flow["service"]);
        Assert.Equal("DNAT 172.18.0.11:30080 → 10.244.2.7:8080; SNAT (masquerade) 172.18.0.1 → 172.18.0.11", (string?)flow["nat"]);
    }

    [Fact]
    public void TheNodesOwnConnections_AreLeftOut_AndADirectPodConnectionHasNoNat()
    {
        var flows = FlowProjection.ProjectFlows("n1", Answer(
            ("172.18.0.11", 40000, "172.18.0.2", 6443, "172.18.0.2", 6443, "172.18.0.11"),
            ("10.244.1.5", 41001, "10.244.2.7", 8080, "10.244.2.7", 8080, "10.244.1.5")), s_lookup).ToList();
        var flow = Assert.Single(flows).Flow;
        Assert.Equal("", (string?)flow["nat"]);
        Assert.Null((string?)flow["service"]);
        Assert.Equal("n1|tcp|10.244.1.5:41001|10.244.2.7:8080", Assert.Single(flows).Key);
    }

    [Fact]
    public void Drops_CarryTheirNode()
    {
        var drop = Assert.Single(FlowProjection.ProjectDrops("n1", Answer())).Drop;
        Assert.Equal("n1", (string?)drop["node"]);
        Assert.Equal("default/web-1", (string?)drop["pod"]);
    }
}
