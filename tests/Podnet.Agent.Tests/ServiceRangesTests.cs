using System.Net;
using k8s.Models;
using Podnet.Agent.Routing;

namespace Podnet.Agent.Tests;

public sealed class ServiceRangesTests
{
    private static readonly IReadOnlyList<IPNetwork> Configured = [IPNetwork.Parse("10.96.0.0/16")];

    private static V1ServiceCIDR Cidr(string name, params string[] cidrs) =>
        new() { Metadata = new V1ObjectMeta { Name = name }, Spec = new V1ServiceCIDRSpec { Cidrs = cidrs } };

    [Fact]
    public void WithoutServiceCidrObjects_TheConfiguredRangeHolds()
    {
        Assert.Same(Configured, ServiceRanges.Of([], Configured));
        Assert.Same(Configured, ServiceRanges.Of([Cidr("broken", "not-a-cidr")], Configured));
    }

    [Fact]
    public void EveryCidrOfEveryObject_OnceEach_InOneOrder()
    {
        var ranges = ServiceRanges.Of(
            [Cidr("kubernetes", "10.96.0.0/16", "fd00:10:96::/112"), Cidr("extra", "10.97.0.0/24"), Cidr("again", "10.96.0.0/16")],
            Configured);
        Assert.Equal(["10.96.0.0/16", "10.97.0.0/24", "fd00:10:96::/112"], ranges.Select(r => r.ToString()));
        Assert.True(ServiceRanges.Same(ranges, ServiceRanges.Of([Cidr("extra", "10.97.0.0/24"), Cidr("kubernetes", "fd00:10:96::/112", "10.96.0.0/16")], Configured)));
        Assert.False(ServiceRanges.Same(ranges, Configured));
    }
}
