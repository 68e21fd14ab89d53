using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Podnet.Cni.IntegrationTests.Infrastructure;

namespace Podnet.Cni.IntegrationTests;

public sealed class ScaleAndLifecycleTests
{
    [PrivilegedFact]
    public void FiftyParallelAdds_GetUniqueAddresses_AndFiftyParallelDelsLeaveNothing()
    {
        using var lab = new CniLab();
        var pods = Enumerable.Range(0, 50).Select(i => lab.NewPod($"p{i}")).ToArray();
        var conf = lab.Conf();
        var addresses = new ConcurrentDictionary<int, string>();
        Parallel.For(0, pods.Length, new ParallelOptions { MaxDegreeOfParallelism = 50 }, i =>
            addresses[i] = (string)lab.Add(pods[i], conf, $"c{i}")["ips"]![0]!["address"]!);

        Assert.Equal(50, addresses.Values.Distinct().Count());
        Assert.Equal(50, lab.Reservations().Length);
        Assert.Equal(50, Tools.Bridge(lab.Node.Netns, "link", "show", "master", "pn0").Count);
        foreach (var (i, address) in addresses)
        {
            var onLink = Tools.Ip(pods[i].Netns, "addr", "show", "eth0")[0]!["addr_info"]!.AsArray().Select(a => $"{a!["local"]}/{a["prefixlen"]}");
            Assert.Contains(address, onLink);
        }
        Assert.True(lab.Exec(pods[0], "ping", "-c1", "-W2", addresses[49].Split('/')[0]).Success);

        Parallel.For(0, pods.Length, new ParallelOptions { MaxDegreeOfParallelism = 50 }, i => lab.Del(pods[i], conf, $"c{i}"));
        Assert.Empty(lab.Reservations());
        Assert.Empty(Tools.Ip(lab.Node.Netns, "link", "show", "type", "veth"));
        Assert.Empty(Directory.GetFiles(Path.Combine(lab.DataDir, "t", "attachments")));
    }

    [PrivilegedFact]
    public void Exhaustion_FailsClearly_LeaksNothing_AndRecoversAfterDel()
    {
        using var lab = new CniLab();
        var conf = lab.Conf(ranges: """[[{"subnet":"10.99.0.0/29"}]]""");
        var pods = Enumerable.Range(0, 6).Select(i => lab.NewPod($"x{i}")).ToArray();
        for (var i = 0; i < 5; i++)
        {
            lab.Add(pods[i], conf, $"c{i}");
        }
        var error = lab.Run("ADD", conf, "c5", pods[5].Netns.Path).Error(102);
        Assert.Contains("no free address left in network t", (string?)error["msg"]);
        Assert.Contains("10.99.0.0/29", (string?)error["msg"]);
        Assert.Empty(Tools.Ip(pods[5].Netns, "link", "show", "type", "veth"));
        Assert.Equal(5, Tools.Ip(lab.Node.Netns, "link", "show", "type", "veth").Count);

        lab.Del(pods[2], conf, "c2");
        Assert.Equal("10.99.0.4/29", (string?)lab.Add(pods[5], conf, "c5")["ips"]![0]!["address"]);
    }

    [PrivilegedTheory]
    [InlineData("cni.dev/valid-attachments")]
    [InlineData("cni.dev/attachments")]
    public void Gc_ReleasesEverythingNotListed(string key)
    {
        using var lab = new CniLab();
        var conf = lab.Conf("1.1.0");
        var pods = Enumerable.Range(0, 3).Select(i => lab.NewPod($"g{i}")).ToArray();
        for (var i = 0; i < 3; i++)
        {
            lab.Add(pods[i], conf, $"c{i}");
        }
        var valid = new JsonArray(new JsonObject { ["containerID"] = "c1", ["ifname"] = "eth0" });
        lab.Run("GC", CniLab.With(conf, key, valid)).Ok();
        Assert.Equal(["10.99.0.3"], lab.Reservations());
        lab.Run("CHECK", CniLab.WithPrevResult(conf, JsonNode.Parse(lab.Run("ADD", conf, "c1", pods[1].Netns.Path, "net9").Stdout)!), "c1", pods[1].Netns.Path, "net9").Ok();
        lab.Run("GC", conf).Error(7); // without a list GC would release everything: refuse
    }

