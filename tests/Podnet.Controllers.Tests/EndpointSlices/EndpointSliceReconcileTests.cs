using k8s.Models;
using Podnet.Controllers.EndpointSlices;
using static Podnet.Controllers.Tests.Objects;

namespace Podnet.Controllers.Tests.EndpointSlices;

/// <summary>The reconcile step against slices that exist: fewest writes, no rebalancing.</summary>
public sealed class EndpointSliceReconcileTests
{
    private static List<V1Pod> Pods(int count, int offset = 0) =>
        Enumerable.Range(offset, count).Select(i => Pod($"p{i:D4}", $"10.244.{i / 200}.{i % 200 + 1}")).ToList();

    private static SliceStore Converged(V1Service service, IEnumerable<V1Pod> pods, int max = 100)
    {
        var store = new SliceStore();
        store.Apply(EndpointSliceCalc.Calc(service, pods, store.Slices, maxEndpointsPerSlice: max));
        Assert.True(EndpointSliceCalc.Calc(service, pods, store.Slices, maxEndpointsPerSlice: max).IsEmpty);
        return store;
    }

    [Fact]
    public void Calc_Unchanged_NoWrites()
    {
        var store = Converged(Service(), Pods(150));
        Assert.True(EndpointSliceCalc.Calc(Service(), Pods(150), store.Slices).IsEmpty);
    }

    [Fact]
    public void Calc_OnePodAdded_FillsTheSliceThatFitsInsteadOfCreating()
    {
        var store = Converged(Service(), Pods(130)); // 100 + 30

        var plan = EndpointSliceCalc.Calc(Service(), Pods(131), store.Slices);

        Assert.Empty(plan.Create);
        var update = Assert.Single(plan.Update);
        Assert.Equal(31, update.Endpoints.Count);
        Assert.Equal(store.Slices.Single(s => s.Endpoints.Count == 30).Metadata.Name, update.Metadata.Name);
    }

    [Fact]
    public void Calc_PodAddedWhenEverySliceIsFull_CreatesOneSlice()
    {
        var store = Converged(Service(), Pods(200));

        var plan = EndpointSliceCalc.Calc(Service(), Pods(201), store.Slices);

        Assert.Single(Assert.Single(plan.Create).Endpoints);
        Assert.Empty(plan.Update);
        Assert.Empty(plan.Delete);
    }

    [Fact]
    public void Calc_PodRemoved_UpdatesOnlyItsSlice_AndNeverRebalances()
    {
        var store = Converged(Service(), Pods(200));
        var remaining = Pods(200).Where(p => p.Metadata.Name != "p0150").ToList();

        var plan = EndpointSliceCalc.Calc(Service(), remaining, store.Slices);
        store.Apply(plan);
        var plan2 = EndpointSliceCalc.Calc(Service(), remaining.Skip(50).ToList(), store.Slices);

        var update = Assert.Single(plan.Update);
        Assert.Equal(99, update.Endpoints.Count);
        Assert.DoesNotContain(update.Endpoints, e => e.TargetRef.Name == "p0150");
        Assert.Empty(plan.Create);
        Assert.Empty(plan.Delete);
        Assert.Equal([50], plan2.Update.Select(s => s.Endpoints.Count)); // the 99-slice is left as it is
        Assert.Empty(plan2.Create);
        Assert.Empty(plan2.Delete);
    }

    [Fact]
    public void Calc_PodBecomesNotReady_UpdatesItsEndpointInPlace()
    {
        var pods = Pods(3);
        var store = Converged(Service(), pods);
        pods[1].Status.Conditions[0].Status = "False";

        var plan = EndpointSliceCalc.Calc(Service(), pods, store.Slices);

        var update = Assert.Single(plan.Update);
        Assert.Equal(store.Slices[0].Metadata.Name, update.Metadata.Name);
        Assert.Equal([true, false, true], update.Endpoints.Select(e => e.Conditions.Ready!.Value));
    }

    [Fact]
    public void Calc_AllPodsGone_LeavesOnePlaceholderByUpdatingNotRecreating()
    {
        var store = Converged(Service(), Pods(150));

        var plan = EndpointSliceCalc.Calc(Service(), [], store.Slices);
        store.Apply(plan);

        var placeholder = Assert.Single(plan.Update);
        Assert.Empty(placeholder.Endpoints);
        Assert.Empty(placeholder.Ports);
        Assert.Single(plan.Delete);
        Assert.Empty(plan.Create);
        Assert.True(EndpointSliceCalc.Calc(Service(), [], store.Slices).IsEmpty);
    }

    [Fact]
    public void Calc_NewServiceWithoutPods_CreatesPlaceholder_ThenReplacesItWithEndpoints()
    {
        var store = Converged(Service(), []);
        var placeholder = Assert.Single(store.Slices);
        Assert.Empty(placeholder.Endpoints);

        var plan = EndpointSliceCalc.Calc(Service(), Pods(2), store.Slices);

        var update = Assert.Single(plan.Update);
        Assert.Equal(placeholder.Metadata.Name, update.Metadata.Name);
        Assert.Equal(2, update.Endpoints.Count);
        Assert.Empty(plan.Create);
        Assert.Empty(plan.Delete);
    }

    [Fact]
    public void Calc_ServicePortChanged_RewritesSlicesInPlace()
    {
        var store = Converged(Service(), Pods(3));
        var changed = Service(ports: [ServicePort("http", 80, "9000")]);

        var plan = EndpointSliceCalc.Calc(changed, Pods(3), store.Slices);

        var update = Assert.Single(plan.Update);
        Assert.Equal(9000, update.Ports.Single().Port);
        Assert.Empty(plan.Delete);
        Assert.Empty(plan.Create);
    }

    [Fact]
    public void Calc_ServiceLabelsChanged_UpdatesSliceLabels()
    {
        var store = Converged(Service(), Pods(3));
        var relabelled = Service();
        relabelled.Metadata.Labels = new Dictionary<string, string> { ["tier"] = "front" };

        var update = Assert.Single(EndpointSliceCalc.Calc(relabelled, Pods(3), store.Slices).Update);

        Assert.Equal("front", update.Metadata.Labels["tier"]);
    }

    [Fact]
    public void Calc_ScaleFrom250To120AndBack_ConvergesWithAtMostMaxPerSlice()
    {
        var store = Converged(Service(), Pods(250));
        foreach (var count in new[] { 120, 7, 260 })
        {
            store.Apply(EndpointSliceCalc.Calc(Service(), Pods(count), store.Slices));
            Assert.Equal(count, store.EndpointCount);
            Assert.All(store.Slices, s => Assert.InRange(s.Endpoints.Count, 1, 100));
            Assert.True(EndpointSliceCalc.Calc(Service(), Pods(count), store.Slices).IsEmpty);
        }
    }
}
