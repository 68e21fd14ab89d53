using System.Net.Sockets;

namespace Podnet.Policy.Tests;

/// <summary>`podnet policy check`'s explanations: who isolates each side, which rule allows, which side denies.</summary>
public sealed class CheckTests
{
    private static readonly AddressFamily[] s_v4 = [AddressFamily.InterNetwork];

    private static World Model() => new World().Apply("""
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: egress-to-y, namespace: x}
        spec:
          podSelector: {matchLabels: {pod: a}}
          policyTypes: [Egress]
          egress:
          - to: [{namespaceSelector: {matchLabels: {ns: z}}}]
          - to: [{namespaceSelector: {matchLabels: {ns: y}}}]
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: from-z, namespace: y}
        spec:
          podSelector: {matchLabels: {pod: b}}
          ingress: [{from: [{namespaceSelector: {matchLabels: {ns: z}}}]}]
        """);

    /// <summary>The Admin CNP "tenants" (priority 7) over namespace y with these ingress rules (flow-style YAML, one a rule).</summary>
    private static string Tenants(params string[] ingress) => $"""
        apiVersion: policy.networking.k8s.io/v1alpha2
        kind: ClusterNetworkPolicy
        metadata: {"{"}name: tenants{"}"}
        spec:
          tier: Admin
          priority: 7
          subject: {"{"}namespaces: {"{"}matchLabels: {"{"}ns: y{"}}}"}
          ingress:
        {string.Join("\n", ingress.Select(r => "  - " + r))}
        """;

    [Fact]
    public void Allowed_NamesTheRuleOfEachIsolatedSide()
    {
        var w = Model();
        var result = PolicyCheck.Check(w.Snapshot, s_v4, PolicyDeny.Drop, w.Pod("x/a"), w.Pod("y/a"), 80, "tcp");
        Assert.True(result.Allowed);
        Assert.Equal(["x/egress-to-y"], result.Egress.Isolating);
        Assert.Equal("x/egress-to-y egress[1]", result.Egress.Rule);
        Assert.Empty(result.Ingress.Isolating);
        Assert.Contains("not isolated, allowed", result.Lines().Last(), StringComparison.Ordinal);
    }

    [Fact]
    public void Denied_SaysWhichIsolationDenies_EvenWhenTheOtherSideDeniesToo()
    {
        var w = Model();
        var result = PolicyCheck.Check(w.Snapshot, s_v4, PolicyDeny.Reject, w.Pod("x/a"), w.Pod("y/b"), 80, "tcp");
        Assert.Equal("reject", result.Verdict);
        Assert.True(result.Egress.Allowed);
        Assert.False(result.Ingress.Allowed);
        Assert.Equal(["y/from-z"], result.Ingress.Isolating);
        var both = PolicyCheck.Check(w.Snapshot, s_v4, PolicyDeny.Drop, w.Pod("x/a"), w.Pod("x/b"), 80, "tcp");
        Assert.Equal("drop", both.Verdict);
        Assert.False(both.Egress.Allowed);
        Assert.True(both.Ingress.Allowed);
        w.Sync();
        Assert.Equal(w.Connect("x/a", "x/b"), both.Verdict); // the kernel path agrees
        Assert.Equal("drop", w.Connect("x/a", "y/b"));
    }

