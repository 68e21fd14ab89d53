using System.Net.Sockets;
using Podnet.Core.Nft;
using static Podnet.Policy.Tests.World;

namespace Podnet.Policy.Tests;

/// <summary>Incremental syncs (pods and label changes touch elements, not rules), both families, the table's shape.</summary>
public sealed class SyncTests
{
    private const string FromB = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: from-b, namespace: x}
        spec:
          podSelector: {matchLabels: {pod: a}}
          ingress: [{from: [{namespaceSelector: {}, podSelector: {matchLabels: {pod: b}}}], ports: [{port: serve-80-tcp}]}]
        """;

    [Fact]
    public void FirstSync_BuildsTheTable_ThenNothingChanged_AppliesNothing()
    {
        var w = new World().Apply(FromB);
        var first = w.Sync();
        Assert.Contains("delete table inet podnet-policy", first["n1"].Commands);
        var again = w.Sync();
        Assert.All(again.Values, tx => Assert.True(tx.IsEmpty, tx.ToScript()));
    }

    [Fact]
    public void APodAppearing_AddsElementsOnly_AndIsMatchedAtOnce()
    {
        var w = new World().Apply(FromB);
        w.Sync();
        w.AddPod("z", "b2", "n2", new() { ["pod"] = "b" }, ["10.244.2.50"]);
        var tx = w.Sync();
        Assert.All(tx.Values.SelectMany(t => t.Operations), op => Assert.IsType<NftElement>(op.Object));
        Assert.Equal("accept", w.Connect("z/b2", "x/a", 80));
        Assert.Equal("drop", w.Connect("z/b2", "x/a", 81));
        // A second pod isolated by the same policies on x/a's node shares x/a's chain: elements only.
        w.AddPod("x", "a2", w.Pod("x/a").NodeName!, new() { ["pod"] = "a" }, ["10.244.2.51"]);
        tx = w.Sync();
        Assert.All(tx.Values.SelectMany(t => t.Operations), op => Assert.IsType<NftElement>(op.Object));
        Assert.Equal("drop", w.Connect("x/c", "x/a2", 80));
        Assert.Equal("accept", w.Connect("y/b", "x/a2", 80));
        w.RemovePod("z/b2");
        tx = w.Sync();
        Assert.All(tx.Values.SelectMany(t => t.Operations), op => Assert.Equal(NftVerb.Delete, op.Verb));
    }

    [Fact]
    public void PolicyChanges_AreIncremental_AndEndInTheStateAFullBuildGives()
    {
        var w = new World().Apply(FromB);
        w.Sync();
        w.Apply("""
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: from-b, namespace: x}
            spec:
              podSelector: {matchLabels: {pod: c}}
              ingress: [{from: [{ipBlock: {cidr: 10.244.1.0/24}}], ports: [{port: 81, protocol: UDP}]}]
            """);
        var tx = w.Sync();
        Assert.DoesNotContain(tx.Values.SelectMany(t => t.Commands), c => c.Contains("delete table", StringComparison.Ordinal));
        foreach (var node in Nodes)
        {
            var fresh = new Testing.FakeNftRunner();
            fresh.Apply(w.Plans[node].ToTransaction());
            Assert.Equal(fresh.Dump(), w.Runners[node].Dump());
        }
        w.Delete("x/from-b");
        w.Sync();
        foreach (var node in Nodes)
        {
            var fresh = new Testing.FakeNftRunner();
            fresh.Apply(w.Plans[node].ToTransaction());
            Assert.Equal(fresh.Dump(), w.Runners[node].Dump());
            Assert.DoesNotContain("in-", w.Runners[node].Dump(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AFailedApply_MakesTheNextSyncFull()
    {
        var w = new World().Apply(FromB);
        w.Sync();
        w.Syncers["n1"].Invalidate();
        Assert.Contains("delete table inet podnet-policy", w.Sync()["n1"].Commands);
    }

    [Fact]
    public void BothFamilies_EveryAddressOfAPod_AndIpBlocksInEither()
    {
        var w = new World(dualStack: true).Apply(FromB + """

            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: v6-block, namespace: y}
            spec:
              podSelector: {matchLabels: {pod: a}}
              ingress: [{from: [{ipBlock: {cidr: "fd00:10:244:1::/64", except: ["fd00:10:244:1::10/128"]}}]}]
            """);
        w.Sync();
        foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            Assert.Equal("accept", w.Connect("y/b", "x/a", 80, "tcp", family));
            Assert.Equal("drop", w.Connect("y/c", "x/a", 80, "tcp", family));
        }
        // y/a (n1) admits n1's pod addresses over IPv6 but y/c's, and nothing over IPv4.
        Assert.Equal("n1", w.Pod("y/a").NodeName);
        Assert.Equal("fd00:10:244:1::10", w.Pod("y/c").Addresses[1].ToString());
        foreach (var pod in new[] { "x/b", "z/b" })
        {
            Assert.Equal("accept", w.Connect(pod, "y/a", 80, "tcp", AddressFamily.InterNetworkV6));
            Assert.Equal("drop", w.Connect(pod, "y/a", 80, "tcp", AddressFamily.InterNetwork));
        }
        Assert.Equal("drop", w.Connect("y/c", "y/a", 80, "tcp", AddressFamily.InterNetworkV6));
        Assert.Equal("drop", w.Connect("y/b", "y/a", 80, "tcp", AddressFamily.InterNetworkV6)); // on n2
    }

    [Fact]
    public void TheTable_HasOneForwardChainAfterTheProxysDnat_AndRulesKeyedByAddress()
    {
        var w = new World().Apply(FromB);
        w.Sync();
        var dump = w.Runners["n1"].Dump();
        Assert.Contains("type filter hook forward priority 0", dump, StringComparison.Ordinal);
        Assert.DoesNotContain("ifname", dump, StringComparison.Ordinal);
        var forward = w.Plans["n1"].Chains[PolicyNames.Forward].Rules.Select(r => r.Text).ToArray();
        Assert.Equal("ct state established,related accept", forward[0]);
        Assert.Contains("ip saddr vmap @egress4", forward);
        Assert.Contains("ip daddr vmap @ingress4", forward);
    }
}
