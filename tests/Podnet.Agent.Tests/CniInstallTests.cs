using System.Net;
using System.Text.Json.Nodes;
using Podnet.Agent.Cluster;

namespace Podnet.Agent.Tests;

/// <summary>The cluster-mode install of podnet-cni and the node's conflist: the plan, and the installer on temporary directories.</summary>
public sealed class CniInstallTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("podnet-cni-install-").FullName;

    private string Source => Path.Combine(_root, "image");

    private string Bin => Path.Combine(_root, "host", "opt", "cni", "bin");

    private string Conf => Path.Combine(_root, "host", "etc", "cni", "net.d");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private CniInstallRequest Request(string sourceHash = "aa", params string[] cidrs) => new()
    {
        SourceDirectory = Source,
        SourceHash = sourceHash,
        BinDirectory = Bin,
        ConfDirectory = Conf,
        PodCidrs = (cidrs.Length == 0 ? ["10.244.3.0/24"] : cidrs).Select(IPNetwork.Parse).ToArray(),
        IpamDataDirectory = "/var/lib/podnet/agent/ipam",
    };

    private static readonly CniHostState Empty = new(new Dictionary<string, string>(), new Dictionary<string, string>(), []);

    [Fact]
    public void Install_OnAnEmptyHost_CopiesThePlugin_LinksIpam_WritesTheConflist()
    {
        var plan = CniInstallPlanner.Install(Request(), Empty);
        Assert.Equal(3, plan.Steps.Count);
        Assert.Equal(new CniInstallStep.Copy(Path.Combine(Source, "podnet-cni"), Path.Combine(Bin, "podnet-cni")), plan.Steps[0]);
        Assert.Equal(new CniInstallStep.Link(Path.Combine(Bin, "podnet-ipam"), "podnet-cni"), plan.Steps[1]);
        var write = Assert.IsType<CniInstallStep.Write>(plan.Steps[2]);
        Assert.Equal(Path.Combine(Conf, "05-podnet.conflist"), write.Path);
        var config = JsonNode.Parse(write.Content)!;
        var ipam = config["plugins"]![0]!["ipam"]!;
        Assert.Equal("10.244.3.0/24", (string?)ipam["ranges"]![0]![0]!["subnet"]);
        Assert.Equal("/var/lib/podnet/agent/ipam", (string?)ipam["dataDir"]);
        Assert.Empty(plan.ShadowingConfigs);
    }

    [Fact]
    public void Install_WhenAllIsInPlace_PlansNothing_AndAChangedPluginOrCidrIsRedone()
    {
        var content = Assert.IsType<CniInstallStep.Write>(CniInstallPlanner.Install(Request(), Empty).Steps[2]).Content;
        var state = new CniHostState(
            new Dictionary<string, string> { [Path.Combine(Bin, "podnet-cni")] = "aa", [Path.Combine(Conf, "05-podnet.conflist")] = CniInstallPlanner.Hash(content) },
            new Dictionary<string, string> { [Path.Combine(Bin, "podnet-ipam")] = "podnet-cni" },
            ["05-podnet.conflist"]);
        Assert.Empty(CniInstallPlanner.Install(Request(), state).Steps);

        var upgraded = CniInstallPlanner.Install(Request(sourceHash: "bb"), state).Steps;
        Assert.IsType<CniInstallStep.Copy>(Assert.Single(upgraded));
        var dual = CniInstallPlanner.Install(Request("aa", "10.244.3.0/24", "fd00:10:244:3::/64"), state).Steps;
        Assert.Contains("fd00:10:244:3::/64", Assert.IsType<CniInstallStep.Write>(Assert.Single(dual)).Content);
    }

    [Fact]
    public void Install_ReportsConfigsThatSortFirst_LeavesThemAlone()
    {
        var state = new CniHostState(new Dictionary<string, string>(), new Dictionary<string, string>(), ["10-containerd-net.conflist", "00-other.conf", "01-x.json", "README", "04-y.conflist.bak"]);
        var plan = CniInstallPlanner.Install(Request(), state);
        Assert.Equal(["00-other.conf", "01-x.json"], plan.ShadowingConfigs);
        Assert.DoesNotContain(plan.Steps, s => s is CniInstallStep.Remove);
    }

    [Fact]
    public void Uninstall_RemovesOnlyTheConflist_AndNothingWhenItIsGone()
    {
        var config = Path.Combine(Conf, "05-podnet.conflist");
        var state = new CniHostState(new Dictionary<string, string> { [config] = "x", [Path.Combine(Bin, "podnet-cni")] = "aa" }, new Dictionary<string, string>(), ["05-podnet.conflist"]);
        Assert.Equal([new CniInstallStep.Remove(config)], CniInstallPlanner.Uninstall(Conf, state));
        Assert.Empty(CniInstallPlanner.Uninstall(Conf, Empty));
    }

    [Fact]
    public void Installer_OnTempDirectories_InstallsOnce_ThenReadsBackAsInPlace_AndUninstalls()
    {
        Directory.CreateDirectory(Source);
        File.WriteAllText(Path.Combine(Source, "podnet-cni"), "#!/bin/sh\necho plugin\n");
        Directory.CreateDirectory(Conf);
        File.WriteAllText(Path.Combine(Conf, "99-loopback.conf"), "{}");
        var request = Request(CniInstaller.HashOf(Path.Combine(Source, "podnet-cni")));

        var plan = CniInstallPlanner.Install(request, CniInstaller.Read(Bin, Conf));
        CniInstaller.Apply(plan.Steps);

        Assert.Equal("#!/bin/sh\necho plugin\n", File.ReadAllText(Path.Combine(Bin, "podnet-cni")));
        Assert.True(OperatingSystem.IsWindows() || File.GetUnixFileMode(Path.Combine(Bin, "podnet-cni")).HasFlag(UnixFileMode.UserExecute));
        Assert.Equal("podnet-cni", new FileInfo(Path.Combine(Bin, "podnet-ipam")).LinkTarget);
        Assert.Equal("#!/bin/sh\necho plugin\n", File.ReadAllText(Path.Combine(Bin, "podnet-ipam")));
        Assert.Equal(["05-podnet.conflist", "99-loopback.conf"], Directory.GetFiles(Conf).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        Assert.Empty(CniInstallPlanner.Install(request, CniInstaller.Read(Bin, Conf)).Steps);

        Assert.Single(ClusterAgentHost.Uninstall(Conf));
        Assert.Equal(["99-loopback.conf"], Directory.GetFiles(Conf).Select(Path.GetFileName));
        Assert.True(File.Exists(Path.Combine(Bin, "podnet-cni")));
        Assert.Empty(ClusterAgentHost.Uninstall(Conf));
    }
}
