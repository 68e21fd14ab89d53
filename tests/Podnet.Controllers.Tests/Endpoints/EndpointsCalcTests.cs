using k8s.Models;
using Podnet.Controllers.Endpoints;
using static Podnet.Controllers.Tests.Objects;

namespace Podnet.Controllers.Tests.Endpoints;

/// <summary>The endpoints controller's compute step, checked against what upstream's writes for the same objects.</summary>
public sealed class EndpointsCalcTests
{
    private static V1Endpoints Created(EndpointsPlan plan) => plan.Create ?? throw new Xunit.Sdk.XunitException("expected a create");

    [Fact]
    public void ReadyAndNotReadyPods_AddressesAndNotReadyAddresses_PortsByName()
    {
        var service = Service(ports: [ServicePort("http", 80, "http"), ServicePort("metrics", 9000, "9100")]);
        var pods = new[]
        {
            Pod("b", "10.244.1.3", ports: Port("http", 8080)),
            Pod("a", "10.244.1.2", ports: Port("http", 8080)),
            Pod("c", "10.244.2.2", ready: false, ports: Port("http", 8080)),
            Pod("nolabel", "10.244.2.9", labels: new Dictionary<string, string> { ["app"] = "other" }, ports: Port("http", 8080)),
            Pod("noip", null, ports: Port("http", 8080)),
        };

        var endpoints = Created(EndpointsCalc.Calc(service, pods, null));

        var subset = Assert.Single(endpoints.Subsets);
        Assert.Equal(["10.244.1.2", "10.244.1.3"], subset.Addresses.Select(a => a.Ip));
        Assert.Equal("10.244.2.2", Assert.Single(subset.NotReadyAddresses).Ip);
        Assert.Equal(["http:8080", "metrics:9100"], subset.Ports.Select(p => $"{p.Name}:{p.Port}"));
        Assert.Equal("Pod/default/a/uid-a n1", $"{subset.Addresses[0].TargetRef.Kind}/{subset.Addresses[0].TargetRef.NamespaceProperty}/{subset.Addresses[0].TargetRef.Name}/{subset.Addresses[0].TargetRef.Uid} {subset.Addresses[0].NodeName}");
        Assert.Equal("web", endpoints.Metadata.Name);
    }

    [Fact]
    public void PodWithoutTheNamedPort_IsInItsOwnSubset_WithThePortsItHas()
    {
        var service = Service(ports: [ServicePort("http", 80, "http"), ServicePort("raw", 81, "81")]);
        var pods = new[] { Pod("a", "10.244.1.2", ports: Port("http", 8080)), Pod("b", "10.244.1.3") };

        var endpoints = Created(EndpointsCalc.Calc(service, pods, null));

        Assert.Equal(2, endpoints.Subsets.Count);
        Assert.Contains(endpoints.Subsets, s => s.Addresses.Single().Ip == "10.244.1.3" && s.Ports.Single().Name == "raw");
        Assert.Contains(endpoints.Subsets, s => s.Addresses.Single().Ip == "10.244.1.2" && s.Ports.Count == 2);
    }

    [Fact]
    public void TerminatingAndFinishedPods_AreLeftOut_UnlessPublishNotReadyKeepsTerminating()
    {
        var service = Service();
        var terminating = Pod("t", "10.244.1.2", ports: Port("http", 8080));
        terminating.Metadata.DeletionTimestamp = DateTime.UtcNow;
        var done = Pod("d", "10.244.1.3", ports: Port("http", 8080));
        done.Status.Phase = "Succeeded";

        Assert.Null(Created(EndpointsCalc.Calc(service, [terminating, done], null)).Subsets);

        service.Spec.PublishNotReadyAddresses = true;
        var published = Created(EndpointsCalc.Calc(service, [terminating, done, Pod("n", "10.244.1.4", ready: false, ports: Port("http", 8080))], null));
        Assert.Equal(["10.244.1.2", "10.244.1.4"], published.Subsets.Single().Addresses.Select(a => a.Ip));
    }

    [Fact]
    public void DualStackPod_OnlyTheServicesPrimaryFamily()
    {
        var service = Service(families: ["IPv6", "IPv4"]);
        var endpoints = Created(EndpointsCalc.Calc(service, [Pod("a", "10.244.1.2,fd00:10:244:1::2", ports: Port("http", 8080))], null));
        Assert.Equal("fd00:10:244:1::2", endpoints.Subsets.Single().Addresses.Single().Ip);
    }

    [Fact]
    public void HeadlessWithoutPorts_AddressesWithoutPorts_AndTheHeadlessLabel_AndHostname()
    {
        var service = Service(clusterIp: "None");
        service.Spec.Ports = null;
        service.Metadata.Labels = new Dictionary<string, string> { ["team"] = "a" };
        var pod = Pod("a", "10.244.1.2");
        pod.Spec.Hostname = "host-a";
        pod.Spec.Subdomain = "web";

        var endpoints = Created(EndpointsCalc.Calc(service, [pod], null));

        var subset = endpoints.Subsets.Single();
        Assert.Null(subset.Ports);
        Assert.Equal("host-a", subset.Addresses.Single().Hostname);
        Assert.Equal(new Dictionary<string, string> { ["team"] = "a", [EndpointsCalc.HeadlessLabel] = "" }, endpoints.Metadata.Labels);
    }

