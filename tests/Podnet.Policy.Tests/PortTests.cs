using static Podnet.Policy.Tests.World;

namespace Podnet.Policy.Tests;

/// <summary>Ports: numbers, names per destination pod, endPort, protocols (TCP default, UDP, SCTP), a protocol without a port.</summary>
public sealed class PortTests
{
    private static string IngressToX(string ports) => $$$"""
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: ports, namespace: x}
        spec:
          podSelector: {}
          ingress:
          - ports:
        {{{ports}}}
        """;

    [Fact]
    public void NumericPort_DefaultsToTcp_AndAllowsOnlyThatPortAndProtocol()
    {
        var w = new World().Apply(IngressToX("    - port: 81"));
        w.Sync();
        Assert.Equal("accept", w.Connect("y/a", "x/a", 81));
        Assert.Equal("drop", w.Connect("y/a", "x/a", 80));
        Assert.Equal("drop", w.Connect("y/a", "x/a", 81, "udp"));
        Assert.Equal("drop", w.Connect("y/a", "x/a", 81, "sctp"));
    }

    [Fact]
    public void NamedPort_ResolvesOnEachDestinationPod_ByNameAndProtocol()
    {
        var w = new World()
            .AddPod("x", "d", "n1", new() { ["pod"] = "d" }, ["10.244.1.40"], [new("serve-80-tcp", 8080, "TCP")])
            .Apply(IngressToX("    - port: serve-80-tcp"));
        w.Sync();
        Assert.Equal("accept", w.Connect("y/a", "x/a", 80));
        Assert.Equal("drop", w.Connect("y/a", "x/a", 81));
        Assert.Equal("accept", w.Connect("y/a", "x/d", 8080)); // the same name, another number on x/d
        Assert.Equal("drop", w.Connect("y/a", "x/d", 80));
        // A name with the wrong protocol matches nothing.
        w.Apply(IngressToX("    - port: serve-80-tcp\n      protocol: UDP")).Sync();
        Assert.Equal("drop", w.Connect("y/a", "x/a", 80));
        Assert.Equal("drop", w.Connect("y/a", "x/a", 80, "udp"));
        // A name no pod serves matches nothing.
        w.Apply(IngressToX("    - port: serve-99-tcp")).Sync();
        Assert.Equal("drop", w.Connect("y/a", "x/a", 80));
    }

    [Fact]
    public void NamedPort_InEgress_ResolvesOnThePeer()
    {
        var w = new World()
            .AddPod("y", "d", "n2", new() { ["pod"] = "d" }, ["10.244.2.40"], [new("serve-81-udp", 5353, "UDP")])
            .Apply("""
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: egress-named, namespace: x}
                spec:
                  podSelector: {matchLabels: {pod: a}}
                  policyTypes: [Egress]
                  egress: [{ports: [{port: serve-81-udp, protocol: UDP}]}]
                """);
        w.Sync();
        Assert.Equal("accept", w.Connect("x/a", "y/b", 81, "udp"));
        Assert.Equal("drop", w.Connect("x/a", "y/b", 81, "tcp"));
        Assert.Equal("drop", w.Connect("x/a", "y/b", 80, "udp"));
        Assert.Equal("accept", w.Connect("x/a", "y/d", 5353, "udp"));
        Assert.Equal("drop", w.Connect("x/a", "y/d", 81, "udp"));
    }

    [Fact]
    public void EndPort_IsAnInclusiveRange()
    {
        var w = new World().Apply(IngressToX("    - port: 79\n      endPort: 80"));
        w.Sync();
        Assert.Equal("accept", w.Connect("y/a", "x/a", 79));
        Assert.Equal("accept", w.Connect("y/a", "x/a", 80));
        Assert.Equal("drop", w.Connect("y/a", "x/a", 81));
        Assert.Equal("drop", w.Connect("y/a", "x/a", 80, "udp"));
    }

    [Fact]
    public void PortEntryWithoutPort_MatchesEveryPortOfItsProtocol()
    {
        var w = new World().Apply(IngressToX("    - protocol: UDP"));
        w.Sync();
        Assert.Equal("accept", w.Connect("y/a", "x/a", 80, "udp"));
        Assert.Equal("accept", w.Connect("y/a", "x/a", 81, "udp"));
        Assert.Equal("accept", w.Connect("y/a", "x/a", 12345, "udp"));
        Assert.Equal("drop", w.Connect("y/a", "x/a", 80, "tcp"));
    }

    [Fact]
    public void Sctp_IsItsOwnProtocol_AnSctpOnlyRuleStillIsolatesTcp()
    {
        var w = new World().Apply(IngressToX("    - port: 80\n      protocol: SCTP"));
        w.Sync();
        Assert.Equal("accept", w.Connect("y/a", "x/a", 80, "sctp"));
        Assert.Equal("drop", w.Connect("y/a", "x/a", 80, "tcp"));
        Assert.Equal("drop", w.Connect("y/a", "x/a", 80, "udp"));
        Assert.Equal("drop", w.Connect("y/a", "x/a", 81, "sctp"));
    }

    [Fact]
    public void PeersAndPorts_InOneRule_AreAnded_SeveralPortsAreOred()
    {
        var w = new World().Apply("""
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: and, namespace: x}
            spec:
              podSelector: {}
              ingress:
              - from: [{namespaceSelector: {matchLabels: {ns: y}}}]
                ports: [{port: 80}, {port: 81, protocol: UDP}]
            """);
        w.Sync();
        Assert.Equal("accept", w.Connect("y/a", "x/b", 80));
        Assert.Equal("accept", w.Connect("y/a", "x/b", 81, "udp"));
        Assert.Equal("drop", w.Connect("y/a", "x/b", 81));
        Assert.Equal("drop", w.Connect("z/a", "x/b", 80));
        Assert.Equal(ExpectWhere((from, to) => !to.StartsWith('x') || from.StartsWith('y')), w.Matrix(80));
    }
}
