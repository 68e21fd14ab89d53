using Podnet.Core.Nft;

namespace Podnet.Core.Tests.Nft;

public sealed class NftStateTests
{
    private static readonly NftTable T = new(NftFamily.Inet, "t");
    private static readonly NftChain Pre = new("pre", new NftHookSpec(NftChainType.Nat, NftHook.Prerouting, -100));
    private static readonly NftChain Svc = new("svc");
    private static readonly NftSet Ips = new("ips", "ipv4_addr . inet_proto . inet_service", Value: "verdict");
    private static readonly NftSet Nets = new("nets", "ipv4_addr", Flags: NftSetFlags.Interval);

    private static NftState Base()
    {
        var state = new NftState();
        state.Apply(new NftTransaction().Add(T).Add(T, Pre).Add(T, Svc).Add(T, Ips).Add(T, Nets)
            .AddRule(T, Pre.Name, "ip daddr . meta l4proto . th dport vmap @ips")
            .AddRule(T, Svc.Name, "meta l4proto tcp dnat ip to 10.244.1.2:80")
            .AddElement(T, Ips.Name, "10.96.0.1 . tcp . 80", "goto svc")
            .AddElement(T, Nets.Name, "10.244.0.0/16"));
        return state;
    }

    [Fact]
    public void Dump_IsSortedAndShowsEverything()
    {
        Assert.Equal("""
            table inet t
              chain pre { type nat hook prerouting priority -100 ; policy accept ; }
                ip daddr . meta l4proto . th dport vmap @ips
              chain svc
                meta l4proto tcp dnat ip to 10.244.1.2:80
              map ips { type ipv4_addr . inet_proto . inet_service : verdict ; }
                10.96.0.1 . tcp . 80 : goto svc
              set nets { type ipv4_addr ; flags interval ; }
                10.244.0.0/16

            """, Base().Dump());
    }

    [Fact]
    public void AddingWhatExists_ChangesNothing()
    {
        var state = Base();
        var before = state.Dump();
        state.Apply(new NftTransaction().Add(T).Add(T, Pre).Add(T, Svc).Add(T, Ips).AddElement(T, Ips.Name, "10.96.0.1  .  tcp . 80", "goto svc").AddElement(T, Nets.Name, "10.244.0.0/16"));
        Assert.Equal(before, state.Dump());
    }

    [Fact]
    public void FlushTable_EmptiesChainsButKeepsElements()
    {
        var state = Base();
        state.Apply(new NftTransaction().Flush(T));
        var dump = state.Dump();
        Assert.DoesNotContain("dnat", dump);
        Assert.Contains("10.96.0.1 . tcp . 80 : goto svc", dump);
        Assert.Contains("10.244.0.0/16", dump);
    }

    [Fact]
    public void FlushSet_EmptiesIt()
    {
        var state = Base();
        state.Apply(new NftTransaction().Flush(T, Nets));
        Assert.Empty(state.Table(T)!.Sets["nets"].Elements);
    }

    [Fact]
    public void AFailingCommand_LeavesTheStateAsItWas_AndNamesItsLine()
    {
        var state = Base();
        var before = state.Dump();
        var e = Assert.Throws<NftStateException>(() => state.Apply(new NftTransaction()
            .AddElement(T, Nets.Name, "10.1.0.0/16")
            .DeleteElement(T, Nets.Name, "10.9.0.0/16")));
        Assert.Equal(2, e.Line);
        Assert.Contains("No such file or directory", e.Message);
        Assert.Equal(before, state.Dump());
    }

    [Theory]
    [InlineData("delete chain referenced by a map element")]
    [InlineData("delete set referenced by a rule")]
    [InlineData("map element with another value")]
    [InlineData("chain with another hook")]
    [InlineData("set with another type")]
    [InlineData("rule jumping to a missing chain")]
    [InlineData("rule using a missing set")]
    [InlineData("element of a missing set")]
    [InlineData("flush of a missing table")]
    [InlineData("map element without a value")]
    public void KernelErrors_AreErrorsHereToo(string what)
    {
        var state = Base();
        var tx = what switch
        {
            "delete chain referenced by a map element" => new NftTransaction().Delete(T, Svc),
            "delete set referenced by a rule" => new NftTransaction().Delete(T, Ips),
            "map element with another value" => new NftTransaction().AddElement(T, Ips.Name, "10.96.0.1 . tcp . 80", "drop"),
            "chain with another hook" => new NftTransaction().Add(T, Pre with { Hook = Pre.Hook! with { Priority = -99 } }),
            "set with another type" => new NftTransaction().Add(T, Nets with { Type = "ipv6_addr" }),
            "rule jumping to a missing chain" => new NftTransaction().AddRule(T, Svc.Name, "jump nowhere"),
            "rule using a missing set" => new NftTransaction().AddRule(T, Svc.Name, "ip saddr @nowhere accept"),
            "element of a missing set" => new NftTransaction().AddElement(T, "nowhere", "1.2.3.4"),
            "flush of a missing table" => new NftTransaction().Flush(new NftTable(NftFamily.Ip, "nowhere")),
            _ => new NftTransaction().AddElement(T, Ips.Name, "10.96.0.2 . tcp . 80"),
        };
        Assert.Throws<NftStateException>(() => state.Apply(tx));
    }

    [Fact]
    public void DeletingWhatIsNoLongerReferenced_Works()
    {
        var state = Base();
        state.Apply(new NftTransaction().DeleteElement(T, Ips.Name, "10.96.0.1 . tcp . 80").Delete(T, Svc).Flush(T, Pre).Delete(T, Ips).Delete(T));
        Assert.Empty(state.Tables);
    }
}
