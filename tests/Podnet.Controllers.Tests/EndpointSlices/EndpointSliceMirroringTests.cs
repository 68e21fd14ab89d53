using k8s.Models;
using Podnet.Controllers.EndpointSlices;
using static Podnet.Controllers.Tests.Objects;

namespace Podnet.Controllers.Tests.EndpointSlices;

public sealed class EndpointSliceMirroringTests
{
    private static V1Endpoints Endpoints(params V1EndpointSubset[] subsets) => new()
    {
        Metadata = new V1ObjectMeta { Name = "ext", NamespaceProperty = "default", Uid = "uid-ep", Labels = new Dictionary<string, string> { ["team"] = "x" } },
        Subsets = subsets,
    };

    private static V1EndpointSubset Subset(int port, string[] ready, string[]? notReady = null) => new()
    {
        Addresses = ready.Select(ip => new V1EndpointAddress { Ip = ip, NodeName = "n1" }).ToList(),
        NotReadyAddresses = notReady?.Select(ip => new V1EndpointAddress { Ip = ip }).ToList(),
        Ports = [new Corev1EndpointPort { Name = "p", Port = port }],
    };

    private static V1Service Selectorless()
    {
        var service = Service("ext");
        service.Spec.Selector = null;
        return service;
    }

    [Fact]
    public void Calc_SelectorlessService_MirrorsAddressesWithReadiness()
    {
        var plan = EndpointSliceMirroring.Calc(Endpoints(Subset(5432, ["192.0.2.1", "192.0.2.2"], ["192.0.2.3"])), Selectorless(), []);

        var slice = Assert.Single(plan.Create);
        Assert.Equal("ext-", slice.Metadata.GenerateName);
        Assert.Equal("endpointslicemirroring-controller.k8s.io", slice.Metadata.Labels["endpointslice.kubernetes.io/managed-by"]);
        Assert.Equal("ext", slice.Metadata.Labels["kubernetes.io/service-name"]);
        Assert.Equal("x", slice.Metadata.Labels["team"]);
        Assert.Equal(("Endpoints", "ext", "uid-ep"), (slice.Metadata.OwnerReferences[0].Kind, slice.Metadata.OwnerReferences[0].Name, slice.Metadata.OwnerReferences[0].Uid));
        Assert.Equal(("p", 5432, "TCP"), (slice.Ports[0].Name, slice.Ports[0].Port, slice.Ports[0].Protocol));
        Assert.Equal([true, true, false], slice.Endpoints.Select(e => e.Conditions.Ready!.Value));
        Assert.Equal("n1", slice.Endpoints[0].NodeName);
    }

    [Fact]
    public void Calc_MixedFamiliesAndPorts_GroupedIntoSeparateSlices()
    {
        var endpoints = Endpoints(Subset(80, ["192.0.2.1", "2001:db8::1", "not-an-ip"]), Subset(81, ["192.0.2.2"]), Subset(80, ["192.0.2.9"]));

        var plan = EndpointSliceMirroring.Calc(endpoints, Selectorless(), []);

        var summary = plan.Create.Select(s => $"{s.AddressType}:{s.Ports[0].Port}:{string.Join(",", s.Endpoints.Select(e => e.Addresses[0]))}").Order();
        Assert.Equal(["IPv4:80:192.0.2.1,192.0.2.9", "IPv4:81:192.0.2.2", "IPv6:80:2001:db8::1"], summary);
    }

    [Theory]
    [InlineData("selector")]
    [InlineData("missing")]
    [InlineData("skip")]
    public void Calc_NotMirrored_DeletesMirroredSlices(string reason)
    {
        var endpoints = Endpoints(Subset(80, ["192.0.2.1"]));
        var store = new SliceStore();
        store.Apply(EndpointSliceMirroring.Calc(endpoints, Selectorless(), []));
        var service = reason switch { "selector" => Service("ext"), "missing" => null, _ => Selectorless() };
        if (reason == "skip")
        {
            endpoints.Metadata.Labels["endpointslice.kubernetes.io/skip-mirror"] = "true";
        }

        var plan = EndpointSliceMirroring.Calc(endpoints, service, store.Slices);

        Assert.Single(plan.Delete);
        Assert.Empty(plan.Create);
    }

    [Fact]
    public void Calc_Converged_NoWrites()
    {
        var endpoints = Endpoints(Subset(80, ["192.0.2.1"]));
        var store = new SliceStore();
        store.Apply(EndpointSliceMirroring.Calc(endpoints, Selectorless(), []));
        Assert.True(EndpointSliceMirroring.Calc(endpoints, Selectorless(), store.Slices).IsEmpty);
    }
}
