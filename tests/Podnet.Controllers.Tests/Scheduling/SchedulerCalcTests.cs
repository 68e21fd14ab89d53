using k8s.Models;
using Podnet.Controllers.Scheduling;
using static Podnet.Controllers.Tests.Objects;

namespace Podnet.Controllers.Tests.Scheduling;

public sealed class SchedulerCalcTests
{
    private static V1Pod Pending(string name, params V1Toleration[] tolerations)
    {
        var pod = Pod(name, node: null);
        pod.Spec.Tolerations = tolerations.Length > 0 ? tolerations : null;
        return pod;
    }

    private static V1Taint Taint(string key, string? value, string effect) => new() { Key = key, Value = value, Effect = effect };

    private static V1Toleration Tol(string? key, string? op, string? value = null, string? effect = null) =>
        new() { Key = key, OperatorProperty = op, Value = value, Effect = effect };

    [Fact]
    public void ScheduleAll_SpreadsToFewestPods_CountingEarlierDecisions()
    {
        var nodes = new[] { Node("n1"), Node("n2"), Node("n3") };
        var pods = new[] { Pod("running", "10.244.0.5", node: "n1"), Pending("a"), Pending("b"), Pending("c") };

        var results = SchedulerCalc.ScheduleAll(pods, nodes);

        Assert.Equal(["a=n2", "b=n3", "c=n1"], results.Select(r => $"{r.PodName}={r.NodeName}"));
    }

    [Fact]
    public void ScheduleAll_HigherPriorityFirst_ThenOlder()
    {
        var old = Pending("old");
        old.Metadata.CreationTimestamp = new DateTime(2026, 1, 1);
        var young = Pending("young");
        young.Metadata.CreationTimestamp = new DateTime(2026, 1, 2);
        var important = Pending("important");
        important.Metadata.CreationTimestamp = new DateTime(2026, 1, 3);
        important.Spec.Priority = 1000;

        var results = SchedulerCalc.ScheduleAll([young, important, old], [Node("n1"), Node("n2"), Node("n3")]);

        Assert.Equal(["important=n1", "old=n2", "young=n3"], results.Select(r => $"{r.PodName}={r.NodeName}"));
    }

    [Fact]
    public void ScheduleAll_SkipsBoundTerminatingAndOtherSchedulersPods()
    {
        var terminating = Pending("t");
        terminating.Metadata.DeletionTimestamp = DateTime.UtcNow;
        var other = Pending("o");
        other.Spec.SchedulerName = "my-scheduler";

        Assert.Empty(SchedulerCalc.ScheduleAll([terminating, other, Pod("bound", node: "n1")], [Node("n1")]));
    }

    [Theory]
    [InlineData("ready", "n1")]
    [InlineData("notready", null)]
    [InlineData("unschedulable", null)]
    [InlineData("selector-miss", null)]
    [InlineData("selector-hit", "n1")]
    public void Schedule_NodeFilters(string scenario, string? expected)
    {
        var node = Node("n1", ready: scenario != "notready", unschedulable: scenario == "unschedulable",
            labels: new Dictionary<string, string> { ["disk"] = "ssd" });
        var pod = Pending("p");
        pod.Spec.NodeSelector = scenario switch
        {
            "selector-miss" => new Dictionary<string, string> { ["disk"] = "hdd" },
            "selector-hit" => new Dictionary<string, string> { ["disk"] = "ssd" },
            _ => null,
        };

        Assert.Equal(expected, SchedulerCalc.ScheduleAll([pod], [node]).Single().NodeName);
    }

    [Theory]
    // taint key=value:effect, toleration key|op|value|effect, tolerated?
    [InlineData("dedicated=gpu:NoSchedule", "", false)]
    [InlineData("dedicated=gpu:NoSchedule", "dedicated|Equal|gpu|", true)]
    [InlineData("dedicated=gpu:NoSchedule", "dedicated||gpu|", true)]
    [InlineData("dedicated=gpu:NoSchedule", "dedicated|Equal|cpu|", false)]
    [InlineData("dedicated=gpu:NoSchedule", "dedicated|Exists||", true)]
    [InlineData("dedicated=gpu:NoSchedule", "dedicated|Exists||NoExecute", false)]
    [InlineData("dedicated=gpu:NoSchedule", "dedicated|Exists||NoSchedule", true)]
    [InlineData("dedicated=gpu:NoSchedule", "|Exists||", true)]
    [InlineData("dedicated=gpu:NoSchedule", "other|Exists||", false)]
    [InlineData("dedicated=gpu:NoExecute", "", false)]
    [InlineData("dedicated=gpu:PreferNoSchedule", "", true)]
    public void Schedule_TaintsAndTolerations(string taint, string toleration, bool schedulable)
    {
        var (kv, effect) = (taint.Split(':')[0], taint.Split(':')[1]);
        var node = Node("n1", taints: Taint(kv.Split('=')[0], kv.Split('=')[1], effect));
        var t = toleration.Split('|');
        var pod = toleration.Length == 0 ? Pending("p") : Pending("p", Tol(Empty(t[0]), Empty(t[1]), Empty(t[2]), Empty(t[3])));

        var result = SchedulerCalc.ScheduleAll([pod], [node]).Single();

        Assert.Equal(schedulable ? "n1" : null, result.NodeName);
    }

    private static string? Empty(string s) => s.Length == 0 ? null : s;

    [Fact]
    public void Schedule_NotReadyNode_UsableWhenNotReadyTaintTolerated()
    {
        var pod = Pending("ds", Tol("node.kubernetes.io/not-ready", "Exists", effect: "NoSchedule"));
        Assert.Equal("n1", SchedulerCalc.ScheduleAll([pod], [Node("n1", ready: false)]).Single().NodeName);
    }

    [Fact]
    public void Schedule_NothingFits_ReasonCountsEachCause()
    {
        var nodes = new[] { Node("a", ready: false), Node("b", unschedulable: true), Node("c", taints: Taint("k", "v", "NoSchedule")), Node("d", taints: Taint("k", "v", "NoSchedule")) };

        var result = SchedulerCalc.ScheduleAll([Pending("p")], nodes).Single();

        Assert.Null(result.NodeName);
        Assert.Equal("0/4 nodes are available: 2 node(s) had untolerated taint {k: v}, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) were unschedulable.", result.Reason);
    }

    [Theory]
    [InlineData("In", "ssd", "n1")]
    [InlineData("NotIn", "ssd", "n2")]
    [InlineData("Exists", null, "n1")]
    [InlineData("DoesNotExist", null, "n2")]
    [InlineData("Gt", "3", "n1")]
    [InlineData("Lt", "3", null)]
    public void Schedule_RequiredNodeAffinity(string op, string? value, string? expected)
    {
        var n1 = Node("n1", labels: new Dictionary<string, string> { ["disk"] = "ssd", ["cores"] = "8" });
        var n2 = Node("n2");
        var key = op is "Gt" or "Lt" ? "cores" : "disk";
        var pod = Pending("p");
        pod.Spec.Affinity = new V1Affinity
        {
            NodeAffinity = new V1NodeAffinity
            {
                RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector
                {
                    NodeSelectorTerms = [new V1NodeSelectorTerm { MatchExpressions = [new V1NodeSelectorRequirement { Key = key, OperatorProperty = op, Values = value is null ? null : [value] }] }],
                },
            },
        };

        Assert.Equal(expected, SchedulerCalc.ScheduleAll([pod, Pod("busy", node: "n1")], [n1, n2]).Single().NodeName);
    }
}
