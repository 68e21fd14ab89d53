using static Podnet.Policy.Tests.World;

namespace Podnet.Policy.Tests;

/// <summary>Peers: pod and namespace selectors alone, together (AND), separate (OR), {}, matchExpressions, ipBlock.</summary>
public sealed class PeerTests
{
    private static string IngressToXa(string from) => $$$"""
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: to-xa, namespace: x}
        spec:
          podSelector: {matchLabels: {pod: a}}
          ingress:
          - from:
        {{{from}}}
        """;

    private static string Allowed(World w) => w.Matrix();

    private static string OnlyToXaFrom(params string[] senders) => ExpectWhere((from, to) => to != "x/a" || senders.Contains(from));

    [Fact]
    public void PodSelectorAlone_SelectsInThePolicysNamespaceOnly()
    {
        var w = new World().Apply(IngressToXa("    - podSelector: {matchLabels: {pod: b}}"));
        w.Sync();
        Assert.Equal(OnlyToXaFrom("x/b"), Allowed(w));
    }

    [Fact]
    public void NamespaceSelectorAlone_SelectsEveryPodOfTheNamespaces()
    {
        var w = new World().Apply(IngressToXa("    - namespaceSelector: {matchLabels: {ns: y}}"));
        w.Sync();
        Assert.Equal(OnlyToXaFrom("y/a", "y/b", "y/c"), Allowed(w));
    }

    [Fact]
    public void BothSelectorsInOnePeer_AreAnded()
    {
        var w = new World().Apply(IngressToXa("""
                - namespaceSelector: {matchLabels: {ns: y}}
                  podSelector: {matchLabels: {pod: c}}
            """));
        w.Sync();
        Assert.Equal(OnlyToXaFrom("y/c"), Allowed(w));
    }

    [Fact]
    public void SelectorsInSeparatePeers_AreOred()
    {
        var w = new World().Apply(IngressToXa("""
                - namespaceSelector: {matchLabels: {ns: y}}
                - podSelector: {matchLabels: {pod: c}}
            """));
        w.Sync();
        Assert.Equal(OnlyToXaFrom("y/a", "y/b", "y/c", "x/c"), Allowed(w));
    }

    [Fact]
    public void EmptySelectors_PodSelectorMeansTheWholeNamespace_NamespaceSelectorEveryNamespace()
    {
        var w = new World().Apply(IngressToXa("    - podSelector: {}"));
        w.Sync();
        Assert.Equal(OnlyToXaFrom("x/b", "x/c"), Allowed(w));
        w.Apply(IngressToXa("    - namespaceSelector: {}")).Sync();
        Assert.Equal(ExpectWhere((_, _) => true), Allowed(w));
    }

    [Fact]
    public void MatchExpressions_In_NotIn_Exists_DoesNotExist()
    {
        var w = new World().Apply(IngressToXa("""
                - namespaceSelector: {matchExpressions: [{key: ns, operator: In, values: [y, z]}]}
                  podSelector: {matchExpressions: [{key: pod, operator: NotIn, values: [a]}]}
            """));
        w.Sync();
        Assert.Equal(OnlyToXaFrom("y/b", "y/c", "z/b", "z/c"), Allowed(w));
        w.Relabel("z/a", new() { ["pod"] = "a", ["team"] = "blue" }).Apply(IngressToXa("""
                - namespaceSelector: {}
                  podSelector: {matchExpressions: [{key: team, operator: Exists}]}
            """)).Sync();
        Assert.Equal(OnlyToXaFrom("z/a"), Allowed(w));
        w.Apply(IngressToXa("""
                - namespaceSelector: {}
                  podSelector: {matchExpressions: [{key: team, operator: DoesNotExist}, {key: pod, operator: In, values: [a]}]}
            """)).Sync();
        Assert.Equal(OnlyToXaFrom("y/a"), Allowed(w));
    }

    [Fact]
    public void NamespaceByName_ThroughTheMetadataNameLabel()
    {
        var w = new World().Apply(IngressToXa("    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: z}}"));
        w.Sync();
        Assert.Equal(OnlyToXaFrom("z/a", "z/b", "z/c"), Allowed(w));
    }

    [Fact]
    public void LabelChanges_OnPodsAndNamespaces_MoveThemInAndOut()
    {
        var w = new World().Apply(IngressToXa("""
                - namespaceSelector: {matchLabels: {team: blue}}
                  podSelector: {matchLabels: {role: client}}
            """));
        w.Sync();
        Assert.Equal(OnlyToXaFrom(), Allowed(w));
        w.SetNamespace("y", new() { ["ns"] = "y", ["team"] = "blue" }).Relabel("y/b", new() { ["pod"] = "b", ["role"] = "client" }).Sync();
        Assert.Equal(OnlyToXaFrom("y/b"), Allowed(w));
        w.SetNamespace("y", new() { ["ns"] = "y" }).Sync();
        Assert.Equal(OnlyToXaFrom(), Allowed(w));
    }

    [Fact]
    public void IpBlock_WithExcept_MatchesPodAddresses()
    {
        // x/a's peers on n1 and n2 are 10.244.1.x and 10.244.2.x: allow 10.244.0.0/16 but the n2 pods' /24.
        var w = new World().Apply(IngressToXa("""
                - ipBlock: {cidr: 10.244.0.0/16, except: [10.244.2.0/24]}
            """));
        w.Sync();
        var onN1 = new[] { "x", "y", "z" }.SelectMany(n => new[] { "a", "b", "c" }.Select(p => $"{n}/{p}")).Where(k => w.Pod(k).NodeName == "n1").ToArray();
        Assert.Equal(OnlyToXaFrom(onN1), Allowed(w));
        // Addresses that are no pod's are matched by the block too.
        Assert.Equal("accept", w.Send(System.Net.IPAddress.Parse("10.244.7.7"), w.Pod("x/a").Addresses[0], [w.Pod("x/a").NodeName!]));
        Assert.Equal("drop", w.Send(System.Net.IPAddress.Parse("10.244.2.200"), w.Pod("x/a").Addresses[0], [w.Pod("x/a").NodeName!]));
    }

    [Fact]
    public void IpBlock_Egress_ExceptCarvesOneAddress_AndOverlappingBlocksUnite()
    {
        var yb = w0().Pod("y/b").Addresses[0];
        var w = w0().Apply($$$"""
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: egress-cidr, namespace: x}
            spec:
              podSelector: {matchLabels: {pod: a}}
              policyTypes: [Egress]
              egress:
              - to:
                - ipBlock: {cidr: 10.244.0.0/16, except: ["{{{yb}}}/32"]}
                - ipBlock: {cidr: 10.244.0.0/17}
            """);
        w.Sync();
        // The second block covers y/b again: the union allows it.
        Assert.Equal(ExpectWhere((_, _) => true), Allowed(w));
        w.Apply($$$"""
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: egress-cidr, namespace: x}
            spec:
              podSelector: {matchLabels: {pod: a}}
              policyTypes: [Egress]
              egress: [{to: [{ipBlock: {cidr: 10.244.0.0/16, except: ["{{{yb}}}/32"]}}]}]
            """).Sync();
        Assert.Equal(ExpectWhere((from, to) => !(from == "x/a" && to == "y/b")), Allowed(w));

        static World w0() => new();
    }
}
