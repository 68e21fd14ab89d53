using Podnet.Core.Nft;
using static Podnet.Proxy.Tests.Cluster;

namespace Podnet.Proxy.Tests;

/// <summary>Partial syncs: small transactions that leave exactly what a full sync would.</summary>
public sealed class ProxySyncTests
{
    [Fact]
    public void ARepeatedFullSync_LeavesTheSameRuleset()
    {
        var c = new Cluster().Set(Svc("web", "10.96.0.10"), Slice("web", [P(80)], Ep("10.244.1.5")));
        c.Sync();
        var first = c.Nft.Dump();
        c.Syncer.Invalidate();
        c.Sync();
        Assert.Equal(first, c.Nft.Dump());
    }

    [Fact]
    public void OneServiceChange_TouchesOnlyThatService()
    {
        var c = new Cluster();
        for (var i = 0; i < 50; i++)
        {
            c.Set(Svc($"s{i}", $"10.96.1.{i}"), Slice($"s{i}", [P(80)], Ep($"10.244.1.{i}"), Ep($"10.244.2.{i}")));
        }
        c.Sync();
        c.Set(Svc("s7", "10.96.1.7"), Slice("s7", [P(80)], Ep("10.244.1.7"), Ep("10.244.2.7"), Ep("10.244.3.7")));
        var change = c.Sync("s7");
        Assert.All(change.Transaction.Commands, line => Assert.True(line.Contains("10.96.1.7", StringComparison.Ordinal) || line.Contains("balance-3", StringComparison.Ordinal) || line.Contains("slot-2", StringComparison.Ordinal) || line.Contains("10.244.3.7", StringComparison.Ordinal), line));
        Assert.DoesNotContain(change.Transaction.Commands, l => l.StartsWith("delete table", StringComparison.Ordinal) || l.StartsWith("flush table", StringComparison.Ordinal));
        Assert.Equal(c.FullDump(), c.Nft.Dump());
    }

    [Fact]
    public void AnUnchangedService_IsNoTransactionAtAll()
    {
        var c = new Cluster().Set(Svc("web", "10.96.0.10"), Slice("web", [P(80)], Ep("10.244.1.5")));
        c.Sync();
        Assert.True(c.Sync("web").Transaction.IsEmpty);
    }

    [Fact]
    public void TypeChanges_LeaveNoStaleRules()
    {
        var c = new Cluster();
        var slice = Slice("web", [P(80)], Ep("10.244.1.5"));
        c.Set(Svc("web", "10.96.0.10", Tcp(80)), slice).Sync();
        c.Set(Svc("web", "10.96.0.10", Tcp(80, nodePort: 30080)) with { Type = "NodePort" }, slice).Sync("web");
        Assert.Equal(c.FullDump(), c.Nft.Dump());
        Assert.Equal(["10.244.1.5:80 masq"], c.Reach("172.18.0.1", NodeIP, 30080));
        c.Set(Svc("web", "10.96.0.10") with { Type = "ExternalName", ClusterIPs = [], ExternalName = "example.org" }, slice).Sync("web");
        Assert.Equal(c.FullDump(), c.Nft.Dump());
        Assert.Equal(["172.18.0.11:30080"], c.Reach("172.18.0.1", NodeIP, 30080));
        Assert.Equal(["drop"], c.Reach("10.244.3.3", "10.96.0.10", 80));
        c.Set(Svc("web", "10.96.0.10", Tcp(80)), slice).Sync("web");
        Assert.Equal(c.FullDump(), c.Nft.Dump());
    }

    [Fact]
    public void AnAddressMovingBetweenServicesInOneBatch_IsNotAddedTwice()
    {
        var c = new Cluster().Set(Svc("a", "10.96.0.10"), Slice("a", [P(80)], Ep("10.244.1.5")));
        c.Sync();
        c.Remove("a").Set(Svc("b", "10.96.0.10"), Slice("b", [P(80)], Ep("10.244.1.6")));
        c.Sync("b", "a");
        Assert.Equal(["10.244.1.6:80"], c.Reach("10.244.3.3", "10.96.0.10", 80));
        Assert.Equal(c.FullDump(), c.Nft.Dump());
    }

    [Fact]
    public void AFailedTransaction_MakesTheNextSyncFull()
    {
        var c = new Cluster().Set(Svc("web", "10.96.0.10"), Slice("web", [P(80)], Ep("10.244.1.5")));
        c.Sync();
        c.Set(Svc("web", "10.96.0.10"), Slice("web", [P(80)], Ep("10.244.1.6")));
        var change = c.Syncer.Plan(k => c.Services.GetValueOrDefault(k), k => c.Slices[k], () => c.Services.Keys, new HashSet<string> { "default/web" });
        c.Nft.FailNext = 1;
        Assert.Throws<InvalidOperationException>(() => c.Nft.Apply(change.Transaction));
        c.Syncer.Invalidate();
        Assert.True(c.Syncer.NeedsFullSync);
        var retry = c.Sync("web");
        Assert.StartsWith("add table ip podnet-proxy", retry.Transaction.Commands[0]);
        Assert.Equal(["10.244.1.6:80"], c.Reach("10.244.3.3", "10.96.0.10", 80));
    }

    /// <summary>Random changes, each synced partially: the ruleset always equals a fresh full sync's.</summary>
    [Fact]
    public void RandomChurn_PartialSyncsEqualAFullSync()
    {
        var random = new Random(1234);
        var c = new Cluster();
        c.Sync();
        for (var step = 0; step < 300; step++)
        {
            var name = $"s{random.Next(12)}";
            var dirty = new List<string> { name };
            if (random.Next(5) == 0)
            {
                c.Remove(name);
            }
            else
            {
                var count = random.Next(0, 5);
                var endpoints = Enumerable.Range(0, count).Select(i => Ep($"10.244.{random.Next(1, 3)}.{random.Next(1, 6)}", ready: random.Next(4) > 0, serving: random.Next(2) > 0, terminating: random.Next(3) == 0)).ToArray();
                var type = random.Next(3) switch { 0 => "NodePort", 1 => "ClusterIP", _ => "LoadBalancer" };
                var affinity = random.Next(4) == 0 ? TimeSpan.FromSeconds(100) : (TimeSpan?)null;
                var ports = random.Next(2) == 0 ? new[] { Tcp(80, "http", 30000 + int.Parse(name[1..])) } : [Tcp(80, "http", 30000 + int.Parse(name[1..])), Udp(53, "dns")];
                c.Set(Svc(name, $"10.96.0.{int.Parse(name[1..]) + 10}", ports) with { Type = type, AffinityTimeout = affinity },
                    Slice(name, [P(8080, "http"), P(5353, "dns", "UDP")], endpoints));
            }
            c.Sync([.. dirty]);
            Assert.Equal(c.FullDump(), c.Nft.Dump());
        }
    }
}
