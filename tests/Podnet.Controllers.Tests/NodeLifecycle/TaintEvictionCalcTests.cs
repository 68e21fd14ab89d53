using k8s.Models;
using Podnet.Controllers.NodeLifecycle;
using static Podnet.Controllers.Tests.Objects;

namespace Podnet.Controllers.Tests.NodeLifecycle;

public sealed class TaintEvictionCalcTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static V1Taint NoExecute(string key, DateTime? added = null) => new() { Key = key, Effect = "NoExecute", TimeAdded = added ?? T0 };

    private static V1Pod Tolerating(string name, params V1Toleration[] tolerations)
    {
        var pod = Pod(name, node: "n1");
        pod.Spec.Tolerations = tolerations;
        return pod;
    }

    private static V1Toleration Tol(string key, long? seconds, string effect = "NoExecute") =>
        new() { Key = key, OperatorProperty = "Exists", Effect = effect, TolerationSeconds = seconds };

    private static EvictionPlan Calc(DateTime now, IEnumerable<V1Taint> taints, params V1Pod[] pods) =>
        TaintEvictionCalc.Calc("n1", taints, pods, now, (_, _) => T0.AddSeconds(100));

    [Fact]
    public void NoExecuteTaint_NotTolerated_EvictsAtOnce_NoScheduleDoesNot()
    {
        var plan = Calc(T0, [NoExecute("k"), new V1Taint { Key = "soft", Effect = "NoSchedule" }], Pod("a", node: "n1"));

        Assert.Equal("k", Assert.Single(plan.Evict).Taint);
        Assert.Empty(Calc(T0, [new V1Taint { Key = "soft", Effect = "NoSchedule" }], Pod("a", node: "n1")).Evict);
    }

    [Fact]
    public void TolerationWithoutSeconds_StaysForEver()
    {
        var plan = Calc(T0.AddDays(1), [NoExecute("k")], Tolerating("a", Tol("k", null)));

        Assert.Empty(plan.Evict);
        Assert.Null(plan.NextCheck);
    }

    [Fact]
    public void TolerationSeconds_CountFromTimeAdded_TheLeastOneWins()
    {
        var pod = Tolerating("a", Tol("k", 300), Tol("j", 10));
        var taints = new[] { NoExecute("k"), NoExecute("j", T0.AddSeconds(5)) };

        var early = Calc(T0.AddSeconds(14), taints, pod);
        Assert.Empty(early.Evict);
        Assert.Equal(T0.AddSeconds(15), early.NextCheck);
        Assert.Equal("j", Assert.Single(Calc(T0.AddSeconds(15), taints, pod).Evict).Taint);
    }

    [Fact]
    public void OneUntoleratedTaint_EvictsEvenIfOthersAreTolerated()
    {
        var plan = Calc(T0, [NoExecute("k"), NoExecute("other")], Tolerating("a", Tol("k", null)));

        Assert.Equal("other", Assert.Single(plan.Evict).Taint);
    }

    [Fact]
    public void ZeroOrNegativeSeconds_EvictAtOnce_TerminatingPodsAreLeftAlone()
    {
        var terminating = Tolerating("b", Tol("k", 0));
        terminating.Metadata.DeletionTimestamp = T0;

        var plan = Calc(T0, [NoExecute("k")], Tolerating("a", Tol("k", -5)), terminating);

        Assert.Equal(["a"], plan.Evict.Select(e => e.Name));
    }

    [Fact]
    public void TaintWithoutTimeAdded_CountsFromFirstSight()
    {
        var taint = new V1Taint { Key = "k", Effect = "NoExecute" };
        var pod = Tolerating("a", Tol("k", 10));

        Assert.Equal(T0.AddSeconds(110), Calc(T0.AddSeconds(105), [taint], pod).NextCheck);
        Assert.Single(Calc(T0.AddSeconds(110), [taint], pod).Evict);
    }

    [Fact]
    public void EmptyKeyExistsToleration_ToleratesEveryTaint_ForItsSeconds()
    {
        var pod = Tolerating("a", new V1Toleration { OperatorProperty = "Exists", TolerationSeconds = 30 });

        Assert.Empty(Calc(T0.AddSeconds(29), [NoExecute("k"), NoExecute("j")], pod).Evict);
        Assert.Single(Calc(T0.AddSeconds(30), [NoExecute("k"), NoExecute("j")], pod).Evict);
    }
}
