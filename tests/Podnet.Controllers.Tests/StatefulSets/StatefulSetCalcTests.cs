using k8s.Models;
using Podnet.Controllers.StatefulSets;
using static Podnet.Controllers.Tests.Objects;

namespace Podnet.Controllers.Tests.StatefulSets;

public sealed class StatefulSetCalcTests
{
    private static readonly DateTime Now = new(2026, 6, 1, 12, 0, 0, DateTimeKind.Utc);

    internal static V1StatefulSet Set(int replicas, string image = "web:1", string policy = "OrderedReady", string strategy = "RollingUpdate", int? partition = null, string? maxUnavailable = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default", Uid = "uid-sts", Generation = 3 },
        Spec = new V1StatefulSetSpec
        {
            Replicas = replicas,
            ServiceName = "web",
            PodManagementPolicy = policy,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } },
            UpdateStrategy = new V1StatefulSetUpdateStrategy
            {
                Type = strategy,
                RollingUpdate = strategy == "RollingUpdate" ? new V1RollingUpdateStatefulSetStrategy { Partition = partition ?? 0, MaxUnavailable = maxUnavailable } : null,
            },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "web" } },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = image }] },
            },
        },
    };

    /// <summary>The revisions of <paramref name="set"/> with the given pods, as the controller computes them first.</summary>
    private static RevisionPlan Revisions(V1StatefulSet set, params V1ControllerRevision[] existing) =>
        StatefulSetRevisions.Calc(set, existing, []);

    private static V1ControllerRevision Stored(RevisionPlan plan) => plan.Create ?? plan.Update;

    internal static V1Pod Member(V1StatefulSet set, int ordinal, string revision, bool ready = true, string phase = "Running", bool terminating = false)
    {
        var pod = Pod($"web-{ordinal}", $"10.244.1.{10 + ordinal}", ready: ready, labels: new Dictionary<string, string>
        {
            ["app"] = "web",
            [StatefulSetRevisions.HashLabel] = revision,
        });
        pod.Metadata.OwnerReferences = [new V1OwnerReference { ApiVersion = "apps/v1", Kind = "StatefulSet", Name = "web", Uid = set.Metadata.Uid, Controller = true }];
        pod.Status.Phase = phase;
        if (terminating)
        {
            pod.Metadata.DeletionTimestamp = Now;
        }
        return pod;
    }

    [Fact]
    public void OrderedReady_Empty_CreatesOnlyOrdinalZero_WithIdentity()
    {
        var set = Set(3);
        var revisions = Revisions(set);

        var plan = StatefulSetCalc.Calc(set, [], revisions, Now);

        var pod = Assert.Single(plan.Create);
        Assert.Equal("web-0", pod.Metadata.Name);
        Assert.Equal("web-0", pod.Spec.Hostname);
        Assert.Equal("web", pod.Spec.Subdomain);
        Assert.Equal("web-0", pod.Metadata.Labels[StatefulSetCalc.PodNameLabel]);
        Assert.Equal("0", pod.Metadata.Labels[StatefulSetCalc.PodIndexLabel]);
        Assert.Equal(revisions.Update.Metadata.Name, pod.Metadata.Labels[StatefulSetRevisions.HashLabel]);
        Assert.StartsWith("web-", revisions.Update.Metadata.Name, StringComparison.Ordinal);
        Assert.True(pod.Metadata.OwnerReferences.Single().Controller);
    }

    [Fact]
    public void OrderedReady_NextOrdinal_WaitsUntilTheLowerOneIsReady()
    {
        var set = Set(3);
        var revisions = Revisions(set);
        var rev = revisions.Update.Metadata.Name;

        var waiting = StatefulSetCalc.Calc(set, [Member(set, 0, rev, ready: false)], revisions, Now);
        var next = StatefulSetCalc.Calc(set, [Member(set, 0, rev)], revisions, Now);

        Assert.Empty(waiting.Create);
        Assert.Equal("web-1", Assert.Single(next.Create).Metadata.Name);
    }

    [Fact]
    public void OrderedReady_PendingPod_BlocksLaterOrdinals()
    {
        var set = Set(3);
        var revisions = Revisions(set);
        var rev = revisions.Update.Metadata.Name;

        var plan = StatefulSetCalc.Calc(set, [Member(set, 0, rev, phase: "Pending", ready: false), Member(set, 1, rev)], revisions, Now);

        Assert.Empty(plan.Create);
        Assert.Empty(plan.Delete);
    }

    [Fact]
    public void Parallel_CreatesEveryMissingOrdinalAtOnce()
    {
        var set = Set(3, policy: "Parallel");

        var plan = StatefulSetCalc.Calc(set, [], Revisions(set), Now);

        Assert.Equal(["web-0", "web-1", "web-2"], plan.Create.Select(p => p.Metadata.Name));
    }

    [Fact]
    public void OrderedReady_ScaleDown_DeletesHighestOrdinalFirst_OneAtATime()
    {
        var set = Set(1);
        var rev = Revisions(set).Update.Metadata.Name;
        var pods = new[] { Member(set, 0, rev), Member(set, 1, rev), Member(set, 2, rev) };

        var first = StatefulSetCalc.Calc(set, pods, Revisions(set), Now);
        var whileTerminating = StatefulSetCalc.Calc(set, [pods[0], pods[1], Member(set, 2, rev, terminating: true)], Revisions(set), Now);
        var second = StatefulSetCalc.Calc(set, [pods[0], pods[1]], Revisions(set), Now);

        Assert.Equal("web-2", Assert.Single(first.Delete).Metadata.Name);
        Assert.Empty(whileTerminating.Delete);
        Assert.Equal("web-1", Assert.Single(second.Delete).Metadata.Name);
    }

    [Fact]
    public void Parallel_ScaleDown_DeletesAllSurplusAtOnce()
    {
        var set = Set(1, policy: "Parallel");
        var rev = Revisions(set).Update.Metadata.Name;

        var plan = StatefulSetCalc.Calc(set, [Member(set, 0, rev), Member(set, 1, rev), Member(set, 2, rev)], Revisions(set), Now);

        Assert.Equal(["web-2", "web-1"], plan.Delete.Select(p => p.Metadata.Name));
    }

    [Fact]
    public void OrderedReady_ScaleDown_WaitsWhileAnotherPodIsUnhealthy()
    {
        var set = Set(1);
        var rev = Revisions(set).Update.Metadata.Name;

        var plan = StatefulSetCalc.Calc(set, [Member(set, 0, rev, ready: false), Member(set, 1, rev)], Revisions(set), Now);

        Assert.Empty(plan.Delete);
    }

    [Fact]
    public void RollingUpdate_DeletesOldRevisionFromHighestOrdinal_OneAtATime()
    {
        var old = Set(3, image: "web:1");
        var oldRev = Stored(Revisions(old));
        var set = Set(3, image: "web:2");
        set.Status = new V1StatefulSetStatus { CurrentRevision = oldRev.Metadata.Name };
        var revisions = Revisions(set, oldRev);
        var pods = new[] { Member(set, 0, oldRev.Metadata.Name), Member(set, 1, oldRev.Metadata.Name), Member(set, 2, oldRev.Metadata.Name) };

        var first = StatefulSetCalc.Calc(set, pods, revisions, Now);
        var newTwoNotReady = StatefulSetCalc.Calc(set, [pods[0], pods[1], Member(set, 2, revisions.Update.Metadata.Name, ready: false)], revisions, Now);
        var newTwoReady = StatefulSetCalc.Calc(set, [pods[0], pods[1], Member(set, 2, revisions.Update.Metadata.Name)], revisions, Now);

        Assert.NotNull(revisions.Create);
        Assert.Equal(2, revisions.Update.Revision);
        Assert.Equal(oldRev.Metadata.Name, revisions.Current.Metadata.Name);
        Assert.Equal("web-2", Assert.Single(first.Delete).Metadata.Name);
        Assert.Empty(newTwoNotReady.Delete);
        Assert.Equal("web-1", Assert.Single(newTwoReady.Delete).Metadata.Name);
        Assert.Equal(1, newTwoReady.Status.UpdatedReplicas);
        Assert.Equal(2, newTwoReady.Status.CurrentReplicas);
    }

    [Fact]
    public void RollingUpdate_Partition_LeavesLowerOrdinalsAtCurrentRevision()
    {
        var old = Set(3, image: "web:1");
        var oldRev = Stored(Revisions(old));
        var set = Set(3, image: "web:2", partition: 2);
        set.Status = new V1StatefulSetStatus { CurrentRevision = oldRev.Metadata.Name };
        var revisions = Revisions(set, oldRev);
        var update = revisions.Update.Metadata.Name;

        var done = StatefulSetCalc.Calc(set, [Member(set, 0, oldRev.Metadata.Name), Member(set, 1, oldRev.Metadata.Name), Member(set, 2, update)], revisions, Now);
        var recreate = StatefulSetCalc.Calc(set, [Member(set, 1, oldRev.Metadata.Name), Member(set, 2, update)], revisions, Now);

        Assert.Empty(done.Delete);
        Assert.Equal(oldRev.Metadata.Name, done.Status.CurrentRevision);
        Assert.Equal(1, done.Status.UpdatedReplicas);
        var recreated = Assert.Single(recreate.Create);
        Assert.Equal("web-0", recreated.Metadata.Name);
        Assert.Equal(oldRev.Metadata.Name, recreated.Metadata.Labels[StatefulSetRevisions.HashLabel]);
        Assert.Equal("web:1", recreated.Spec.Containers[0].Image);
    }

    [Fact]
    public void RollingUpdate_MaxUnavailableTwo_DeletesTwoAtOnce()
    {
        var old = Set(3, image: "web:1");
        var oldRev = Stored(Revisions(old));
        var set = Set(3, image: "web:2", maxUnavailable: "2");
        set.Status = new V1StatefulSetStatus { CurrentRevision = oldRev.Metadata.Name };
        var revisions = Revisions(set, oldRev);

        var plan = StatefulSetCalc.Calc(set, [Member(set, 0, oldRev.Metadata.Name), Member(set, 1, oldRev.Metadata.Name), Member(set, 2, oldRev.Metadata.Name)], revisions, Now);

        Assert.Equal(["web-2", "web-1"], plan.Delete.Select(p => p.Metadata.Name));
    }

    [Fact]
    public void OnDelete_LeavesOldPods_ButRecreatesDeletedOnesAtUpdateRevision()
    {
        var old = Set(2, image: "web:1", strategy: "OnDelete");
        var oldRev = Stored(Revisions(old));
        var set = Set(2, image: "web:2", strategy: "OnDelete");
        set.Status = new V1StatefulSetStatus { CurrentRevision = oldRev.Metadata.Name };
        var revisions = Revisions(set, oldRev);

        var untouched = StatefulSetCalc.Calc(set, [Member(set, 0, oldRev.Metadata.Name), Member(set, 1, oldRev.Metadata.Name)], revisions, Now);
        var recreate = StatefulSetCalc.Calc(set, [Member(set, 0, oldRev.Metadata.Name)], revisions, Now);

        Assert.Empty(untouched.Delete);
        Assert.Empty(untouched.Create);
        Assert.Equal(revisions.Update.Metadata.Name, Assert.Single(recreate.Create).Metadata.Labels[StatefulSetRevisions.HashLabel]);
    }

    [Fact]
    public void Status_CompleteRollout_MakesUpdateRevisionCurrent()
    {
        var set = Set(2);
        var revisions = Revisions(set);
        var rev = revisions.Update.Metadata.Name;

        var plan = StatefulSetCalc.Calc(set, [Member(set, 0, rev), Member(set, 1, rev)], revisions, Now);

        Assert.Equal((2, 2, 2, 2, 2), (plan.Status.Replicas, plan.Status.ReadyReplicas ?? 0, plan.Status.AvailableReplicas ?? 0, plan.Status.CurrentReplicas ?? 0, plan.Status.UpdatedReplicas ?? 0));
        Assert.Equal(rev, plan.Status.CurrentRevision);
        Assert.Equal(rev, plan.Status.UpdateRevision);
        Assert.Equal(3, plan.Status.ObservedGeneration);
    }

    [Fact]
    public void FailedPod_IsDeletedToBeRecreated()
    {
        var set = Set(1);
        var rev = Revisions(set).Update.Metadata.Name;

        var plan = StatefulSetCalc.Calc(set, [Member(set, 0, rev, phase: "Failed", ready: false)], Revisions(set), Now);

        Assert.Equal("web-0", Assert.Single(plan.Delete).Metadata.Name);
    }

    [Theory]
    [InlineData("web-0", 0)]
    [InlineData("web-12", 12)]
    [InlineData("web-01", null)]
    [InlineData("web-x", null)]
    [InlineData("webb-1", null)]
    [InlineData("web-", null)]
    [InlineData("web--1", null)]
    public void Ordinal_ParsesOnlyCanonicalNames(string name, int? expected) =>
        Assert.Equal(expected, StatefulSetCalc.Ordinal("web", name));
}
