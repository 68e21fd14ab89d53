using k8s.Models;
using Podnet.Controllers.EndpointSlices;
using static Podnet.Controllers.Tests.Objects;

namespace Podnet.Controllers.Tests.EndpointSlices;

public sealed class EndpointSliceCalcTests
{
    [Fact]
    public void Calc_ThreeReadyPods_OneSliceWithEverythingUpstreamSets()
    {
        var service = Service();
        service.Metadata.Labels = new Dictionary<string, string> { ["team"] = "a" };
        var pods = new[] { Pod("web-c", "10.244.1.3"), Pod("web-a", "10.244.1.1", node: "n2"), Pod("web-b", "10.244.1.2") };
        var nodes = new Dictionary<string, V1Node> { ["n2"] = Node("n2", labels: new Dictionary<string, string> { ["topology.kubernetes.io/zone"] = "z2" }) };

        var plan = EndpointSliceCalc.Calc(service, pods, [], nodes);

        var slice = Assert.Single(plan.Create);
        Assert.Empty(plan.Update);
        Assert.Empty(plan.Delete);
        Assert.Equal("web-", slice.Metadata.GenerateName);
        Assert.Equal("default", slice.Metadata.NamespaceProperty);
        Assert.Equal("IPv4", slice.AddressType);
        Assert.Equal("web", slice.Metadata.Labels["kubernetes.io/service-name"]);
        Assert.Equal("endpointslice-controller.k8s.io", slice.Metadata.Labels["endpointslice.kubernetes.io/managed-by"]);
        Assert.Equal("a", slice.Metadata.Labels["team"]);
        var owner = Assert.Single(slice.Metadata.OwnerReferences);
        Assert.Equal(("v1", "Service", "web", "uid-svc-web", true, true), (owner.ApiVersion, owner.Kind, owner.Name, owner.Uid, owner.Controller, owner.BlockOwnerDeletion));
        var port = Assert.Single(slice.Ports);
        Assert.Equal(("http", 8080, "TCP"), (port.Name, port.Port, port.Protocol));
        Assert.Equal(["10.244.1.1", "10.244.1.2", "10.244.1.3"], slice.Endpoints.Select(e => e.Addresses.Single()));
        var first = slice.Endpoints[0];
        Assert.Equal(("Pod", "default", "web-a", "uid-web-a"), (first.TargetRef.Kind, first.TargetRef.NamespaceProperty, first.TargetRef.Name, first.TargetRef.Uid));
        Assert.Equal(("n2", "z2"), (first.NodeName, first.Zone));
        Assert.Null(slice.Endpoints[1].Zone);
    }

    [Theory]
    // ready, terminating, publishNotReadyAddresses -> ready, serving, terminating
    [InlineData(true, false, false, true, true, false)]
    [InlineData(false, false, false, false, false, false)]
    [InlineData(true, true, false, false, true, true)]
    [InlineData(false, true, false, false, false, true)]
    [InlineData(false, false, true, true, false, false)]
    [InlineData(true, true, true, true, true, true)]
    public void Calc_Conditions_FollowReadinessTerminationAndPublishNotReady(
        bool podReady, bool terminating, bool publishNotReady, bool ready, bool serving, bool isTerminating)
    {
        var service = Service();
        service.Spec.PublishNotReadyAddresses = publishNotReady;
        var pod = Pod("p", "10.244.1.1", ready: podReady);
        if (terminating)
        {
            pod.Metadata.DeletionTimestamp = DateTime.UtcNow;
        }

        var endpoint = Assert.Single(Assert.Single(EndpointSliceCalc.Calc(service, [pod], []).Create).Endpoints);

        Assert.Equal((ready, serving, isTerminating), (endpoint.Conditions.Ready, endpoint.Conditions.Serving, endpoint.Conditions.Terminating));
    }

    [Theory]
    [InlineData(250, 100, new[] { 100, 100, 50 })]
    [InlineData(25, 10, new[] { 10, 10, 5 })]
    [InlineData(100, 100, new[] { 100 })]
    public void Calc_ManyPods_SplitIntoSlicesOfAtMostMax(int podCount, int max, int[] sizes)
    {
        var pods = Enumerable.Range(0, podCount).Select(i => Pod($"p{i:D4}", $"10.244.{i / 200}.{i % 200 + 1}"));

        var plan = EndpointSliceCalc.Calc(Service(), pods, [], maxEndpointsPerSlice: max);

        Assert.Equal(sizes, plan.Create.Select(s => s.Endpoints.Count));
    }

