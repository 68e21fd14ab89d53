using Podnet.Kernel;

namespace Podnet.Kernel.IntegrationTests;

public sealed class NetnsTests
{
    [PrivilegedFact]
    public void Create_ShowsInIpNetnsList_AndDeleteRemovesIt()
    {
        var name = "pn-t" + Guid.NewGuid().ToString("N")[..8] + "-list";
        using (Netns.Create(name))
        {
            var listed = Tools.Run(null, "ip", "netns", "list").StandardOutput;
            Assert.Contains(name, listed);
            Assert.Contains(name, Netns.List());
        }
        Assert.True(Netns.Delete(name));
        Assert.DoesNotContain(name, Tools.Run(null, "ip", "netns", "list").StandardOutput);
        Assert.False(Netns.Delete(name));
    }

    [PrivilegedFact]
    public void InNetworkNamespaces_FindsAProcessInsideByTheNamespacesIdentity_AndNotOnesOutside()
    {
        using var scope = new NetnsScope();
        var ns = scope.Create("who");
        var identity = ns.Netns.Identity;
        Assert.Matches(@"^net:\[\d+\]$", identity);
        Assert.True(ns.Netns.IsNetworkNamespace);
        using (var notOne = Netns.Open("/dev/null"))
        {
            Assert.False(notOne.IsNetworkNamespace);
        }
        Assert.NotEqual(new FileInfo("/proc/thread-self/ns/net").LinkTarget, identity);
        using var inside = ProcessSignals.StartDetached(ns.Netns, "/bin/sleep", ["60"]);
        using var outside = ProcessSignals.StartDetached(null, "/bin/sleep", ["60"]);
        try
        {
            var found = ProcessSignals.InNetworkNamespaces(new HashSet<string> { identity });
            Assert.Contains(inside.Id, found);
            Assert.DoesNotContain(outside.Id, found);
        }
        finally
        {
            inside.Kill();
            outside.Kill();
        }
    }

    [PrivilegedFact]
    public void Create_TwiceWithOneName_FailsWithEexist()
    {
        using var scope = new NetnsScope();
        var ns = scope.Create("dup");
        var e = Assert.Throws<KernelException>(() => Netns.Create(ns.Name));
        Assert.True(e.IsExists, e.Message);
        Assert.Contains(ns.Name, e.Message);
    }

    [PrivilegedFact]
    public void Run_ExecutesInsideTheNamespace_AndLeavesTheCallerWhereItWas()
    {
        using var scope = new NetnsScope();
        var ns = scope.Create("run");
        static string Inode() => new FileInfo("/proc/thread-self/ns/net").LinkTarget ?? "";
        var outside = Inode();
        var inside = ns.Netns.Run(Inode);
        var expected = new FileInfo(ns.Netns.Path).Exists ? Tools.Run(ns.Netns, "readlink", "/proc/self/ns/net").StandardOutput.Trim() : "";
        Assert.NotEqual(outside, inside);
        Assert.Equal(expected, inside);
        Assert.Equal(outside, Inode());
    }

    [PrivilegedFact]
    public void Run_PropagatesExceptionsFromTheWork()
    {
        using var scope = new NetnsScope();
        var ns = scope.Create("throw");
        var e = Assert.Throws<InvalidOperationException>(() => ns.Netns.Run(() => throw new InvalidOperationException("boom")));
        Assert.Equal("boom", e.Message);
    }

    [PrivilegedFact]
    public void Sysctl_IsPerNamespace()
    {
        using var scope = new NetnsScope();
        var a = scope.Create("a");
        var b = scope.Create("b");
        Sysctl.Set(a.Netns, "net.ipv4.ip_forward", "1");
        Assert.Equal("1", Sysctl.Get(a.Netns, "net.ipv4.ip_forward"));
        Assert.Equal("0", Sysctl.Get(b.Netns, "net.ipv4.ip_forward"));
        Assert.Equal("1", Tools.Run(a.Netns, "sysctl", "-n", "net.ipv4.ip_forward").StandardOutput.Trim());
    }

    [PrivilegedFact]
    public void NewNamespace_HasBridgeNetfilterCallsOn()
    {
        // A fact of this machine that the planners rely on (rules keyed by address, not interface).
        using var scope = new NetnsScope();
        var ns = scope.Create("brnf");
        Assert.Equal("1", Sysctl.Get(ns.Netns, "net.bridge.bridge-nf-call-iptables"));
    }

    [PrivilegedFact]
    public void SysctlInCurrentNamespace_ActsOnTheCallingThreadsNamespace()
    {
        using var scope = new NetnsScope();
        var a = scope.Create("cura");
        var b = scope.Create("curb");
        a.Netns.Run(() =>
        {
            Assert.Equal("0", Sysctl.GetInCurrentNamespace("net.ipv4.ip_forward"));
            Sysctl.SetInCurrentNamespace("net.ipv4.ip_forward", "1");
        });
        Assert.Equal("1", Sysctl.Get(a.Netns, "net.ipv4.ip_forward"));
        Assert.Equal("0", Sysctl.Get(b.Netns, "net.ipv4.ip_forward"));
    }
}
