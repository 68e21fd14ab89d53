using System.Collections.Concurrent;
using Podnet.Cni.Config;
using Podnet.Cni.Ipam;
using Podnet.Cni.Spec;

namespace Podnet.Cni.Tests.Ipam;

/// <summary>The allocator against its real on-disk store in a temp directory.</summary>
public sealed class PodnetIpamTests : IDisposable
{
    private readonly TestEnv.TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private IpamConfig Config(string ranges = """[[{"subnet":"10.0.0.0/29"}]]""", string extra = "", CniEnvironment? env = null) =>
        IpamConfigParser.Parse(NetConfParser.Decode($$$"""{"cniVersion":"1.1.0","name":"t","ipam":{"ranges":{{{ranges}}},"dataDir":"{{{_dir.Path}}}"{{{extra}}}}}"""), env ?? TestEnv.Of());

    private PodnetIpam Ipam(string cid, IpamConfig? config = null, string ifName = "eth0") => new(config ?? Config(), cid, ifName);

    [Fact]
    public void Add_HandsOutAddressesInOrder_WithGatewayAndRoutes()
    {
        var config = Config(extra: ""","routes":[{"dst":"0.0.0.0/0"}]""");
        var first = Ipam("a", config).Add();
        Assert.Equal("10.0.0.2/29", first.Ips![0].Address);
        Assert.Equal("10.0.0.1", first.Ips[0].Gateway);
        Assert.Null(first.Ips[0].Interface);
        Assert.Equal("0.0.0.0/0", Assert.Single(first.Routes!).Dst);
        Assert.Equal("10.0.0.3/29", Ipam("b", config).Add().Ips![0].Address);
        Assert.Equal("a\r\neth0", File.ReadAllText(Path.Combine(_dir.Path, "t", "10.0.0.2")));
    }

    [Fact]
    public void ContainerIdTooLongForAFileName_IsAddedAndDeleted_UnderAShortenedName()
    {
        // The spec sets no limit on CNI_CONTAINERID; a file name has 255 bytes (found by the CNI fuzz run).
        var id = new string('c', 300);
        Assert.Equal("10.0.0.2/29", Ipam(id).Add().Ips![0].Address);
        var record = Assert.Single(Directory.GetFiles(Path.Combine(_dir.Path, "t", "attachments")));
        Assert.StartsWith(new string('c', 180) + "~", Path.GetFileName(record));
        Assert.Equal(CniErrorCode.DuplicateAllocation, Assert.Throws<CniException>(() => Ipam(id).Add()).Code);
        Ipam(id).Del();
        Assert.Empty(Directory.GetFiles(Path.Combine(_dir.Path, "t", "attachments")));
        Assert.Null(new AddressStore(Path.Combine(_dir.Path, "t")).OwnerOf(System.Net.IPAddress.Parse("10.0.0.2")));
    }

    [Fact]
    public void SecondAdd_ForSameContainerAndInterface_IsRefused_OtherInterfaceIsNot()
    {
        Ipam("a").Add();
        var e = Assert.Throws<CniException>(() => Ipam("a").Add());
        Assert.Equal(CniErrorCode.DuplicateAllocation, e.Code);
        Assert.Contains("10.0.0.2", e.Message);
        Assert.Equal("10.0.0.3/29", Ipam("a", ifName: "net1").Add().Ips![0].Address);
    }

    [Fact]
    public void Exhaustion_IsClear_AndNothingLeaks()
    {
        for (var i = 0; i < 5; i++)
        {
            Ipam($"c{i}").Add();
        }
        var e = Assert.Throws<CniException>(() => Ipam("late").Add());
        Assert.Equal(CniErrorCode.RangeExhausted, e.Code);
        Assert.Contains("all 5 addresses are reserved", e.Message);
        Assert.False(File.Exists(Path.Combine(_dir.Path, "t", "attachments", "late@eth0")));
        var status = Assert.Throws<CniException>(() => Ipam("x").Status());
        Assert.Equal(CniErrorCode.NotAvailable, status.Code);
        Ipam("c2").Del();
        Ipam("x").Status();
        Assert.Equal("10.0.0.4/29", Ipam("late").Add().Ips![0].Address);
    }

    [Fact]
    public void Del_IsIdempotent_AndUnknownContainersAreFine()
    {
        Ipam("a").Add();
        Assert.Equal("10.0.0.2", Assert.Single(Ipam("a").Del()).ToString());
        Assert.Empty(Ipam("a").Del());
        Assert.Empty(Ipam("never").Del());
        Assert.Empty(new PodnetIpam(Config() with { DataDir = Path.Combine(_dir.Path, "missing") }, "a", "eth0").Del());
    }

    [Fact]
    public void RoundRobin_DoesNotReuseAReleasedAddressAtOnce()
    {
        Ipam("a").Add();
        Ipam("a").Del();
        Assert.Equal("10.0.0.3/29", Ipam("b").Add().Ips![0].Address);
    }

    [Fact]
    public void DualStack_GivesOneAddressPerRangeSet_AndReleasesBoth()
    {
        var config = Config("""[[{"subnet":"10.0.0.0/29"}],[{"subnet":"fd00::/120"}]]""");
        var r = Ipam("a", config).Add();
        Assert.Equal(["10.0.0.2/29", "fd00::2/120"], r.Ips!.Select(i => i.Address));
        Assert.Equal(2, Ipam("a", config).Del().Count);
    }

