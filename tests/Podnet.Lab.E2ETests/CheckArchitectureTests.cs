namespace Podnet.Lab.E2ETests;

/// <summary>
/// `podnet check` on two-node labs of the other architectures (island is <see cref="CheckLabTests"/>'):
/// every test passes, egress to the outside host connecting in flat and refused in isolated, and
/// a pod reaching another node's NodePort in both (a node is part of the cluster).
/// </summary>
public sealed class CheckArchitectureTests
{
    [PrivilegedTheory]
    [InlineData("flat", "connect")]
    [InlineData("isolated", "refuse")]
    public void Check_TwoNodeLab_PassesWithEgressAsTheArchitectureSays(string architecture, string egress)
    {
        using var lab = new TempLab("k");
        lab.Up("--nodes", "2", "--architecture", architecture);
        var run = lab.Run("check", "--lab", lab.Name);
        Assert.True(run.Success, run.StandardOutput + run.StandardError);
        var rows = CheckLabTests.Rows(run.StandardOutput);
        Assert.Equal(17, rows.Count);
        Assert.All(rows.Values, r => Assert.Equal("ok", r.Result));
        Assert.Equal((egress, egress), (rows["egress/outside"].Expected, rows["egress/outside"].Observed));
        Assert.Equal(("connect", "connect"), (rows["service/node-port"].Expected, rows["service/node-port"].Observed));
    }
}
