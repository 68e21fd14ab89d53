using k8s.Models;
using Podnet.Controllers.Disruption;
using static Podnet.Controllers.Tests.Objects;

namespace Podnet.Controllers.Tests.Disruption;

public sealed class DisruptionCalcTests
{
    private static readonly DateTime Now = new(2026, 6, 1, 12, 0, 0, DateTimeKind.Utc);

    private static V1PodDisruptionBudget Budget(string? minAvailable = null, string? maxUnavailable = null, V1PodDisruptionBudgetStatus? status = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default", Generation = 2 },
        Spec = new V1PodDisruptionBudgetSpec
        {
            MinAvailable = minAvailable,
            MaxUnavailable = maxUnavailable,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } },
        },
        Status = status,
    };

    private static V1Pod Owned(string name, bool ready = true, bool terminating = false)
    {
        var pod = Pod(name, ready: ready);
        pod.Metadata.OwnerReferences = [new V1OwnerReference { Kind = "StatefulSet", Name = "web", Uid = "uid-sts", Controller = true }];
        pod.Metadata.DeletionTimestamp = terminating ? Now : null;
        return pod;
    }

    private static ScaleOf? Scale(V1Pod pod, int replicas) => pod.Metadata.OwnerReferences?.Any() == true ? new ScaleOf("uid-sts", replicas) : null;

    private static V1PodDisruptionBudgetStatus Calc(V1PodDisruptionBudget budget, IEnumerable<V1Pod> pods, int replicas = 3) =>
        DisruptionCalc.Calc(budget, pods, p => Scale(p, replicas), Now);

    [Theory]
    // minAvailable as a number: the pods themselves are expected.
    [InlineData("2", null, 3, 3, 2, 1)]
    [InlineData("3", null, 3, 3, 3, 0)]
    [InlineData("3", null, 2, 3, 3, 0)]
    // minAvailable as a percentage of the controller's replicas, rounded up.
    [InlineData("50%", null, 3, 3, 2, 1)]
    // maxUnavailable: replicas minus the (rounded up) number, never below zero.
    [InlineData(null, "1", 3, 3, 2, 1)]
    [InlineData(null, "34%", 3, 3, 1, 2)]
    [InlineData(null, "0", 3, 3, 3, 0)]
    [InlineData(null, "5", 3, 3, 0, 3)]
    public void Calc_Arithmetic(string? minAvailable, string? maxUnavailable, int ready, int expected, int desired, int allowed)
    {
        var pods = Enumerable.Range(0, 3).Select(i => Owned($"web-{i}", ready: i < ready)).ToList();

        var status = Calc(Budget(minAvailable, maxUnavailable), pods);

        Assert.Equal((ready, expected, desired, allowed), (status.CurrentHealthy, status.ExpectedPods, status.DesiredHealthy, status.DisruptionsAllowed));
        Assert.Equal(2, status.ObservedGeneration);
        var condition = Assert.Single(status.Conditions);
        Assert.Equal(("DisruptionAllowed", allowed > 0 ? "True" : "False", allowed > 0 ? "SufficientPods" : "InsufficientPods"), (condition.Type, condition.Status, condition.Reason));
    }

    [Fact]
    public void Calc_TerminatingPods_AreNotHealthy()
    {
        var status = Calc(Budget("2"), [Owned("web-0"), Owned("web-1"), Owned("web-2", terminating: true)]);

        Assert.Equal((2, 0), (status.CurrentHealthy, status.DisruptionsAllowed));
    }

    [Fact]
    public void Calc_RecentlyEvictedPod_StaysSpent_UntilItGoesOrTimesOut()
    {
        var pods = new[] { Owned("web-0"), Owned("web-1"), Owned("web-2") };
        var charged = new V1PodDisruptionBudgetStatus { DisruptedPods = new Dictionary<string, DateTime?> { ["web-2"] = Now.AddSeconds(-10) } };
        var expired = new V1PodDisruptionBudgetStatus { DisruptedPods = new Dictionary<string, DateTime?> { ["web-2"] = Now - DisruptionCalc.DeletionTimeout - TimeSpan.FromSeconds(1) } };

        var spent = Calc(Budget("2", status: charged), pods);
        var gone = Calc(Budget("2", status: charged), pods[..2]);
        var timedOut = Calc(Budget("2", status: expired), pods);

        Assert.Equal((2, 0), (spent.CurrentHealthy, spent.DisruptionsAllowed));
        Assert.Equal("web-2", Assert.Single(spent.DisruptedPods).Key);
        Assert.Null(gone.DisruptedPods);
        Assert.Equal((3, 1), (timedOut.CurrentHealthy, timedOut.DisruptionsAllowed));
    }

    [Fact]
    public void Calc_PodWithoutController_FailsSafe_ForAPercentage()
    {
        var status = DisruptionCalc.Calc(Budget(maxUnavailable: "1"), [Pod("bare")], _ => null, Now);

        Assert.Equal(0, status.DisruptionsAllowed);
        var condition = Assert.Single(status.Conditions);
        Assert.Equal(("False", "SyncFailed"), (condition.Status, condition.Reason));
        Assert.Contains("found no controllers for pod \"bare\"", condition.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Calc_NoPods_AllowsNothing()
    {
        var status = Calc(Budget(maxUnavailable: "1"), [], replicas: 0);

        Assert.Equal((0, 0, 0), (status.ExpectedPods, status.CurrentHealthy, status.DisruptionsAllowed));
    }

    [Fact]
    public void Calc_SelectsOnlyMatchingPodsOfItsNamespace()
    {
        var other = Owned("db-0");
        other.Metadata.Labels = new Dictionary<string, string> { ["app"] = "db" };
        var elsewhere = Owned("web-9");
        elsewhere.Metadata.NamespaceProperty = "other";

        var status = Calc(Budget("1"), [Owned("web-0"), other, elsewhere]);

        Assert.Equal((1, 1, 0), (status.ExpectedPods, status.CurrentHealthy, status.DisruptionsAllowed));
    }
}