    [Fact]
    public void NoSelector_NothingToWrite_TheEndpointsAreTheUsers()
    {
        var service = Service();
        service.Spec.Selector = null;
        Assert.Equal(EndpointsPlan.None, EndpointsCalc.Calc(service, [Pod("a", "10.244.1.2", ports: Port("http", 8080))], null));
    }

    [Fact]
    public void Unchanged_NoWrite_Changed_ReplacesWithTheStoredVersion()
    {
        var service = Service();
        var pods = new List<V1Pod> { Pod("a", "10.244.1.2", ports: Port("http", 8080)) };
        var stored = Created(EndpointsCalc.Calc(service, pods, null));
        stored.Metadata.ResourceVersion = "7";
        stored.Subsets[0].Addresses[0].TargetRef.ResourceVersion = "3"; // ignored, as upstream

        Assert.Equal(EndpointsPlan.None, EndpointsCalc.Calc(service, pods, stored));

        pods.Add(Pod("b", "10.244.1.3", ports: Port("http", 8080)));
        var update = EndpointsCalc.Calc(service, pods, stored).Update!;
        Assert.Equal("7", update.Metadata.ResourceVersion);
        Assert.Equal(2, update.Subsets[0].Addresses.Count);
    }

    [Fact]
    public void LastChangeTriggerTime_IsTheNewestPodChange()
    {
        var service = Service();
        service.Metadata.CreationTimestamp = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var a = Pod("a", "10.244.1.2", ports: Port("http", 8080));
        a.Status.Conditions[0].LastTransitionTime = new DateTime(2026, 1, 1, 0, 0, 5, DateTimeKind.Utc);
        var b = Pod("b", "10.244.1.3", ports: Port("http", 8080));
        b.Status.Conditions[0].LastTransitionTime = new DateTime(2026, 1, 1, 0, 0, 9, 250, DateTimeKind.Utc);

        var endpoints = Created(EndpointsCalc.Calc(service, [a, b], null));

        Assert.Equal("2026-01-01T00:00:09.25Z", endpoints.Metadata.Annotations[EndpointsCalc.LastChangeTriggerTimeAnnotation]);
    }

    [Fact]
    public void PastOneThousand_TruncatedAndAnnotated_ReadyFirst()
    {
        var service = Service();
        var pods = Enumerable.Range(0, 1100).Select(i => Pod($"p{i}", $"10.244.{i / 200}.{i % 200 + 2}", ready: i < 900, ports: Port("http", 8080))).ToList();

        var endpoints = Created(EndpointsCalc.Calc(service, pods, null));

        var subset = endpoints.Subsets.Single();
        Assert.Equal(900, subset.Addresses.Count);
        Assert.Equal(100, subset.NotReadyAddresses.Count);
        Assert.Equal("truncated", endpoints.Metadata.Annotations[EndpointsCalc.OverCapacityAnnotation]);

        // Back under capacity: the annotation goes.
        var fewer = EndpointsCalc.Calc(service, pods.Take(10).ToList(), endpoints).Update!;
        Assert.False(fewer.Metadata.Annotations?.ContainsKey(EndpointsCalc.OverCapacityAnnotation) == true);
    }

    [Fact]
    public void Truncate_TooManyReady_ProportionalPerSubset_NotReadyDropped()
    {
        static List<V1EndpointAddress> N(int n, string prefix) => Enumerable.Range(0, n).Select(i => new V1EndpointAddress { Ip = $"{prefix}.{i}" }).ToList();
        var subsets = new List<V1EndpointSubset>
        {
            new() { Addresses = N(600, "a"), NotReadyAddresses = N(10, "x") },
            new() { Addresses = N(900, "b") },
        };

        Assert.True(EndpointsCalc.Truncate(subsets));

        // ceil(600/1500 * 1000) = 400 for the first; the last takes what remains.
        Assert.Equal(400, subsets[0].Addresses.Count);
        Assert.Null(subsets[0].NotReadyAddresses);
        Assert.Equal(600, subsets[1].Addresses.Count);
    }
}

/// <summary>The mirroring controller leaves the Endpoints this controller writes alone: their Service has a selector.</summary>
public sealed class EndpointsMirroringTests
{
    [Fact]
    public void EndpointsOfASelectorService_AreNotMirrored()
    {
        var service = Service();
        var endpoints = EndpointsCalc.Calc(service, [Pod("a", "10.244.1.2", ports: Port("http", 8080))], null).Create!;

        Assert.False(Podnet.Controllers.EndpointSlices.EndpointSliceMirroring.ShouldMirror(endpoints, service));
        Assert.Empty(Podnet.Controllers.EndpointSlices.EndpointSliceMirroring.Calc(endpoints, service, []).Create);
    }
}
