using Podnet.Check;

namespace Podnet.Check.Tests;

public sealed class CheckPlannerTests
{
    private static CheckFacts Facts(string? architecture = "island", string? lb = "172.18.0.200", IReadOnlySet<string>? dns = null) => new()
    {
        Namespace = "podnet-check-abc123",
        ClusterDomain = "cluster.local",
        Pods = new Dictionary<string, (string, string)>
        {
            [CheckPlanner.Client] = ("n1", "10.244.1.2"),
            [CheckPlanner.ServerA] = ("n1", "10.244.1.3"),
            [CheckPlanner.ServerB] = ("n2", "10.244.2.2"),
            [CheckPlanner.GuardAllow] = ("n2", "10.244.2.3"),
            [CheckPlanner.GuardDeny] = ("n2", "10.244.2.4"),
        },
        NodeAddresses = new Dictionary<string, string> { ["n1"] = "172.18.0.11", ["n2"] = "172.18.0.12", ["n3"] = "172.18.0.13" },
        KubernetesServiceIp = "10.96.0.1",
        WebClusterIp = "10.96.4.5",
        EmptyClusterIp = "10.96.4.6",
        WebNodePort = 31000,
        WebLoadBalancerIp = lb,
        DnsNodes = dns ?? new HashSet<string> { "n1" },
        Architecture = architecture,
        OutsideAddress = architecture is null ? null : "172.18.0.1",
    };

    [Fact]
    public void Build_HealthyIslandLab_EveryTestWithItsExpectedOutcome()
    {
        var cases = CheckPlanner.Build(Facts());
        Assert.Equal(
            [
                "pod-to-pod/same-node connect", "pod-to-pod/other-node connect", "service/kubernetes connect", "service/cluster-ip connect",
                "service/cluster-ip-udp connect", "service/no-endpoints refuse", "service/node-port connect", "service/node-port-outside connect", "service/load-balancer connect",
                "service/load-balancer-outside connect", "dns/cluster-name connect", "dns/search-path connect", "dns/node-without-dns connect",
                "policy/allow connect", "policy/deny drop", "egress/outside connect", "mtu/other-node connect",
            ],
            cases.Select(c => c.Name + " " + CheckTable.Word(c.Expected)));
        Assert.All(cases, c => Assert.NotNull(c.Probe));
    }

    [Fact]
    public void Build_OnlyTheDropTestGetsTheShortTimeout()
    {
        var cases = CheckPlanner.Build(Facts());
        Assert.Equal(["policy/deny"], cases.Where(c => c.Probe!.Timeout == CheckPlanner.ShortTimeout).Select(c => c.Name));
    }

    [Fact]
    public void Build_Isolated_ExpectsEgressRefusedAndAnotherNodesNodePortReached()
    {
        // A node is part of the cluster: pods reach any node's NodePort, as upstream, in every architecture.
        Assert.Equal(Outcome.Connect, CheckPlanner.Build(Facts("isolated")).Single(c => c.Name == "service/node-port").Expected);
        Assert.Equal(Outcome.Connect, CheckPlanner.Build(Facts("flat")).Single(c => c.Name == "service/node-port").Expected);
        var egress = CheckPlanner.Build(Facts("isolated")).Single(c => c.Name == "egress/outside");
        Assert.Equal(Outcome.Refuse, egress.Expected);
        Assert.Equal(new Probe(ProbeSite.InPod(CheckPlanner.Client), ProbeKind.Ping, "172.18.0.1", CheckPlanner.LongTimeout), egress.Probe);
    }

    [Fact]
    public void Build_NotALab_SkipsWhatNeedsTheOutsideHost()
    {
        var skipped = CheckPlanner.Build(Facts(architecture: null)).Where(c => c.SkipReason is not null).Select(c => c.Name);
        Assert.Equal(["service/node-port-outside", "service/load-balancer-outside", "egress/outside"], skipped);
    }

    [Fact]
    public void Build_NoLoadBalancerAddress_FailsBothLoadBalancerTests()
    {
        var lb = CheckPlanner.Build(Facts(lb: null)).Where(c => c.Name.StartsWith("service/load-balancer", StringComparison.Ordinal)).ToArray();
        Assert.All(lb, c => Assert.Equal("no LoadBalancer address was assigned", c.Failure));
    }

    [Fact]
    public void Build_NodeWithoutDns_RunsFromThePodThere()
    {
        var dns = CheckPlanner.Build(Facts()).Single(c => c.Name == "dns/node-without-dns");
        Assert.Equal(CheckPlanner.ServerB, dns.Probe!.From.Pod);
        Assert.Equal("web.podnet-check-abc123.svc.cluster.local", dns.Probe.Target);
        Assert.Equal("10.96.4.5", dns.Probe.Expect);
        var everywhere = CheckPlanner.Build(Facts(dns: new HashSet<string> { "n1", "n2" })).Single(c => c.Name == "dns/node-without-dns");
        Assert.Equal("every node has a DNS endpoint", everywhere.SkipReason);
    }

    [Theory]
    [InlineData("dns/search-path", "dns", true)]
    [InlineData("dns/search-path", "DNS/SEARCH", true)]
    [InlineData("service/node-port-outside", "service/*", true)]
    [InlineData("service/node-port-outside", "*outside", true)]
    [InlineData("pod-to-pod/same-node", "*outside", false)]
    [InlineData("pod-to-pod/same-node", "service/*", false)]
    [InlineData("pod-to-pod/same-node", null, true)]
    public void Matches_PartOrGlob(string name, string? pattern, bool expected) =>
        Assert.Equal(expected, CheckPlanner.Matches(name, pattern));
}
