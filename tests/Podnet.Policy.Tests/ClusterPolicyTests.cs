using Podnet.Core.Nft;
using static Podnet.Policy.Tests.World;

namespace Podnet.Policy.Tests;

/// <summary>
/// ClusterNetworkPolicy tiers traced through the planned tables: Admin before NetworkPolicy,
/// Baseline after it (only for pods no NetworkPolicy isolates), priorities, rule order, the three
/// actions, subjects and peers (namespaces, pods, networks), ports (numbers, ranges, named), and
/// the API's fail-closed reading of what it cannot understand.
/// </summary>
public sealed class ClusterPolicyTests
{
    private static string Cnp(string name, string tier, int priority, string subject, string rules) => $"""
        apiVersion: policy.networking.k8s.io/v1alpha2
        kind: ClusterNetworkPolicy
        metadata: {"{"}name: {name}{"}"}
        spec:
          tier: {tier}
          priority: {priority}
          subject: {subject}
        {rules}
        """;

    private static string Ingress(string action, string from, string? protocols = null) =>
        $"  ingress:\n  - action: {action}\n    from: {from}" + (protocols is null ? "" : $"\n    protocols: {protocols}");

    private static string Egress(string action, string to, string? protocols = null) =>
        $"  egress:\n  - action: {action}\n    to: {to}" + (protocols is null ? "" : $"\n    protocols: {protocols}");

    private const string NamespaceX = "{namespaces: {matchLabels: {ns: x}}}";
    private const string FromY = "[{namespaces: {matchLabels: {ns: y}}}]";
    private const string FromAll = "[{namespaces: {}}]";

