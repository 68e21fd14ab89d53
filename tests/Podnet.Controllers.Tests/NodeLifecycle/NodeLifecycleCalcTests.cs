using k8s.Models;
using Podnet.Controllers.NodeLifecycle;
using static Podnet.Controllers.Tests.Objects;

namespace Podnet.Controllers.Tests.NodeLifecycle;

public sealed class NodeLifecycleCalcTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(40);

    private static DateTime Never(string node, V1Taint taint) => throw new InvalidOperationException("every taint here has timeAdded");

    private static NodeLifecyclePlan Calc(V1Node node, NodeHealth health, DateTime now, params V1Pod[] pods) =>
        NodeLifecycleCalc.Calc([node], new Dictionary<string, NodeHealth> { [node.Metadata.Name] = health }, pods, now, Grace, Never);

    [Fact]
    public void Observe_KeepsProbeTime_WhileHeartbeatIsTheSame_AndMovesItWhenItChanges()
    {
        var first = NodeHealth.Observe(null, T0, T0.AddSeconds(5));
        Assert.Equal(T0.AddSeconds(5), first.ProbedAt);
        Assert.Same(first, NodeHealth.Observe(first, T0, T0.AddSeconds(30)));
        Assert.Equal(T0.AddSeconds(50), NodeHealth.Observe(first, T0.AddSeconds(10), T0.AddSeconds(50)).ProbedAt);
        Assert.False(first.Stale(T0.AddSeconds(45), Grace));
        Assert.True(first.Stale(T0.AddSeconds(46), Grace));
    }

    [Fact]
    public void FreshNode_NothingToWrite_NextCheckWhenItWouldGoStale()
    {
        var plan = Calc(Node("n1"), new NodeHealth(T0, T0), T0.AddSeconds(10), Pod("a", node: "n1"));

        Assert.Empty(plan.Nodes);
        Assert.Empty(plan.PodsNotReady);
        Assert.Empty(plan.Evictions);
        Assert.Equal(T0 + Grace + TimeSpan.FromMilliseconds(1), plan.NextCheck);
    }

    [Fact]
    public void StaleNode_ReadyUnknownWithUpstreamReason_UnreachableTaints_PodsNotReady()
    {
        var node = Node("n2");
        node.Status.Conditions[0].LastHeartbeatTime = T0;
        var now = T0.AddSeconds(41);
        var plan = Calc(node, new NodeHealth(T0, T0), now, Pod("a", node: "n2"), Pod("other", node: "n1"));

        var update = Assert.Single(plan.Nodes);
        var ready = Assert.Single(update.Conditions!);
        Assert.Equal(("Ready", "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status."), (ready.Type, ready.Status, ready.Reason, ready.Message));
        Assert.Equal(T0, ready.LastHeartbeatTime);
        Assert.Equal(now, ready.LastTransitionTime);
        Assert.Equal(["node.kubernetes.io/unreachable:NoSchedule", "node.kubernetes.io/unreachable:NoExecute"], update.Taints!.Select(t => $"{t.Key}:{t.Effect}"));
        Assert.All(update.Taints!, t => Assert.Equal(now, t.TimeAdded));
        var pod = Assert.Single(plan.PodsNotReady);
        Assert.Equal("a", pod.Name);
        Assert.Equal("False", pod.Conditions.Single(c => c.Type == "Ready").Status);
        // No toleration at all: the NoExecute taint evicts at once (the admission adds 300 s to real pods).
        Assert.Equal("a", Assert.Single(plan.Evictions).Name);
    }

    [Fact]
    public void UnknownNode_AlreadyTainted_NothingMoreToWrite_UntilTolerationEnds()
    {
        var added = T0.AddSeconds(41);
        var node = Node("n2", true, false, null,
            new V1Taint { Key = "node.kubernetes.io/unreachable", Effect = "NoSchedule", TimeAdded = added },
            new V1Taint { Key = "node.kubernetes.io/unreachable", Effect = "NoExecute", TimeAdded = added });
        node.Status.Conditions[0].Status = "Unknown";
        var pod = Pod("a", node: "n2", ready: false);
        pod.Spec.Tolerations = [new V1Toleration { Key = "node.kubernetes.io/unreachable", OperatorProperty = "Exists", Effect = "NoExecute", TolerationSeconds = 5 }];

        var before = Calc(node, new NodeHealth(T0, T0), added.AddSeconds(4), pod);
        Assert.Empty(before.Nodes);
        Assert.Empty(before.PodsNotReady);
        Assert.Empty(before.Evictions);
        Assert.Equal(added.AddSeconds(5), before.NextCheck);

        var after = Calc(node, new NodeHealth(T0, T0), added.AddSeconds(5), pod);
        Assert.Equal("a", Assert.Single(after.Evictions).Name);
    }

    [Fact]
    public void NodeBack_ReadyTrue_ManagedTaintsRemoved_OthersKept()
    {
        var node = Node("n2", true, false, null,
            new V1Taint { Key = "node.kubernetes.io/unreachable", Effect = "NoExecute", TimeAdded = T0 },
            new V1Taint { Key = "dedicated", Value = "gpu", Effect = "NoSchedule" });
        var plan = Calc(node, new NodeHealth(T0.AddSeconds(60), T0.AddSeconds(60)), T0.AddSeconds(61));

        var update = Assert.Single(plan.Nodes);
        Assert.Null(update.Conditions);
        Assert.Equal(["dedicated:NoSchedule"], update.Taints!.Select(t => $"{t.Key}:{t.Effect}"));
    }

    [Fact]
    public void ReadyFalse_NotReadyTaints_AndUnschedulable_GetsItsTaint()
    {
        var node = Node("n1", ready: false, unschedulable: true);
        var plan = Calc(node, new NodeHealth(T0, T0), T0.AddSeconds(1));

        var update = Assert.Single(plan.Nodes);
        Assert.Null(update.Conditions);
        Assert.Equal(["node.kubernetes.io/not-ready:NoSchedule", "node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/unschedulable:NoSchedule"],
            update.Taints!.Select(t => $"{t.Key}:{t.Effect}"));
    }

    [Fact]
    public void NodeThatNeverPostedStatus_GetsReadyUnknown_NeverUpdated()
    {
        var node = new V1Node { Metadata = new V1ObjectMeta { Name = "n9", CreationTimestamp = T0 }, Spec = new V1NodeSpec() };
        var plan = Calc(node, new NodeHealth(null, T0), T0.AddSeconds(41));

        var ready = Assert.Single(Assert.Single(plan.Nodes).Conditions!);
        Assert.Equal(("Unknown", "NodeStatusNeverUpdated", "Kubelet never posted node status."), (ready.Status, ready.Reason, ready.Message));
    }

    [Fact]
    public void TerminalAndNotReadyPods_AreNotMarkedAgain()
    {
        var node = Node("n2");
        node.Status.Conditions[0].Status = "Unknown";
        var done = Pod("done", node: "n2");
        done.Status.Phase = "Succeeded";
        var plan = Calc(node, new NodeHealth(T0, T0), T0.AddSeconds(100), done, Pod("down", node: "n2", ready: false));

        Assert.Empty(plan.PodsNotReady);
    }
}