    /// <summary>GC removes what ADD made for the attachments not listed, also while their namespaces live on.</summary>
    [PrivilegedFact]
    public void Gc_RemovesTheVethPairsOfUnlistedAttachments_FromTheNodeAndTheLivePods()
    {
        using var lab = new CniLab();
        var conf = lab.Conf("1.1.0", extra: ""","ipMasq":true""").Replace("\"ipMasq\":false,", "", StringComparison.Ordinal);
        var pods = Enumerable.Range(0, 3).Select(i => lab.NewPod($"v{i}")).ToArray();
        var hostVeths = new string[3];
        for (var i = 0; i < 3; i++)
        {
            hostVeths[i] = (string)lab.Add(pods[i], conf, $"c{i}")["interfaces"]![1]!["name"]!;
        }
        lab.Add(pods[0], conf, "c0", "net1");

        lab.Run("GC", CniLab.With(conf, "cni.dev/valid-attachments", new JsonArray(new JsonObject { ["containerID"] = "c1", ["ifname"] = "eth0" }))).Ok();

        Assert.Equal([hostVeths[1]], Tools.Ip(lab.Node.Netns, "link", "show", "type", "veth").Select(l => (string)l!["ifname"]!));
        Assert.Empty(Tools.Ip(pods[0].Netns, "link", "show", "type", "veth"));
        Assert.Empty(Tools.Ip(pods[2].Netns, "link", "show", "type", "veth"));
        Assert.Equal(["eth0"], Tools.Ip(pods[1].Netns, "link", "show", "type", "veth").Select(l => (string)l!["ifname"]!));
        Assert.Equal(["10.99.0.3"], lab.Reservations());
        var masquerade = Podnet.Kernel.Nft.ListText(lab.Node.Netns);
        Assert.Contains("10.99.0.3", masquerade);
        Assert.DoesNotContain("10.99.0.2", masquerade);
        Assert.DoesNotContain("10.99.0.4", masquerade);
        lab.Run("CHECK", CniLab.WithPrevResult(conf, lab.Add(pods[2], conf, "c2")), "c2", pods[2].Netns.Path).Ok();
        Assert.True(lab.Exec(pods[1], "ping", "-c1", "-W2", "10.99.0.1").Success);
    }

    /// <summary>The injected failure: one reservation file made immutable (chattr +i), so GC cannot remove it.</summary>
    [PrivilegedFact]
    public void Gc_ContinuesPastAnError_AndReportsIt()
    {
        using var lab = new CniLab();
        var conf = lab.Conf("1.1.0");
        var pods = Enumerable.Range(0, 3).Select(i => lab.NewPod($"e{i}")).ToArray();
        for (var i = 0; i < 3; i++)
        {
            lab.Add(pods[i], conf, $"c{i}");
        }
        var stuck = Path.Combine(lab.DataDir, "t", "10.99.0.3");
        Assert.True(Tools.Run(null, "chattr", "+i", stuck).Success, "chattr +i needs an ext4-like /tmp and CAP_LINUX_IMMUTABLE");
        try
        {
            var error = lab.Run("GC", CniLab.With(conf, "cni.dev/valid-attachments", new JsonArray())).Error(5);
            Assert.Contains("release 10.99.0.3", (string?)error["msg"]);
            Assert.Equal(["10.99.0.3"], lab.Reservations());
        }
        finally
        {
            Tools.Run(null, "chattr", "-i", stuck);
        }
        lab.Run("GC", CniLab.With(conf, "cni.dev/valid-attachments", new JsonArray())).Ok();
        Assert.Empty(lab.Reservations());
    }

    [PrivilegedFact]
    public void StandalonePodnetIpam_IsHostLocalCompatible()
    {
        using var lab = new CniLab();
        var conf = $$$"""{"cniVersion":"1.0.0","name":"sa","ipam":{"type":"podnet-ipam","ranges":[[{"subnet":"10.97.0.0/24"}],[{"subnet":"fd00:97::/64"}]],"routes":[{"dst":"0.0.0.0/0"}],"dataDir":"{{{lab.DataDir}}}"}}""";
        var result = lab.Run("ADD", conf, "c1", "/run/netns/unused", binary: PluginBinary.Ipam).Ok();
        Assert.Equal(["10.97.0.2/24", "fd00:97::2/64"], result["ips"]!.AsArray().Select(i => (string)i!["address"]!));
        Assert.Null(result["interfaces"]);
        Assert.Null(result["ips"]![0]!["interface"]);
        Assert.Equal("c1\r\neth0", File.ReadAllText(Path.Combine(lab.DataDir, "sa", "10.97.0.2")));
        lab.Run("ADD", conf, "c1", "/run/netns/unused", binary: PluginBinary.Ipam).Error(101);
        lab.Run("CHECK", conf, "c1", "/run/netns/unused", binary: PluginBinary.Ipam).Ok();
        lab.Run("DEL", conf, "c1", "", binary: PluginBinary.Ipam).Ok();
        lab.Run("DEL", conf, "c1", "", binary: PluginBinary.Ipam).Ok();
        Assert.Empty(lab.Reservations("sa"));
    }
}