    private const string NetworkPolicyAllowFromY = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: allow-from-y, namespace: x}
        spec:
          podSelector: {}
          ingress:
          - from: [{namespaceSelector: {matchLabels: {ns: y}}}]
        """;

    private const string NetworkPolicyDenyIngressX = IsolationTests.DenyIngressX;

    [Fact]
    public void AdminAccept_WithoutNetworkPolicy_IsolatesNothing()
    {
        var w = new World().Apply(Cnp("accept-y", "Admin", 10, NamespaceX, Ingress("Accept", FromY)));
        w.Sync();
        Assert.Equal(ExpectWhere((_, _) => true), w.Matrix());
    }

    [Fact]
    public void AdminDeny_OverridesANetworkPolicyAllow()
    {
        var w = new World().Apply(NetworkPolicyAllowFromY).Apply(Cnp("deny-y", "Admin", 10, NamespaceX, Ingress("Deny", FromY)));
        w.Sync();
        // y is denied by the admin tier, z by the NetworkPolicy (x is isolated; only y allowed), x to x allowed by neither.
        Assert.Equal(ExpectWhere((_, to) => !to.StartsWith('x')), w.Matrix());
        w.Delete("cnp:deny-y").Sync();
        Assert.Equal(ExpectWhere((from, to) => !to.StartsWith('x') || from.StartsWith('y')), w.Matrix());
    }

    [Fact]
    public void AdminAccept_OverridesANetworkPolicyDeny()
    {
        var w = new World().Apply(NetworkPolicyDenyIngressX).Apply(Cnp("accept-y", "Admin", 10, NamespaceX, Ingress("Accept", FromY)));
        w.Sync();
        Assert.Equal(ExpectWhere((from, to) => !to.StartsWith('x') || from.StartsWith('y')), w.Matrix());
    }

    [Fact]
    public void AdminPass_SkipsTheRestOfTheAdminTier_AndLetsNetworkPolicyDecide()
    {
        var w = new World()
            .Apply(NetworkPolicyAllowFromY)
            .Apply(Cnp("pass-y", "Admin", 1, NamespaceX, Ingress("Pass", FromY)))
            .Apply(Cnp("deny-all", "Admin", 2, NamespaceX, Ingress("Deny", FromAll)));
        w.Sync();
        Assert.Equal("accept", w.Connect("y/a", "x/a")); // passed, then allowed by the NetworkPolicy
        Assert.Equal("drop", w.Connect("z/a", "x/a")); // not passed: the admin deny
        Assert.Equal("drop", w.Connect("x/b", "x/a"));
        Assert.Equal("accept", w.Connect("z/a", "y/a"));
        w.Delete("x/allow-from-y").Apply(NetworkPolicyDenyIngressX).Sync();
        Assert.Equal("drop", w.Connect("y/a", "x/a")); // passed, then denied by the NetworkPolicy
    }

    [Fact]
    public void AdminPass_WithoutNetworkPolicy_GoesOnToTheBaselineTier()
    {
        var w = new World()
            .Apply(Cnp("pass-y", "Admin", 1, NamespaceX, Ingress("Pass", FromY)))
            .Apply(Cnp("baseline-deny", "Baseline", 1, NamespaceX, Ingress("Deny", FromAll)));
        w.Sync();
        Assert.Equal("drop", w.Connect("y/a", "x/a"));
        Assert.Equal("drop", w.Connect("z/a", "x/a"));
        Assert.Equal("accept", w.Connect("z/a", "y/a"));
    }

    [Fact]
    public void Priority_LowerNumberDecidesFirst_AndEqualPrioritiesGoByName()
    {
        var w = new World()
            .Apply(Cnp("b-accept", "Admin", 10, NamespaceX, Ingress("Accept", FromY)))
            .Apply(Cnp("a-deny", "Admin", 20, NamespaceX, Ingress("Deny", FromY)));
        w.Sync();
        Assert.Equal("accept", w.Connect("y/a", "x/a"));
        w.Apply(Cnp("a-deny", "Admin", 5, NamespaceX, Ingress("Deny", FromY))).Sync();
        Assert.Equal("drop", w.Connect("y/a", "x/a"));
        w.Apply(Cnp("a-deny", "Admin", 10, NamespaceX, Ingress("Deny", FromY))).Sync();
        Assert.Equal("drop", w.Connect("y/a", "x/a")); // equal: "a-deny" before "b-accept"
    }

    [Fact]
    public void RuleOrder_TheFirstMatchingRuleOfAPolicyDecides()
    {
        var acceptFirst = Cnp("ordered", "Admin", 10, NamespaceX, Ingress("Accept", FromY) + $"\n  - action: Deny\n    from: {FromAll}");
        var w = new World().Apply(acceptFirst);
        w.Sync();
        Assert.Equal("accept", w.Connect("y/a", "x/a"));
        Assert.Equal("drop", w.Connect("z/a", "x/a"));
        var denyFirst = Cnp("ordered", "Admin", 10, NamespaceX, Ingress("Deny", FromAll) + $"\n  - action: Accept\n    from: {FromY}");
        w.Apply(denyFirst).Sync();
        Assert.Equal("drop", w.Connect("y/a", "x/a"));
    }

    [Fact]
    public void BaselineDeny_AppliesToPodsNoNetworkPolicyIsolates_AndANetworkPolicyAllowOverridesIt()
    {
        var w = new World().Apply(Cnp("baseline-deny", "Baseline", 10, NamespaceX, Ingress("Deny", FromAll)));
        w.Sync();
        Assert.Equal(ExpectWhere((_, to) => !to.StartsWith('x')), w.Matrix());
        w.Apply(NetworkPolicyAllowFromY).Sync();
        Assert.Equal(ExpectWhere((from, to) => !to.StartsWith('x') || from.StartsWith('y')), w.Matrix());
    }

    [Fact]
    public void BaselinePass_AndAccept_EndTheTier_AsAllowed()
    {
        var w = new World()
            .Apply(Cnp("pass-y", "Baseline", 1, NamespaceX, Ingress("Pass", FromY)))
            .Apply(Cnp("accept-z", "Baseline", 2, NamespaceX, Ingress("Accept", "[{namespaces: {matchLabels: {ns: z}}}]")))
            .Apply(Cnp("deny-all", "Baseline", 3, NamespaceX, Ingress("Deny", FromAll)));
        w.Sync();
        Assert.Equal("accept", w.Connect("y/a", "x/a"));
        Assert.Equal("accept", w.Connect("z/a", "x/a"));
        Assert.Equal("drop", w.Connect("x/b", "x/a"));
    }

    [Fact]
    public void EgressAccept_EndsEgress_ButTheDestinationsIngressStillApplies()
    {
        var w = new World()
            .Apply(Cnp("egress-accept", "Admin", 1, NamespaceX, Egress("Accept", "[{namespaces: {}}]")))
            .Apply(Cnp("egress-deny", "Admin", 2, NamespaceX, Egress("Deny", "[{namespaces: {}}]")))
            .Apply(NetworkPolicyDenyIngressX.Replace("namespace: x", "namespace: y"));
        w.Sync();
        Assert.Equal("accept", w.Connect("x/a", "z/a"));
        Assert.Equal("drop", w.Connect("x/a", "y/a")); // y's NetworkPolicy denies its ingress
    }

    [Fact]
    public void PodsSubjectAndPeer_SelectPodsInTheSelectedNamespaces()
    {
        var w = new World().Apply(Cnp(
            "pods",
            "Admin",
            1,
            "{pods: {namespaceSelector: {matchLabels: {ns: x}}, podSelector: {matchLabels: {pod: a}}}}",
            Egress("Deny", "[{pods: {namespaceSelector: {}, podSelector: {matchLabels: {pod: b}}}}]")));
        w.Sync();
        Assert.Equal(ExpectWhere((from, to) => !(from == "x/a" && to.EndsWith("/b"))), w.Matrix());
    }

    [Fact]
    public void NetworksPeer_MatchesByCidr_AndAnotherFamilysCidrMatchesNothing()
    {
        var w = new World().Apply(Cnp("no-n2", "Admin", 1, NamespaceX, Egress("Deny", "[{networks: [10.244.2.0/24, 'fd00::/8']}]")));
        w.Sync();
        Assert.Equal(ExpectWhere((from, to) => !(from.StartsWith('x') && w.Pod(to).NodeName == "n2")), w.Matrix());
        Assert.Equal("drop", w.Send(w.Pod("x/a").Addresses[0], System.Net.IPAddress.Parse("10.244.2.200"), [w.Pod("x/a").NodeName!]));
        Assert.Equal("accept", w.Send(w.Pod("x/a").Addresses[0], System.Net.IPAddress.Parse("172.18.0.100"), [w.Pod("x/a").NodeName!]));
    }

    [Fact]
    public void NetworksPeer_DualStack_EachFamilyItsOwnCidrs()
    {
        var w = new World(dualStack: true).Apply(Cnp("no-v6", "Admin", 1, NamespaceX, Egress("Deny", "[{networks: ['fd00:10:244::/48']}]")));
        w.Sync();
        Assert.Equal("accept", w.Connect("x/a", "y/a"));
        Assert.Equal("drop", w.Connect("x/a", "y/a", family: System.Net.Sockets.AddressFamily.InterNetworkV6));
    }

    [Fact]
    public void Ports_NumberRangeAndProtocol()
    {
        var w = new World().Apply(Cnp("ports", "Admin", 1, NamespaceX, Ingress("Deny", FromAll, "[{udp: {destinationPort: {number: 80}}}, {tcp: {destinationPort: {range: {start: 81, end: 90}}}}]")));
        w.Sync();
        Assert.Equal("drop", w.Connect("y/a", "x/a", 80, "udp"));
        Assert.Equal("accept", w.Connect("y/a", "x/a", 81, "udp"));
        Assert.Equal("accept", w.Connect("y/a", "x/a", 80));
        Assert.Equal("drop", w.Connect("y/a", "x/a", 81));
        Assert.Equal("drop", w.Connect("y/a", "x/a", 90));
        Assert.Equal("accept", w.Connect("y/a", "x/a", 91));
    }

    [Fact]
    public void NamedPort_ResolvesOnTheDestinationPod_WithTheContainerPortsProtocol()
    {
        var w = new World()
            .AddPod("x", "d", "n1", new() { ["pod"] = "d" }, ["10.244.1.40"], [new("web", 8080, "TCP"), new("dns", 53, "UDP")])
            .Apply(Cnp("named", "Admin", 1, NamespaceX, Ingress("Deny", FromAll, "[{destinationNamedPort: web}, {destinationNamedPort: dns}]")));
        w.Sync();
        Assert.Equal("drop", w.Connect("y/a", "x/d", 8080));
        Assert.Equal("accept", w.Connect("y/a", "x/d", 8080, "udp"));
        Assert.Equal("drop", w.Connect("y/a", "x/d", 53, "udp"));
        Assert.Equal("accept", w.Connect("y/a", "x/d", 53));
        Assert.Equal("accept", w.Connect("y/a", "x/a", 8080)); // x/a has no port named web
    }

    [Fact]
    public void FailClosed_APeerWithNoKnownField_DenyMatchesAll_AcceptMatchesNothing()
    {
        var w = new World()
            .Apply(NetworkPolicyDenyIngressX)
            .Apply(Cnp("accept-unknown", "Admin", 1, NamespaceX, Ingress("Accept", "[{domainNames: [example.com]}]")));
        w.Sync();
        Assert.Equal("drop", w.Connect("y/a", "x/a"));
        w.Delete("x/deny-ingress").Apply(Cnp("deny-unknown", "Admin", 2, "{namespaces: {matchLabels: {ns: y}}}", Ingress("Deny", "[{someFuturePeer: {}}]")));
        w.Sync();
        Assert.Equal("accept", w.Connect("z/a", "x/a"));
        Assert.Equal("drop", w.Connect("z/a", "y/a"));
    }

    [Fact]
    public void RejectMode_DeniedTrafficIsRejected()
    {
        var w = new World(deny: PolicyDeny.Reject).Apply(Cnp("deny-y", "Admin", 1, NamespaceX, Ingress("Deny", FromY)));
        w.Sync();
        Assert.Equal("reject", w.Connect("y/a", "x/a"));
    }

    [Fact]
    public void APodAppearing_ChangesOnlyElements_AndPoliciesShareChains()
    {
        var w = new World()
            .Apply(NetworkPolicyAllowFromY)
            .Apply(Cnp("deny-z", "Admin", 1, NamespaceX, Ingress("Deny", "[{namespaces: {matchLabels: {ns: z}}}]")))
            .Apply(Cnp("baseline", "Baseline", 1, "{namespaces: {}}", Ingress("Deny", FromY)));
        w.Sync();
        var applied = w.AddPod("x", "d", "n1", new() { ["pod"] = "d" }, ["10.244.1.40"]).AddPod("y", "d", "n1", new() { ["pod"] = "d" }, ["10.244.1.41"]).Sync();
        Assert.All(applied.Values.SelectMany(t => t.Operations), op => Assert.IsType<NftElement>(op.Object));
        Assert.Contains("10.244.1.40", applied["n1"].ToString(), StringComparison.Ordinal);
        Assert.Equal("accept", w.Connect("y/a", "x/d"));
        Assert.Equal("drop", w.Connect("z/a", "x/d"));
        Assert.Equal("drop", w.Connect("y/a", "y/d")); // baseline: y is isolated by no NetworkPolicy
        Assert.Equal("accept", w.Connect("z/a", "y/d"));
        // One chain per tier and combination on n1: ad-in (x), in (x's NetworkPolicy), bl-in (x is isolated, so only y and z's pods use it).
        var chains = w.Plans["n1"].Chains.Keys.Where(c => c != PolicyNames.Forward).Select(c => c[..c.LastIndexOf('-')]).Order(StringComparer.Ordinal);
        Assert.Equal(["ad-in", "bl-in", "in"], chains);
    }
}
