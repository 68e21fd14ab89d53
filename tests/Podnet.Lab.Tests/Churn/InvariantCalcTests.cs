using System.Net;
using Podnet.Churn;

namespace Podnet.Lab.Tests.Churn;

public sealed class InvariantCalcTests
{
    private static readonly IPAddress s_a = IPAddress.Parse("10.244.1.2");
    private static readonly IPAddress s_b = IPAddress.Parse("10.244.1.3");

    private static LivePod Pod(string uid, params IPAddress[] addresses) => new(uid, "churn", "pod-" + uid, "n1", "pn-l-n1-p" + uid, addresses, Terminating: false);

    private static NodeObservation Node(
        Dictionary<IPAddress, string>? reservations = null, string[]? netns = null, SeenVeth[]? veths = null, string[]? mounts = null, (IPAddress, string)[]? conntrack = null) =>
        new("n1", reservations ?? [], netns ?? [], veths ?? [], mounts ?? [], conntrack ?? []);

    [Fact]
    public void NodeHoldingExactlyItsLivePods_HasNoBreach()
    {
        var node = Node(new() { [s_a] = "c1" }, ["pn-l-n1-pu1"], [new SeenVeth("veth1", "pn-l-n1-pu1")], ["/var/lib/podnet/labs/l/nodes/n1/pods/u1/volumes/x"], [(s_a, "tcp ESTABLISHED")]);
        Assert.Empty(InvariantCalc.CheckNode(node, [Pod("u1", s_a)]));
    }

    [Fact]
    public void LeakedReservation_NamespaceVethMountAndConntrack_AreEachReportedWithWhatLeaked()
    {
        var node = Node(
            new() { [s_a] = "c1", [s_b] = "c-gone" },
            ["pn-l-n1-pu1", "pn-l-n1-pgone"],
            [new SeenVeth("veth1", "pn-l-n1-pu1"), new SeenVeth("vethX", "pn-l-n1-pgone"), new SeenVeth("vethY", null)],
            ["/var/lib/podnet/labs/l/nodes/n1/pods/gone/volumes/x"],
            [(s_b, "udp 10.244.2.5:5353 -> 10.96.0.10:53")]);
        var breaches = InvariantCalc.CheckNode(node, [Pod("u1", s_a)]).Select(b => b.ToString()).ToList();
        Assert.Equal(6, breaches.Count);
        Assert.Contains(breaches, b => b.StartsWith("ipam [n1]: address 10.244.1.3 reserved by c-gone", StringComparison.Ordinal));
        Assert.Contains(breaches, b => b.StartsWith("netns [n1]: pod namespace pn-l-n1-pgone", StringComparison.Ordinal));
        Assert.Contains(breaches, b => b.Contains("veth vethX", StringComparison.Ordinal));
        Assert.Contains(breaches, b => b.Contains("veth vethY with its peer in no named namespace", StringComparison.Ordinal));
        Assert.Contains(breaches, b => b.StartsWith("mount [n1]: mount /var/lib/podnet/labs/l/nodes/n1/pods/gone/", StringComparison.Ordinal));
        Assert.Contains(breaches, b => b.StartsWith("conntrack [n1]: entry towards deleted endpoint 10.244.1.3", StringComparison.Ordinal));
    }

    [Fact]
    public void LivePodWithoutReservationOrNamespace_IsLost_AndAPodOfAnotherNodeIsNotThisNodes()
    {
        var breaches = InvariantCalc.CheckNode(Node(), [Pod("u1", s_a), Pod("u2") with { Node = "n2", Netns = "pn-l-n2-pu2" }]).Select(b => b.ToString()).ToList();
        Assert.Equal(
            ["ipam [n1]: pod churn/pod-u1's address 10.244.1.2 is not reserved (could be handed out again)", "netns [n1]: pod churn/pod-u1 has no namespace pn-l-n1-pu1"],
            breaches);
    }

    [Fact]
    public void ProcessesInADeletedPodsNamespace_OrInAnUnnamedOne_Leak_OthersDoNot()
    {
        SeenProcess[] seen =
        [
            new(10, "sleep 100000", "pn-l-n1-pu1", false, false),
            new(11, "sleep 100000", "pn-l-n1-pgone", false, false),
            new(12, "podnet agent", "pn-l-n1", false, true),
            new(13, "sh holder /var/lib/podnet/labs/l/nodes/n1/pods/x", null, false, true),
            new(14, "podnet lab supervise", null, true, true),
        ];
        var breaches = InvariantCalc.CheckProcesses(seen, [Pod("u1", s_a)], "pn-l-").Select(b => b.ToString()).ToList();
        Assert.Equal(2, breaches.Count);
        Assert.Contains(breaches, b => b.StartsWith("process [pn-l-n1-pgone]: pid 11", StringComparison.Ordinal));
        Assert.Contains(breaches, b => b.StartsWith("process [unnamed namespace]: pid 13", StringComparison.Ordinal));
    }

