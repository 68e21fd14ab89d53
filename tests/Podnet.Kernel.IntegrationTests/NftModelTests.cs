using Podnet.Core.Nft;
using Podnet.Kernel;
using Podnet.Testing;

namespace Podnet.Kernel.IntegrationTests;

/// <summary>
/// The in-memory <see cref="NftState"/> (the fake runner's state) against the kernel: the same
/// transactions, applied to both, leave the same ruleset, and a transaction the kernel refuses
/// is refused by the fake and changes neither.
/// </summary>
public sealed class NftModelTests
{
    private static readonly NftTable T = new(NftFamily.Inet, "pn-model");
    private static readonly NftTable Six = new(NftFamily.Ip6, "pn-model6");
    private static readonly NftChain Pre = new("nat-prerouting", new NftHookSpec(NftChainType.Nat, NftHook.Prerouting, -100));
    private static readonly NftChain Out = new("filter-output", new NftHookSpec(NftChainType.Filter, NftHook.Output, -110));
    private static readonly NftChain Fwd = new("forward", new NftHookSpec(NftChainType.Filter, NftHook.Forward, 0, DropPolicy: true));
    private static readonly NftChain Svc = new("service-X/ns/web");
    private static readonly NftChain Reject = new("reject-chain");
    private static readonly NftSet Ips = new("service-ips", "ipv4_addr . inet_proto . inet_service", Value: "verdict");
    private static readonly NftSet Aff = new("affinity", "ipv4_addr", Flags: NftSetFlags.Dynamic | NftSetFlags.Timeout, Timeout: TimeSpan.FromHours(3));
    private static readonly NftSet Blocks = new("blocks", "ipv4_addr", Flags: NftSetFlags.Interval);
    private static readonly NftSet Eps = new("endpoints", "ipv4_addr . inet_service", Value: "ipv4_addr . inet_service");

    private static IEnumerable<NftTransaction> Steps()
    {
        yield return new NftTransaction().Add(T).Add(T, Pre).Add(T, Out).Add(T, Fwd).Add(T, Svc).Add(T, Reject)
            .Add(T, Ips).Add(T, Aff).Add(T, Blocks).Add(T, Eps)
            .AddRule(T, Pre.Name, "ip daddr . meta l4proto . th dport vmap @service-ips")
            .AddRule(T, Fwd.Name, "ct state established,related accept")
            .AddRule(T, Fwd.Name, "ip saddr @blocks drop")
            .AddRule(T, Fwd.Name, "ip daddr 10.96.0.0/16 reject with icmp port-unreachable", "unallocated")
            .AddRule(T, Svc.Name, "update @affinity { ip saddr }")
            .AddRule(T, Svc.Name, "numgen random mod 2 vmap { 0 : goto reject-chain, 1 : jump reject-chain }")
            .AddRule(T, Reject.Name, "reject")
            .AddElement(T, Ips.Name, "10.96.0.1 . tcp . 443", "goto service-X/ns/web")
            .AddElement(T, Ips.Name, "10.96.0.2 . udp . 53", "drop")
            .AddElement(T, Blocks.Name, "10.1.0.5-10.1.0.9")
            .AddElement(T, Blocks.Name, "192.168.0.0/16")
            .AddElement(T, Eps.Name, "10.96.0.1 . 443", "10.244.1.5 . 6443");
        // Elements out and in, a chain's rules replaced, an unreferenced chain removed.
        yield return new NftTransaction()
            .DeleteElement(T, Ips.Name, "10.96.0.2 . udp . 53")
            .AddElement(T, Ips.Name, "10.96.0.3 . tcp . 80", "goto reject-chain")
            .DeleteElement(T, Blocks.Name, "10.1.0.5-10.1.0.9")
            .Flush(T, Svc)
            .AddRule(T, Svc.Name, "meta l4proto tcp dnat ip to 10.244.1.5:8443")
            .Add(T, new NftChain("stale"))
            .Delete(T, new NftChain("stale"));
        // A whole table flushed (its sets keep their elements), a set flushed, another family.
        yield return new NftTransaction().Flush(T).Flush(T, Eps)
            .AddRule(T, Fwd.Name, "ip6 saddr fd00::/8 accept")
            .Add(Six).Add(Six, new NftChain("input", new NftHookSpec(NftChainType.Filter, NftHook.Input, 0)))
            .Add(Six, new NftSet("pods", "ipv6_addr"))
            .AddRule(Six, "input", "ip6 saddr @pods accept")
            .AddElement(Six, "pods", "fd00:10:244:1::5");
    }