    [Fact]
    public void Reach_JudgesEveryOtherPodBothWays_OnTheReceiversPorts()
    {
        var w = Model();
        var report = PolicyReach.For(w.Snapshot, s_v4, PolicyDeny.Drop, "y/b");
        Assert.Equal(8, report.Inbound.Select(e => e.Peer).Distinct().Count());
        Assert.All(report.Inbound, e => Assert.Equal(e.Peer.StartsWith("z/", StringComparison.Ordinal), e.Result.Allowed));
        Assert.All(report.Inbound.Where(e => !e.Result.Allowed), e => Assert.Equal(["y/from-z"], e.Result.Ingress.Isolating));
        Assert.All(report.Outbound, e => Assert.True(e.Result.Allowed));
        Assert.Equal(w.Pod("y/b").Ports.Count, report.Inbound.Count(e => e.Peer == "z/a"));

        var a = PolicyReach.For(w.Snapshot, s_v4, PolicyDeny.Drop, "x/a");
        Assert.Equal(["x/b", "x/c"], a.Outbound.Where(e => !e.Result.Allowed && !e.Result.Egress.Allowed).Select(e => e.Peer).Distinct());
        Assert.Throws<ArgumentException>(() => PolicyReach.For(w.Snapshot, s_v4, PolicyDeny.Drop, "x/nosuch"));
    }

    [Fact]
    public void ClusterNetworkPolicy_TheDecidingRuleIsNamed_WithItsTierAndPriority()
    {
        var w = Model().Apply(Tenants(
            "{name: from-z, action: Accept, from: [{namespaces: {matchLabels: {ns: z}}}]}",
            "{name: not-x, action: Deny, from: [{namespaces: {matchLabels: {ns: x}}}]}"));
        var denied = PolicyCheck.Check(w.Snapshot, s_v4, PolicyDeny.Drop, w.Pod("x/a"), w.Pod("y/a"), 80, "tcp");
        Assert.Equal("drop", denied.Verdict);
        Assert.False(denied.Ingress.Allowed);
        Assert.Equal("cnp:tenants Admin/7 ingress[1] not-x", denied.Ingress.Rule);
        Assert.Contains("denied by cnp:tenants Admin/7 ingress[1] not-x", denied.Lines().Last(), StringComparison.Ordinal);
        var accepted = PolicyCheck.Check(w.Snapshot, s_v4, PolicyDeny.Drop, w.Pod("z/a"), w.Pod("y/b"), 80, "tcp");
        Assert.True(accepted.Allowed);
        Assert.Equal("cnp:tenants Admin/7 ingress[0] from-z", accepted.Ingress.Rule);
        w.Sync();
        Assert.Equal("drop", w.Connect("x/a", "y/a"));
    }

    [Fact]
    public void ClusterNetworkPolicyDeny_LogsUnderAPrefixNamingTheRule_NetworkPolicyUnderTheBareOne()
    {
        var w = Model().Apply(Tenants("{name: not-x, action: Deny, from: [{namespaces: {matchLabels: {ns: x}}}]}"));
        w.Sync();
        var rules = w.Plans.Values.SelectMany(p => p.Chains.Values).SelectMany(c => c.Rules).Select(r => r.Text).ToArray();
        Assert.Contains(rules, t => t.EndsWith("log prefix \"podnet-policy ingress cnp:tenants Admin/7 ingress[0] not-x\" group 100 drop", StringComparison.Ordinal));
        Assert.Contains(rules, t => t == "log prefix \"podnet-policy egress \" group 100 drop"); // x/egress-to-y's end
        Assert.Equal((Direction.Ingress, "cnp:tenants Admin/7 ingress[0] not-x"), PolicyNames.ParseLogPrefix("podnet-policy ingress cnp:tenants Admin/7 ingress[0] not-x\0"));
        Assert.Equal((Direction.Egress, (string?)null), PolicyNames.ParseLogPrefix(PolicyNames.EgressLogPrefix));
        Assert.Null(PolicyNames.ParseLogPrefix("podnet-test "));
    }

    [Fact]
    public void LogPrefix_IsCutTo127Bytes_AndHoldsNothingNftWouldReadAsAVariable()
    {
        var prefix = PolicyNames.LogPrefix(Direction.Egress, "cnp:p Admin/1 egress[0] costs $5 \"100%\" " + new string('r', 200));
        Assert.Equal(127, prefix.Length);
        Assert.StartsWith("podnet-policy egress cnp:p Admin/1 egress[0] costs _5 _100__ rrr", prefix, StringComparison.Ordinal);
    }
}