    [Fact]
    public void CompareTable_NamesExtraAndMissingElements_PerSet_AndSkipsDynamicSets()
    {
        var planned = "table inet podnet-proxy\n  set slot-a\n    10.244.1.2\n  set aff-x\n";
        var kernel = "table inet podnet-egress\n  chain postrouting\ntable inet podnet-proxy\n  set slot-a\n    10.244.1.9\n  set aff-x\n    10.244.3.3\n";
        var block = InvariantCalc.TableBlock(kernel, InvariantCalc.TableOf(planned));
        Assert.DoesNotContain("egress", block);
        var breaches = InvariantCalc.CompareTable("n1", "inet podnet-proxy", planned, block, "aff-").Select(b => b.ToString()).ToList();
        Assert.Equal(
            ["nft [n1 inet podnet-proxy]: in the kernel, not planned from the API: set slot-a | 10.244.1.9", "nft [n1 inet podnet-proxy]: planned from the API, missing in the kernel: set slot-a | 10.244.1.2"],
            breaches);
        Assert.Empty(InvariantCalc.CompareTable("n1", "t", planned, planned));
        // nft lists an anonymous set's members sorted: the order a rule gave them is no difference.
        Assert.Empty(InvariantCalc.CompareTable("n1", "t", "table t\n  chain c\n    ip daddr != { 10.96.0.0/16, 10.244.0.0/16 } masquerade\n", "table t\n  chain c\n    ip daddr != { 10.244.0.0/16, 10.96.0.0/16 } masquerade\n"));
    }

    [Fact]
    public void FaultSchedule_HasEveryKindOnce_BeforeTheLastTenthOfTheRun_AndRefusesTooFewCycles()
    {
        var schedule = FaultSchedule.Build(20, 0, new Random(1));
        Assert.Equal(Enum.GetValues<FaultKind>().Order(), schedule.Values.Order());
        Assert.All(schedule.Keys, c => Assert.InRange(c, 0, 17));
        var more = FaultSchedule.Build(100, 30, new Random(2));
        Assert.Equal(30, more.Count);
        Assert.All(Enum.GetValues<FaultKind>(), k => Assert.Contains(k, more.Values));
        Assert.Throws<ArgumentException>(() => FaultSchedule.Build(5, 9, new Random(3)));
    }

    [Fact]
    public void CniWrapper_PassesStdin_KillsTheArmedCallOnce_AndOtherwiseRunsThePlugin()
    {
        var dir = Directory.CreateTempSubdirectory("churn-wrapper-").FullName;
        try
        {
            var real = Path.Combine(dir, "real");
            // A stand-in plugin: prints its stdin, then takes a while for ADD.
            File.WriteAllText(real, "#!/bin/bash\necho \"$(cat)\"\n[ \"$CNI_COMMAND\" = ADD ] && sleep 5\nexit 0\n");
            var faults = Directory.CreateDirectory(Path.Combine(dir, "faults")).FullName;
            var wrapper = Path.Combine(dir, "podnet-cni");
            File.WriteAllText(wrapper, ChurnLab.WrapperScript(real, faults));
            Podnet.Kernel.ProcessRunner.Run(null, "chmod", ["0755", real, wrapper]);
            Podnet.Kernel.ProcessResult Call(string command) =>
                Podnet.Kernel.ProcessRunner.Run(null, "env", [$"CNI_COMMAND={command}", wrapper], standardInput: "{\"cniVersion\":\"1.1.0\"}", timeout: TimeSpan.FromSeconds(30));

            var plain = Call("DEL");
            Assert.Equal(0, plain.ExitCode);
            Assert.Equal("{\"cniVersion\":\"1.1.0\"}", plain.StandardOutput.Trim());

            File.WriteAllText(Path.Combine(faults, "ADD"), "50");
            var killed = Call("ADD");
            Assert.Equal(137, killed.ExitCode);
            var done = Assert.Single(Directory.GetFiles(faults, "ADD.*.done"));
            Assert.Equal("killed after 50 ms", File.ReadAllText(done).Trim());
            Assert.False(File.Exists(Path.Combine(faults, "ADD")));

            File.WriteAllText(Path.Combine(faults, "DEL"), "3000");
            var finished = Call("DEL");
            Assert.Equal(0, finished.ExitCode);
            Assert.Equal("ended before 3000 ms", File.ReadAllText(Assert.Single(Directory.GetFiles(faults, "DEL.*.done"))).Trim());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