    private static IEnumerable<NftTransaction> Refused()
    {
        yield return new NftTransaction().AddElement(T, Ips.Name, "10.96.0.9 . tcp . 9", "accept").DeleteElement(T, Ips.Name, "10.96.0.250 . tcp . 1");
        yield return new NftTransaction().AddElement(T, Ips.Name, "10.96.0.1 . tcp . 443", "goto reject-chain");
        yield return new NftTransaction().Delete(T, Reject);
        yield return new NftTransaction().Add(T, Pre with { Hook = Pre.Hook! with { Priority = -99 } });
        yield return new NftTransaction().AddRule(T, Fwd.Name, "jump nowhere");
        yield return new NftTransaction().Delete(T, Blocks);
        yield return new NftTransaction().Flush(new NftTable(NftFamily.Ip, "pn-none"));
    }

    [PrivilegedFact]
    public void SameTransactions_SameRuleset_AsTheKernel()
    {
        using var scope = new NetnsScope();
        var ns = scope.Create("nft");
        var kernel = new NftRunner(ns.Netns);
        var fake = new FakeNftRunner();
        foreach (var tx in Steps())
        {
            kernel.Apply(tx);
            fake.Apply(tx);
            Assert.Equal(KernelNftDump.Read(ns.Netns), fake.Dump());
        }
        // Flushing a table keeps the sets' elements: the step above must not have emptied them.
        Assert.Contains("10.96.0.3 . tcp . 80 : goto reject-chain", fake.Dump());
        Assert.DoesNotContain("dnat", fake.Dump());
    }

    [PrivilegedFact]
    public void RefusedTransactions_AreRefusedByBoth_AndChangeNothing()
    {
        using var scope = new NetnsScope();
        var ns = scope.Create("nft");
        var kernel = new NftRunner(ns.Netns);
        var fake = new FakeNftRunner();
        foreach (var tx in Steps().Take(1))
        {
            kernel.Apply(tx);
            fake.Apply(tx);
        }
        var before = fake.Dump();
        foreach (var tx in Refused())
        {
            Assert.Throws<NftException>(() => kernel.Apply(tx));
            Assert.Throws<NftStateException>(() => fake.Apply(tx));
            Assert.Equal(before, fake.Dump());
            Assert.Equal(before, KernelNftDump.Read(ns.Netns));
        }
    }

    /// <summary>The in-process runner (libnftables) leaves what nft -f leaves, refuses what it refuses, and only in its own namespace.</summary>
    [PrivilegedFact]
    public void LibNftRunner_ActsLikeNftF_InItsOwnNamespaceOnly()
    {
        using var scope = new NetnsScope();
        var viaLibrary = scope.Create("lib");
        var viaProcess = scope.Create("proc");
        using var library = LibNftRunner.TryCreate(viaLibrary.Netns) ?? throw new InvalidOperationException("libnftables did not load");
        var process = new NftRunner(viaProcess.Netns);
        using var root = Netns.OpenCurrent();
        var rootBefore = Nft.ListText(root);
        foreach (var tx in Steps())
        {
            library.Apply(tx);
            process.Apply(tx);
            Assert.Equal(KernelNftDump.Read(viaProcess.Netns), KernelNftDump.Read(viaLibrary.Netns));
        }
        var e = Assert.Throws<NftException>(() => library.Apply(Refused().First()));
        Assert.Contains("No such file or directory", e.Message);
        Assert.Equal(KernelNftDump.Read(viaProcess.Netns), KernelNftDump.Read(viaLibrary.Netns));
        Assert.Equal(rootBefore, Nft.ListText(root));
    }
}
