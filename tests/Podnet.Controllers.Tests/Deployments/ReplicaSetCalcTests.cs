using k8s.Models;
using Podnet.Controllers.Deployments;
using static Podnet.Controllers.Tests.Objects;

namespace Podnet.Controllers.Tests.Deployments;

public sealed class ReplicaSetCalcTests
{
    private static readonly DateTime Now = new(2026, 6, 1, 12, 0, 0, DateTimeKind.Utc);

    private static V1ReplicaSet ReplicaSet(int replicas, int minReadySeconds = 0) => new()
    {
        Metadata = new V1ObjectMeta { Name = "web-7c5b9d", NamespaceProperty = "default", Uid = "uid-rs", Generation = 4 },
        Spec = new V1ReplicaSetSpec
        {
            Replicas = replicas,
            MinReadySeconds = minReadySeconds,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } },
            Template = PodTemplateHashTests.Template(labels: [("app", "web"), ("pod-template-hash", "7c5b9d")]),
        },
    };

    private static V1Pod Owned(string name, string? node = "n1", string phase = "Running", bool ready = true, int readyForSeconds = 600, int restarts = 0, int ageSeconds = 1000)
    {
        var pod = Pod(name, "10.244.1.1", ready: ready, node: node, labels: new Dictionary<string, string> { ["app"] = "web", ["pod-template-hash"] = "7c5b9d" });
        pod.Metadata.OwnerReferences = [new V1OwnerReference { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = "web-7c5b9d", Uid = "uid-rs", Controller = true }];
        pod.Metadata.CreationTimestamp = Now.AddSeconds(-ageSeconds);
        pod.Status.Phase = phase;
        pod.Status.Conditions[0].LastTransitionTime = Now.AddSeconds(-readyForSeconds);
        pod.Status.ContainerStatuses = [new V1ContainerStatus { Name = "c", RestartCount = restarts, Image = "web:1", ImageID = "", Ready = ready }];
        return pod;
    }

    [Fact]
    public void Calc_TooFew_CreatesPodsFromTemplate()
    {
        var plan = ReplicaSetCalc.Calc(ReplicaSet(3), [Owned("a")], Now);

        Assert.Equal(2, plan.Create.Count);
        var pod = plan.Create[0];
        Assert.Equal("web-7c5b9d-", pod.Metadata.GenerateName);
        Assert.Null(pod.Metadata.Name);
        Assert.Equal("default", pod.Metadata.NamespaceProperty);
        Assert.Equal("7c5b9d", pod.Metadata.Labels["pod-template-hash"]);
        Assert.Equal(("ReplicaSet", "uid-rs", true, true), (pod.Metadata.OwnerReferences[0].Kind, pod.Metadata.OwnerReferences[0].Uid, pod.Metadata.OwnerReferences[0].Controller, pod.Metadata.OwnerReferences[0].BlockOwnerDeletion));
        Assert.Equal("web:1", pod.Spec.Containers[0].Image);
        Assert.NotSame(plan.Create[0].Spec, plan.Create[1].Spec);
    }

    [Fact]
    public void Calc_DeletedAndFailedPodsAreReplaced_OtherOwnersIgnored()
    {
        var terminating = Owned("terminating");
        terminating.Metadata.DeletionTimestamp = Now;
        var stranger = Owned("stranger");
        stranger.Metadata.OwnerReferences[0].Uid = "uid-other";

        var plan = ReplicaSetCalc.Calc(ReplicaSet(3), [Owned("a"), Owned("failed", phase: "Failed"), terminating, stranger], Now);

        Assert.Equal(2, plan.Create.Count);
        Assert.Equal(1, plan.Status.Replicas);
    }

    [Theory]
    [InlineData("unscheduled")]
    [InlineData("pending")]
    [InlineData("notready")]
    [InlineData("readyrecently")]
    [InlineData("restarts")]
    [InlineData("newer")]
    public void Calc_TooMany_DeletesTheLeastUsefulPodFirst(string victim)
    {
        var pods = new List<V1Pod> { Owned("keep1"), Owned("keep2") };
        pods.Add(victim switch
        {
            "unscheduled" => Owned(victim, node: null, phase: "Pending", ready: false),
            "pending" => Owned(victim, phase: "Pending", ready: false),
            "notready" => Owned(victim, ready: false),
            "readyrecently" => Owned(victim, readyForSeconds: 5),
            "restarts" => Owned(victim, restarts: 3),
            _ => Owned(victim, ageSeconds: 10),
        });

        var plan = ReplicaSetCalc.Calc(ReplicaSet(2), pods, Now);

        Assert.Equal([victim], plan.Delete.Select(p => p.Metadata.Name));
        Assert.Empty(plan.Create);
    }

    [Fact]
    public void Calc_MatchingOrphanAdopted_RelabelledPodReleasedAndReplaced()
    {
        var orphan = Owned("orphan");
        orphan.Metadata.OwnerReferences = null;
        var relabelled = Owned("relabelled");
        relabelled.Metadata.Labels["app"] = "debug";
        var unrelated = Pod("unrelated", "10.244.1.5", labels: new Dictionary<string, string> { ["app"] = "db" });

        var plan = ReplicaSetCalc.Calc(ReplicaSet(3), [Owned("a"), orphan, relabelled, unrelated], Now);

        Assert.Equal(["orphan"], plan.Adopt.Select(p => p.Metadata.Name));
        Assert.Equal(["relabelled"], plan.Release.Select(p => p.Metadata.Name));
        Assert.Single(plan.Create);
        Assert.Equal(2, plan.Status.Replicas);
    }

    [Fact]
    public void Calc_ReplicaSetBeingDeleted_AdoptsNothing()
    {
        var orphan = Owned("orphan");
        orphan.Metadata.OwnerReferences = null;
        var replicaSet = ReplicaSet(3);
        replicaSet.Metadata.DeletionTimestamp = Now;

        var plan = ReplicaSetCalc.Calc(replicaSet, [orphan], Now);

        Assert.Empty(plan.Adopt);
        Assert.Empty(plan.Create);
    }

    [Fact]
    public void Calc_Status_CountsReadyAndAvailableWithMinReadySeconds()
    {
        var pods = new[] { Owned("a", readyForSeconds: 100), Owned("b", readyForSeconds: 5), Owned("c", ready: false) };

        var status = ReplicaSetCalc.Calc(ReplicaSet(3, minReadySeconds: 30), pods, Now).Status;

        Assert.Equal((3, 3, 2, 1, 4L), (status.Replicas, status.FullyLabeledReplicas, status.ReadyReplicas, status.AvailableReplicas, status.ObservedGeneration));
    }
}