    [Fact]
    public void Calc_NamedPortResolvingToDifferentNumbers_SeparateSlices()
    {
        var service = Service(ports: [ServicePort("http", 80, "web")]);
        var pods = new[]
        {
            Pod("a", "10.244.1.1", ports: Port("web", 8080)),
            Pod("b", "10.244.1.2", ports: Port("web", 9090)),
            Pod("c", "10.244.1.3", ports: Port("web", 8080)),
            Pod("d", "10.244.1.4", ports: Port("web", 8080, "UDP")),
        };

        var plan = EndpointSliceCalc.Calc(service, pods, []);

        var byPort = plan.Create.ToDictionary(s => s.Ports.Count == 0 ? 0 : s.Ports.Single().Port ?? -1, s => s.Endpoints.Select(e => e.TargetRef.Name).ToArray());
        Assert.Equal(["a", "c"], byPort[8080]);
        Assert.Equal(["b"], byPort[9090]);
        Assert.Equal(["d"], byPort[0]); // the name exists only for UDP: no port for this TCP Service
    }

    [Theory]
    [InlineData(new[] { "IPv4" }, new[] { "IPv4" })]
    [InlineData(new[] { "IPv6" }, new[] { "IPv6" })]
    [InlineData(new[] { "IPv4", "IPv6" }, new[] { "IPv4", "IPv6" })]
    public void Calc_DualStackPods_OneSlicePerServiceFamily(string[] families, string[] expected)
    {
        var pods = new[] { Pod("a", "10.244.1.1,fd00:10:244:1::1"), Pod("b", "10.244.1.2,fd00:10:244:1::2") };

        var plan = EndpointSliceCalc.Calc(Service(families: families), pods, []);

        Assert.Equal(expected, plan.Create.Select(s => s.AddressType).Order());
        Assert.All(plan.Create, s => Assert.Equal(2, s.Endpoints.Count));
        Assert.Contains(plan.Create, s => s.AddressType != "IPv6" || s.Endpoints[0].Addresses[0] == "fd00:10:244:1::1");
    }

    [Theory]
    [InlineData("web", "web", "db-0")]
    [InlineData("other", "web", null)]
    [InlineData(null, "web", null)]
    public void Calc_Hostname_OnlyWhenSubdomainNamesTheService(string? subdomain, string service, string? expected)
    {
        var pod = Pod("db-0", "10.244.1.1");
        pod.Spec.Hostname = "db-0";
        pod.Spec.Subdomain = subdomain;

        var endpoint = Assert.Single(Assert.Single(EndpointSliceCalc.Calc(Service(service), [pod], []).Create).Endpoints);

        Assert.Equal(expected, endpoint.Hostname);
    }

    [Fact]
    public void Calc_LeavesOutTerminalPodsPodsWithoutIpOtherNamespacesAndUnselected()
    {
        var succeeded = Pod("done", "10.244.1.1");
        succeeded.Status.Phase = "Succeeded";
        var failed = Pod("failed", "10.244.1.2");
        failed.Status.Phase = "Failed";
        var pods = new[]
        {
            succeeded, failed, Pod("noip"), Pod("elsewhere", "10.244.1.3", ns: "other"),
            Pod("db", "10.244.1.4", labels: new Dictionary<string, string> { ["app"] = "db" }), Pod("yes", "10.244.1.5"),
        };

        var slice = Assert.Single(EndpointSliceCalc.Calc(Service(), pods, []).Create);

        Assert.Equal(["yes"], slice.Endpoints.Select(e => e.TargetRef.Name));
    }

    [Fact]
    public void Calc_HeadlessService_CarriesHeadlessLabel()
    {
        var slice = Assert.Single(EndpointSliceCalc.Calc(Service(clusterIp: "None"), [Pod("a", "10.244.1.1")], []).Create);
        Assert.Equal("", slice.Metadata.Labels["service.kubernetes.io/headless"]);
    }

    [Fact]
    public void Calc_NoSelector_DeletesOnlyOwnSlices()
    {
        var store = new SliceStore();
        store.Apply(EndpointSliceCalc.Calc(Service(), [Pod("a", "10.244.1.1")], []));
        var foreign = new V1EndpointSlice
        {
            Metadata = new V1ObjectMeta { Name = "web-custom", Labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = "web" } },
            AddressType = "IPv4",
        };
        var selectorless = Service();
        selectorless.Spec.Selector = null;

        var plan = EndpointSliceCalc.Calc(selectorless, [Pod("a", "10.244.1.1")], [.. store.Slices, foreign]);

        Assert.Equal([store.Slices[0].Metadata.Name], plan.Delete.Select(s => s.Metadata.Name));
        Assert.Empty(plan.Create);
    }
}
