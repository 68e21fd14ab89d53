using k8s.Models;
using Podnet.Controllers.DaemonSets;
using Podnet.Controllers.Deployments;
using static Podnet.Controllers.Tests.Objects;

namespace Podnet.Controllers.Tests.DaemonSets;

public sealed class DaemonSetCalcTests
{
    private static readonly DateTime Now = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static V1DaemonSet Ds(string image = "agent:1", string strategy = "RollingUpdate", string? maxUnavailable = "1", string? maxSurge = "0", long generation = 1) => new()
    {
        Metadata = new V1ObjectMeta { Name = "agent", NamespaceProperty = "default", Uid = "uid-ds", Generation = generation },
        Spec = new V1DaemonSetSpec
        {
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "agent" } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "agent" } },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = image }] },
            },
            UpdateStrategy = new V1DaemonSetUpdateStrategy
            {
                Type = strategy,
                RollingUpdate = strategy == "RollingUpdate" ? new V1RollingUpdateDaemonSet { MaxUnavailable = maxUnavailable, MaxSurge = maxSurge } : null,
            },
        },
    };

    /// <summary>A pod of <paramref name="ds"/> on <paramref name="node"/>, of its current template unless <paramref name="hash"/> says otherwise.</summary>
    private static V1Pod DsPod(V1DaemonSet ds, string node, bool ready = true, string? hash = null, string? name = null)
    {
        var pod = Pod(name ?? $"agent-{node}", ready: ready, node: node, labels: new Dictionary<string, string>
        {
            ["app"] = "agent",
            [DaemonSetCalc.RevisionHashLabel] = hash ?? PodTemplateHash.Compute(ds.Spec.Template),
        });
        pod.Metadata.OwnerReferences = [new V1OwnerReference { Uid = ds.Metadata.Uid, Controller = true, Kind = "DaemonSet", Name = ds.Metadata.Name, ApiVersion = "apps/v1" }];
        pod.Metadata.CreationTimestamp = Now.AddMinutes(-10);
        return pod;
    }

    private static string Target(V1Pod pod) => DaemonSetNodes.TargetNode(pod)!;

    [Fact]
    public void NewDaemonSet_OnePodPerNode_PinnedByAffinity_WithDefaultTolerations()
    {
        var ds = Ds();
        var plan = DaemonSetCalc.Calc(ds, [Node("n1"), Node("n2"), Node("n3")], [], Now);

        Assert.Equal(["n1", "n2", "n3"], plan.Create.Select(Target));
        var pod = plan.Create[0];
        Assert.Null(pod.Spec.NodeName);
        Assert.Equal("agent-", pod.Metadata.GenerateName);
        Assert.Equal("uid-ds", Assert.Single(pod.Metadata.OwnerReferences).Uid);
        Assert.Equal(PodTemplateHash.Compute(ds.Spec.Template), pod.Metadata.Labels[DaemonSetCalc.RevisionHashLabel]);
        Assert.Equal("1", pod.Metadata.Labels[DaemonSetCalc.TemplateGenerationLabel]);
        Assert.Equal(
            ["node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/disk-pressure:NoSchedule",
             "node.kubernetes.io/memory-pressure:NoSchedule", "node.kubernetes.io/pid-pressure:NoSchedule", "node.kubernetes.io/unschedulable:NoSchedule"],
            pod.Spec.Tolerations.Select(t => $"{t.Key}:{t.Effect}"));
        Assert.All(pod.Spec.Tolerations, t => Assert.Equal("Exists", t.OperatorProperty));
        Assert.Null(ds.Spec.Template.Spec.Tolerations);
        Assert.Equal(3, plan.Status.DesiredNumberScheduled);
        Assert.Equal(0, plan.Status.CurrentNumberScheduled);
        Assert.Equal(3, plan.Status.NumberUnavailable);
    }

    [Fact]
    public void HostNetworkPods_AlsoTolerateNetworkUnavailable()
    {
        var ds = Ds();
        ds.Spec.Template.Spec.HostNetwork = true;
        var pod = Assert.Single(DaemonSetCalc.Calc(ds, [Node("n1")], [], Now).Create);
        Assert.Contains(pod.Spec.Tolerations, t => t.Key == "node.kubernetes.io/network-unavailable" && t.Effect == "NoSchedule");
    }

    [Fact]
    public void NodeSelectorAffinityAndTaints_DecideTheNodes()
    {
        var ds = Ds();
        ds.Spec.Template.Spec.NodeSelector = new Dictionary<string, string> { ["role"] = "edge" };
        var edge = new Dictionary<string, string> { ["role"] = "edge" };
        var nodes = new[]
        {
            Node("n1", labels: edge),
            Node("n2"),
            Node("n3", true, false, edge, new V1Taint { Key = "dedicated", Value = "db", Effect = "NoSchedule" }),
            Node("n4", true, true, edge, new V1Taint { Key = "node.kubernetes.io/unschedulable", Effect = "NoSchedule" }),
        };

        Assert.Equal(["n1", "n4"], DaemonSetCalc.Calc(ds, nodes, [], Now).Create.Select(Target));

        ds.Spec.Template.Spec.Tolerations = [new V1Toleration { Key = "dedicated", OperatorProperty = "Equal", Value = "db", Effect = "NoSchedule" }];
        Assert.Equal(["n1", "n3", "n4"], DaemonSetCalc.Calc(ds, nodes, [], Now).Create.Select(Target));

        ds.Spec.Template.Spec.Affinity = new V1Affinity
        {
            NodeAffinity = new V1NodeAffinity
            {
                RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector
                {
                    NodeSelectorTerms = [new V1NodeSelectorTerm { MatchFields = [new V1NodeSelectorRequirement { Key = "metadata.name", OperatorProperty = "NotIn", Values = ["n1"] }] }],
                },
            },
        };
        var plan = DaemonSetCalc.Calc(ds, nodes, [], Now);
        Assert.Equal(["n3", "n4"], plan.Create.Select(Target));
        Assert.Equal(["n3"], plan.Create[0].Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms.Single().MatchFields.Single().Values);
    }

    [Fact]
    public void UnreachableNode_KeepsItsPod_ButGetsNoNewOne_AndTheStatusSaysSo()
    {
        var ds = Ds();
        var unreachable = Node("n2", true, false, null,
            new V1Taint { Key = "node.kubernetes.io/unreachable", Effect = "NoSchedule" },
            new V1Taint { Key = "node.kubernetes.io/unreachable", Effect = "NoExecute" });
        var plan = DaemonSetCalc.Calc(ds, [Node("n1"), unreachable], [DsPod(ds, "n1"), DsPod(ds, "n2", ready: false)], Now);

        Assert.Empty(plan.Create);
        Assert.Empty(plan.Delete);
        Assert.Equal((1, 1, 1, 1), (plan.Status.DesiredNumberScheduled, plan.Status.CurrentNumberScheduled, plan.Status.NumberReady, plan.Status.NumberMisscheduled));

        var empty = DaemonSetCalc.Calc(ds, [Node("n1"), unreachable], [DsPod(ds, "n1")], Now);
        Assert.Empty(empty.Create);
    }

    [Fact]
    public void UntoleratedNoExecuteTaint_RemovesThePod_FailedPodsAreReplaced_ExtrasGo()
    {
        var ds = Ds();
        var tainted = Node("n1", true, false, null, new V1Taint { Key = "evict", Effect = "NoExecute" });
        var failed = DsPod(ds, "n2");
        failed.Status.Phase = "Failed";
        var extra = DsPod(ds, "n3", name: "agent-n3-extra");
        extra.Metadata.CreationTimestamp = Now;

        var plan = DaemonSetCalc.Calc(ds, [tainted, Node("n2"), Node("n3")], [DsPod(ds, "n1"), failed, DsPod(ds, "n3"), extra], Now);

        Assert.Equal(["agent-n1", "agent-n2", "agent-n3-extra"], plan.Delete.Select(p => p.Metadata.Name).Order());
        Assert.Equal(["n2"], plan.Create.Select(Target));
    }

    [Fact]
    public void TerminatingPod_HoldsTheNode_UntilItIsGone()
    {
        var ds = Ds();
        var leaving = DsPod(ds, "n1");
        leaving.Metadata.DeletionTimestamp = Now;
        Assert.Empty(DaemonSetCalc.Calc(ds, [Node("n1")], [leaving], Now).Create);
    }

    [Fact]
    public void RollingUpdate_MaxUnavailableOne_DeletesOneOldPodAtATime()
    {
        var old = Ds("agent:1");
        var ds = Ds("agent:2", generation: 2);
        var oldHash = PodTemplateHash.Compute(old.Spec.Template);
        var pods = new[] { DsPod(ds, "n1", hash: oldHash), DsPod(ds, "n2", hash: oldHash), DsPod(ds, "n3", hash: oldHash) };

        var first = DaemonSetCalc.Calc(ds, [Node("n1"), Node("n2"), Node("n3")], pods, Now);
        Assert.Equal(["agent-n1"], first.Delete.Select(p => p.Metadata.Name));
        Assert.Empty(first.Create);
        Assert.Equal(2, first.Status.ObservedGeneration);
        Assert.Null(first.Status.UpdatedNumberScheduled);

        // n1's new pod exists but is not ready yet: nothing more goes.
        var second = DaemonSetCalc.Calc(ds, [Node("n1"), Node("n2"), Node("n3")], [DsPod(ds, "n1", ready: false), pods[1], pods[2]], Now);
        Assert.Empty(second.Delete);
        Assert.Equal(1, second.Status.UpdatedNumberScheduled);

        // Ready: the next old pod goes.
        var third = DaemonSetCalc.Calc(ds, [Node("n1"), Node("n2"), Node("n3")], [DsPod(ds, "n1"), pods[1], pods[2]], Now);
        Assert.Equal(["agent-n2"], third.Delete.Select(p => p.Metadata.Name));
    }

    [Fact]
    public void RollingUpdate_OldPodsThatAreNotAvailable_GoAtOnce()
    {
        var ds = Ds("agent:2");
        var pods = new[] { DsPod(ds, "n1", ready: false, hash: "old"), DsPod(ds, "n2", ready: false, hash: "old"), DsPod(ds, "n3", hash: "old") };
        var plan = DaemonSetCalc.Calc(ds, [Node("n1"), Node("n2"), Node("n3")], pods, Now);
        Assert.Equal(["agent-n1", "agent-n2"], plan.Delete.Select(p => p.Metadata.Name));
    }

    [Fact]
    public void RollingUpdate_MaxSurge_StartsNewBesideOld_ThenRemovesOld()
    {
        var ds = Ds("agent:2", maxUnavailable: "0", maxSurge: "1");
        var nodes = new[] { Node("n1"), Node("n2") };
        var old = new[] { DsPod(ds, "n1", hash: "old"), DsPod(ds, "n2", hash: "old") };

        var first = DaemonSetCalc.Calc(ds, nodes, old, Now);
        Assert.Equal(["n1"], first.Create.Select(Target));
        Assert.Empty(first.Delete);

        var surging = DaemonSetCalc.Calc(ds, nodes, [.. old, DsPod(ds, "n1", ready: false, name: "agent-n1-new")], Now);
        Assert.Empty(surging.Create);
        Assert.Empty(surging.Delete);

        var replaced = DaemonSetCalc.Calc(ds, nodes, [.. old, DsPod(ds, "n1", name: "agent-n1-new")], Now);
        Assert.Equal(["agent-n1"], replaced.Delete.Select(p => p.Metadata.Name));
        Assert.Equal(["n2"], replaced.Create.Select(Target));
    }

    [Fact]
    public void OnDelete_LeavesOldPods_ButReplacesDeletedOnesWithTheNewTemplate()
    {
        var ds = Ds("agent:2", strategy: "OnDelete");
        var plan = DaemonSetCalc.Calc(ds, [Node("n1"), Node("n2")], [DsPod(ds, "n1", hash: "old")], Now);

        Assert.Empty(plan.Delete);
        var created = Assert.Single(plan.Create);
        Assert.Equal("n2", Target(created));
        Assert.Equal("agent:2", created.Spec.Containers[0].Image);
    }

    [Fact]
    public void Status_CountsReadyAvailableUpdated_AndWaitsForMinReadySeconds()
    {
        var ds = Ds();
        ds.Spec.MinReadySeconds = 30;
        var fresh = DsPod(ds, "n1");
        fresh.Status.Conditions[0].LastTransitionTime = Now.AddSeconds(-10);
        var seasoned = DsPod(ds, "n2");
        seasoned.Status.Conditions[0].LastTransitionTime = Now.AddMinutes(-5);

        var plan = DaemonSetCalc.Calc(ds, [Node("n1"), Node("n2"), Node("n3")], [fresh, seasoned], Now);

        Assert.Equal((3, 2, 2, 1, 2, 2), (plan.Status.DesiredNumberScheduled, plan.Status.CurrentNumberScheduled, plan.Status.NumberReady,
            plan.Status.NumberAvailable ?? 0, plan.Status.UpdatedNumberScheduled ?? 0, plan.Status.NumberUnavailable ?? 0));
        Assert.Equal(Now.AddSeconds(20), plan.NextCheck);
    }

    [Fact]
    public void PodsOfOtherOwners_AreNotCounted()
    {
        var ds = Ds();
        var stranger = Pod("stranger", node: "n1", labels: new Dictionary<string, string> { ["app"] = "agent" });
        var plan = DaemonSetCalc.Calc(ds, [Node("n1")], [stranger], Now);
        Assert.Equal(["n1"], plan.Create.Select(Target));
        Assert.Empty(plan.Delete);
    }
}