    [Fact]
    public void FailureInSecondSet_ReleasesTheFirst()
    {
        var config = Config("""[[{"subnet":"10.0.0.0/29"}],[{"subnet":"fd00::/126","rangeEnd":"fd00::2"}]]""");
        Ipam("a", config).Add();
        var e = Assert.Throws<CniException>(() => Ipam("b", config).Add());
        Assert.Equal(CniErrorCode.RangeExhausted, e.Code);
        Assert.Null(new AddressStore(config.NetworkDirectory).OwnerOf(System.Net.IPAddress.Parse("10.0.0.3")));
    }

    [Fact]
    public void RequestedIp_IsHonoured_OrRefusedWhenTaken()
    {
        var env = TestEnv.Of(args: "IP=10.0.0.5");
        Assert.Equal("10.0.0.5/29", Ipam("a", Config(env: env)).Add().Ips![0].Address);
        var e = Assert.Throws<CniException>(() => new PodnetIpam(Config(env: env), "b", "eth0").Add());
        Assert.Contains("10.0.0.5 is already reserved", e.Message);
        Assert.Equal(7, Assert.Throws<CniException>(() => new PodnetIpam(Config(env: TestEnv.Of(args: "IP=10.9.9.9")), "c", "eth0").Add()).Code);
    }

    [Fact]
    public void Check_KnowsWhatIsReserved()
    {
        Ipam("a").Add();
        Ipam("a").Check(null);
        Assert.Equal(CniErrorCode.UnknownContainer, Assert.Throws<CniException>(() => Ipam("b").Check(null)).Code);
        File.Delete(Path.Combine(_dir.Path, "t", "10.0.0.2"));
        Assert.Equal(CniErrorCode.CheckFailed, Assert.Throws<CniException>(() => Ipam("a").Check(null)).Code);
    }

    [Fact]
    public void Check_WithPrevResultAddresses_WantsExactlyOursInOurRanges()
    {
        Ipam("a").Add();
        Ipam("a").Check([System.Net.IPAddress.Parse("10.0.0.2"), System.Net.IPAddress.Parse("127.0.0.1")]); // 127.0.0.1: another plugin's
        var missing = Assert.Throws<CniException>(() => Ipam("a").Check([System.Net.IPAddress.Parse("127.0.0.1")]));
        Assert.Equal(CniErrorCode.CheckFailed, missing.Code);
        Assert.Contains("prevResult does not give it", missing.Message);
        var foreign = Assert.Throws<CniException>(() => Ipam("a").Check([System.Net.IPAddress.Parse("10.0.0.2"), System.Net.IPAddress.Parse("10.0.0.5")]));
        Assert.Contains("10.0.0.5, which is not reserved", foreign.Message);
    }

    [Fact]
    public void Gc_ReleasesEverythingNotValid()
    {
        Ipam("keep").Add();
        Ipam("drop1").Add();
        Ipam("drop2", ifName: "net1").Add();
        var released = Ipam("x").Gc([new CniAttachment { ContainerId = "keep", IfName = "eth0" }]);
        Assert.Equal(2, released.Count);
        Ipam("keep").Check(null);
        Assert.Equal(CniErrorCode.UnknownContainer, Assert.Throws<CniException>(() => Ipam("drop1").Check(null)).Code);
        Assert.Equal(["keep@eth0"], Directory.GetFiles(Path.Combine(_dir.Path, "t", "attachments")).Select(Path.GetFileName));
    }

    [Fact]
    public void Add_WhileGcHoldsTheStore_IsTryAgainLater()
    {
        var config = Config(extra: ""","lockTimeoutMs":50""");
        Directory.CreateDirectory(config.NetworkDirectory);
        using (Podnet.Kernel.FileLock.Acquire(Path.Combine(config.NetworkDirectory, "lock"), exclusive: true, TimeSpan.Zero))
        {
            var e = Assert.Throws<CniException>(() => Ipam("a", config).Add());
            Assert.Equal(CniErrorCode.TryAgainLater, e.Code);
            Assert.Contains("GC", e.Message);
        }
        Ipam("a", config).Add();
    }

    [Fact]
    public void ResolvConf_BecomesTheResultsDns()
    {
        var file = Path.Combine(_dir.Path, "resolv.conf");
        File.WriteAllText(file, "# comment\nnameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local\noptions ndots:5\ndomain cluster.local\n");
        var dns = Ipam("a", Config(extra: $$""","resolvConf":"{{file}}" """)).Add().Dns!;
        Assert.Equal(["10.96.0.10"], dns.Nameservers!);
        Assert.Equal(["default.svc.cluster.local", "svc.cluster.local"], dns.Search!);
        Assert.Equal(["ndots:5"], dns.Options!);
        Assert.Equal("cluster.local", dns.Domain);
    }

    [Fact]
    public void Add_DoesNotWaitForAnotherAddInFlight()
    {
        var config = Config(extra: ""","lockTimeoutMs":0""");
        Directory.CreateDirectory(config.NetworkDirectory);
        // Another ADD holds the store (shared): this one must not wait at all.
        using (Podnet.Kernel.FileLock.Acquire(Path.Combine(config.NetworkDirectory, "lock"), exclusive: false, TimeSpan.Zero))
        {
            Assert.Equal("10.0.0.2/29", Ipam("a", config).Add().Ips![0].Address);
            Assert.Single(Ipam("a", config).Del());
        }
    }

    [Fact]
    public void ConcurrentAdds_NeverShareAnAddress()
    {
        var config = Config("""[[{"subnet":"10.1.0.0/24"}]]""");
        var addresses = new ConcurrentBag<string>();
        Parallel.For(0, 100, new ParallelOptions { MaxDegreeOfParallelism = 16 }, i => addresses.Add(new PodnetIpam(config, $"p{i}", "eth0").Add().Ips![0].Address));
        Assert.Equal(100, addresses.Distinct().Count());
    }
}
