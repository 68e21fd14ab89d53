using Podnet.Core.Nft;
using static Podnet.Policy.Tests.World;

namespace Podnet.Policy.Tests;

/// <summary>Isolation per direction, policyTypes defaulting, union, both sides, replies, node and self traffic.</summary>
public sealed class IsolationTests
{
    internal const string DenyIngressX = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: deny-ingress, namespace: x}
        spec:
          podSelector: {}
          policyTypes: [Ingress]
        """;

    [Fact]
    public void NoPolicies_EverythingReachesEverything()
    {
        var w = new World();
        w.Sync();
        Assert.Equal(ExpectWhere((_, _) => true), w.Matrix());
        Assert.Equal(ExpectWhere((_, _) => true), w.Matrix(81, "udp"));
    }

    [Fact]
    public void DefaultDenyIngress_IsolatesOnlyIngress_OfOnlyItsNamespace()
    {
        var w = new World().Apply(DenyIngressX);
        w.Sync();
        Assert.Equal(ExpectWhere((_, to) => !to.StartsWith('x')), w.Matrix());
        Assert.Equal(ExpectWhere((_, to) => !to.StartsWith('x')), w.Matrix(81, "udp"));
    }

    [Fact]
    public void DefaultDenyEgress_IsolatesOnlyEgress()
    {
        var w = new World().Apply("""
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: deny-egress, namespace: x}
            spec:
              podSelector: {}
              policyTypes: [Egress]
            """);
        w.Sync();
        Assert.Equal(ExpectWhere((from, _) => !from.StartsWith('x')), w.Matrix());
    }

    [Fact]
    public void PolicyTypesDefault_AnEgressSectionWithoutTypes_AlsoDeniesAllIngress()
    {
        var w = new World().Apply("""
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: egress-trap, namespace: x}
            spec:
              podSelector: {matchLabels: {pod: a}}
              egress:
              - to: [{podSelector: {matchLabels: {pod: b}}}]
            """);
        w.Sync();
        Assert.Equal(ExpectWhere((from, to) => to != "x/a" && (from != "x/a" || to == "x/b")), w.Matrix());
    }

    [Fact]
    public void PolicyTypesDefault_AnEmptyEgressList_DoesNotIsolateEgress()
    {
        var w = new World().Apply("""
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: empty-egress, namespace: x}
            spec:
              podSelector: {matchLabels: {pod: a}}
              egress: []
            """);
        w.Sync();
        Assert.Equal(ExpectWhere((_, to) => to != "x/a"), w.Matrix());
    }

    [Fact]
    public void Policies_AreAUnion_AndAnAllowAllCannotBeUndone()
    {
        var w = new World().Apply(DenyIngressX + """

            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: from-b, namespace: x}
            spec:
              podSelector: {matchLabels: {pod: a}}
              ingress: [{from: [{podSelector: {matchLabels: {pod: b}}}]}]
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: from-c, namespace: x}
            spec:
              podSelector: {matchLabels: {pod: a}}
              ingress: [{from: [{podSelector: {matchLabels: {pod: c}}}]}]
            """);
        w.Sync();
        Assert.Equal(ExpectWhere((from, to) => !to.StartsWith('x') || (to == "x/a" && from is "x/b" or "x/c")), w.Matrix());
        w.Apply("""
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: allow-all, namespace: x}
            spec:
              podSelector: {}
              ingress: [{}]
            """).Sync();
        Assert.Equal(ExpectWhere((_, _) => true), w.Matrix());
    }

    [Fact]
    public void BothSidesMustAllow_EgressDenialWinsOverAnOpenReceiver_AndTheReverse()
    {
        var w = new World().Apply("""
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: egress-to-y, namespace: x}
            spec:
              podSelector: {matchLabels: {pod: a}}
              policyTypes: [Egress]
              egress: [{to: [{namespaceSelector: {matchLabels: {ns: y}}}]}]
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: ingress-from-z, namespace: y}
            spec:
              podSelector: {matchLabels: {pod: b}}
              ingress: [{from: [{namespaceSelector: {matchLabels: {ns: z}}}]}]
            """);
        w.Sync();
        Assert.Equal("accept", w.Connect("x/a", "y/a"));
        Assert.Equal("drop", w.Connect("x/a", "y/b")); // x/a may send, y/b does not admit x
        Assert.Equal("drop", w.Connect("x/a", "z/a")); // z admits anything, x/a may not send
        Assert.Equal("accept", w.Connect("z/a", "y/b"));
        Assert.Equal("drop", w.Connect("x/b", "y/b"));
    }

    [Fact]
    public void Replies_OfAllowedConnections_Pass_ButNewConnectionsBackDoNot()
    {
        var w = new World().Apply(DenyIngressX);
        w.Sync();
        var xa = w.Pod("x/a").Addresses[0];
        var ya = w.Pod("y/a").Addresses[0];
        var nodes = new[] { w.Pod("x/a").NodeName!, w.Pod("y/a").NodeName! };
        Assert.Equal("accept", w.Send(xa, ya, nodes)); // x/a's egress is open
        Assert.Equal("accept", w.Send(ya, xa, nodes, 40000, "tcp", NftCtState.Established));
        Assert.Equal("drop", w.Send(ya, xa, nodes));
    }

    [Fact]
    public void NodeToPod_IsAlwaysAllowed_AndAPodAlwaysReachesItself()
    {
        var w = new World().Apply(DenyIngressX + """

            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: deny-egress, namespace: x}
            spec:
              podSelector: {}
              policyTypes: [Egress]
            """);
        w.Sync();
        var pod = w.Pod("x/a");
        var nodeIP = pod.NodeName == "n1" ? "172.18.0.11" : "172.18.0.12";
        var fromNode = w.Runners[pod.NodeName!].Tracer(nodeIP).Trace(NftPacket.Tcp(nodeIP, pod.Addresses[0].ToString(), 80), NftOrigin.Local);
        Assert.Equal(NftVerdictKind.Accept, Assert.Single(fromNode).Verdict);
        Assert.Equal("accept", w.Connect("x/a", "x/a"));
        Assert.Equal("drop", w.Connect("x/a", "x/b"));
    }

    [Fact]
    public void Denied_IsDroppedByDefault_AndRejectedWhenTheAgentSaysReject()
    {
        var dropping = new World().Apply(DenyIngressX);
        dropping.Sync();
        Assert.Equal("drop", dropping.Connect("y/a", "x/a"));
        var rejecting = new World(deny: PolicyDeny.Reject).Apply(DenyIngressX);
        rejecting.Sync();
        Assert.Equal("reject", rejecting.Connect("y/a", "x/a"));
        Assert.Equal("reject", rejecting.Connect("y/a", "x/b", 81, "udp"));
    }

    [Fact]
    public void DeletingThePolicies_RestoresFullReachability()
    {
        var w = new World().Apply(DenyIngressX);
        w.Sync();
        Assert.Equal("drop", w.Connect("y/a", "x/a"));
        w.Delete("x/deny-ingress").Sync();
        Assert.Equal(ExpectWhere((_, _) => true), w.Matrix());
    }
}
