using System.Net;
using Podnet.Core.Cluster;
using Podnet.Proxy;
using static Podnet.Proxy.Tests.Cluster;

namespace Podnet.Proxy.Tests;

public sealed class AnnouncementCalcTests
{
    private static readonly string[] Nodes = ["n1", "n2", "n3"];

    private static ServiceInfo Lb(string name, string address, TrafficPolicy policy = TrafficPolicy.Cluster) =>
        Svc(name, "10.96.0.10") with { Type = "LoadBalancer", LoadBalancerIPs = [IPAddress.Parse(address)], ExternalTrafficPolicy = policy };

    private static Dictionary<string, IReadOnlySet<IPAddress>> Everyone(IReadOnlyList<ServiceInfo> services, IReadOnlyCollection<string> ready, params EndpointSliceInfo[] slices) =>
        Nodes.ToDictionary(n => n, n => AnnouncementCalc.Mine(n, services, s => slices.Where(x => x.ServiceName == s.Name).ToArray(), ready));

    [Fact]
    public void EveryAddress_HasExactlyOneAnnouncer_AmongTheReadyNodes()
    {
        var services = Enumerable.Range(0, 40).Select(i => Lb($"s{i}", $"172.18.0.{200 + i}") with { ExternalIPs = [IPAddress.Parse($"172.18.0.{100 + i}")] }).ToArray();
        var all = Everyone(services, Nodes);
        foreach (var address in services.SelectMany(s => s.LoadBalancerIPs.Concat(s.ExternalIPs)))
        {
            Assert.Single(all.Values, set => set.Contains(address));
        }
        // Spread: 80 addresses over three nodes, none left out.
        Assert.All(all.Values, set => Assert.True(set.Count > 0));
    }

    [Fact]
    public void ANodeLeaving_MovesOnlyItsAddresses()
    {
        var services = Enumerable.Range(0, 30).Select(i => Lb($"s{i}", $"172.18.0.{200 + i}")).ToArray();
        var before = Everyone(services, Nodes);
        var after = Everyone(services, ["n1", "n3"]);
        Assert.Empty(after["n2"]);
        Assert.Superset((HashSet<IPAddress>)[.. before["n1"]], (HashSet<IPAddress>)[.. after["n1"]]);
        Assert.Superset((HashSet<IPAddress>)[.. before["n3"]], (HashSet<IPAddress>)[.. after["n3"]]);
        Assert.Equal(30, after["n1"].Count + after["n3"].Count);
    }

    [Fact]
    public void PolicyLocal_OnlyNodesWithAReadyEndpointAnnounce_NoneWhenNoneHas()
    {
        var services = Enumerable.Range(0, 10).Select(i => Lb($"s{i}", $"172.18.0.{200 + i}", TrafficPolicy.Local)).ToArray();
        var slices = services.Select(s => Slice(s.Name, [P(80)], Ep("10.244.2.5", node: "n2"), Ep("10.244.3.5", ready: false, node: "n3"))).ToArray();
        var all = Everyone(services, Nodes, slices);
        Assert.Equal(10, all["n2"].Count);
        Assert.Empty(all["n1"]);
        Assert.Empty(all["n3"]);
        Assert.All(Everyone(services, ["n1", "n3"], slices).Values, Assert.Empty);
    }

    [Fact]
    public void NotALoadBalancer_IngressIsNotAnnounced_ExternalIPsAre()
    {
        var svc = Lb("s", "172.18.0.200") with { Type = "ClusterIP", ExternalIPs = [IPAddress.Parse("172.18.0.150")] };
        var announced = Everyone([svc], Nodes).Values.SelectMany(s => s).ToArray();
        Assert.Equal([IPAddress.Parse("172.18.0.150")], announced);
    }
}
