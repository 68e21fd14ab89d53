using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Podnet.Controllers.StatefulSets;
using static Podnet.Controllers.Tests.StatefulSets.StatefulSetCalcTests;

namespace Podnet.Controllers.Tests.StatefulSets;

public sealed class StatefulSetRevisionsTests
{
    [Fact]
    public void FirstSync_CreatesRevisionOne_HoldingTheTemplateAsAReplacePatch()
    {
        var plan = StatefulSetRevisions.Calc(Set(1), [], []);

        var created = Assert.IsType<V1ControllerRevision>(plan.Create);
        Assert.Equal(1, created.Revision);
        Assert.Same(created, plan.Update);
        Assert.Same(created, plan.Current);
        var data = JsonNode.Parse(KubernetesJson.Serialize(created.Data))!;
        Assert.Equal("replace", (string?)data["spec"]!["template"]!["$patch"]);
        Assert.Equal("web:1", StatefulSetRevisions.Template(created).Spec.Containers[0].Image);
        Assert.Equal("uid-sts", created.Metadata.OwnerReferences.Single().Uid);
    }

    [Fact]
    public void SameTemplate_ReusesTheRevision_AndTheNameIsStable()
    {
        var first = StatefulSetRevisions.Calc(Set(1), [], []).Create!;

        var again = StatefulSetRevisions.Calc(Set(1), [RoundTrip(first)], []);

        Assert.Null(again.Create);
        Assert.Equal(first.Metadata.Name, again.Update.Metadata.Name);
        Assert.Equal(first.Metadata.Name, StatefulSetRevisions.Calc(Set(5), [], []).Create!.Metadata.Name);
    }

    [Fact]
    public void RollBack_ToAnOlderTemplate_RenumbersThatRevision()
    {
        var one = RoundTrip(StatefulSetRevisions.Calc(Set(1, image: "web:1"), [], []).Create!);
        var two = StatefulSetRevisions.Calc(Set(1, image: "web:2"), [one], []).Create!;
        two = RoundTrip(two);

        var back = StatefulSetRevisions.Calc(Set(1, image: "web:1"), [one, two], []);

        Assert.Null(back.Create);
        Assert.Equal((one.Metadata.Name, 3L), back.Renumber);
        Assert.Equal(one.Metadata.Name, back.Update.Metadata.Name);
    }

    [Fact]
    public void History_BeyondTheLimit_IsDeletedOldestFirst_ButNotRevisionsInUse()
    {
        var set = Set(1, image: "web:9");
        set.Spec.RevisionHistoryLimit = 1;
        var old = Enumerable.Range(1, 4).Select(i => RoundTrip(WithNumber(StatefulSetRevisions.Calc(Set(1, image: $"web:{i}"), [], []).Create!, i))).ToList();
        var inUse = Member(set, 0, old[0].Metadata.Name);

        var plan = StatefulSetRevisions.Calc(set, old, [inUse]);

        // web:1 is used by a pod; of web:2..4 one (the newest) is kept as history.
        Assert.Equal([old[1].Metadata.Name, old[2].Metadata.Name], plan.Delete);
    }

    private static V1ControllerRevision WithNumber(V1ControllerRevision r, long n)
    {
        r.Revision = n;
        return r;
    }

    /// <summary>As the informer would give it back: through JSON, data as a JsonElement.</summary>
    private static V1ControllerRevision RoundTrip(V1ControllerRevision r) =>
        KubernetesJson.Deserialize<V1ControllerRevision>(KubernetesJson.Serialize(r));
}
