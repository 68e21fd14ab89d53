using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Podnet.Core.Net;
using Podnet.Kernel.Netlink;

namespace Podnet.Kernel.IntegrationTests;

public sealed class AddressRouteTests
{
    [PrivilegedFact]
    public void Addresses_Ipv4AndIpv6_AreUsableAtOnce()
    {
        using var scope = new NetnsScope();
        var ns = scope.Create("addr");
        ns.Rt.CreateVeth("d0", "d0p");
        ns.Rt.SetUp("d0p");
        ns.Rt.SetUp("d0");
        ns.Rt.AddAddress("d0", AddressPrefix.Parse("10.244.1.5/24"));
        ns.Rt.AddAddress("d0", AddressPrefix.Parse("fd00:10:244:1::5/64"));

        var index = ns.Rt.IndexOf("d0");
        var ours = ns.Rt.GetAddresses(index).Select(a => a.Prefix.ToString()).ToHashSet();
        Assert.Contains("10.244.1.5/24", ours);
        Assert.Contains("fd00:10:244:1::5/64", ours);
        Assert.True(ns.Rt.GetAddresses(index, AddressFamily.InterNetworkV6).Single(a => a.Prefix.Address.Equals(IPAddress.Parse("fd00:10:244:1::5"))).NoDad);

        var info = (JsonArray)Tools.Ip(ns.Netns, "addr", "show", "dev", "d0")[0]!["addr_info"]!;
        var v6 = info.Single(a => (string)a!["local"]! == "fd00:10:244:1::5")!;
        Assert.Null(v6["tentative"]); // no DAD wait: the address is usable immediately
        Assert.Contains(info, a => (string)a!["local"]! == "10.244.1.5" && (int)a["prefixlen"]! == 24);
    }

    [PrivilegedFact]
    public void AddAddress_Twice_FailsNamingTheAddress_EnsureKeepsIt()
    {
        using var scope = new NetnsScope();
        var ns = scope.Create("dupaddr");
        ns.Rt.CreateVeth("d0", "d0p");
        ns.Rt.SetUp("d0p");
        var prefix = AddressPrefix.Parse("10.1.2.3/16");
        ns.Rt.AddAddress("d0", prefix);
        var e = Assert.Throws<KernelException>(() => ns.Rt.AddAddress("d0", prefix));
        Assert.True(e.IsExists);
        Assert.Contains("10.1.2.3/16", e.Message);
        ns.Rt.EnsureAddress("d0", prefix);
        Assert.Single(ns.Rt.GetAddresses(ns.Rt.IndexOf("d0"), AddressFamily.InterNetwork));
        Assert.True(ns.Rt.DeleteAddress("d0", prefix));
        Assert.False(ns.Rt.DeleteAddress("d0", prefix));
        Assert.Empty(ns.Rt.GetAddresses(ns.Rt.IndexOf("d0"), AddressFamily.InterNetwork));
    }

    [PrivilegedFact]
    public void Routes_GatewayScopeMetricTable_MatchIpRoute()
    {
        using var scope = new NetnsScope();
        var ns = scope.Create("route");
        ns.Rt.CreateVeth("d0", "d0p");
        ns.Rt.SetUp("d0p");
        ns.Rt.SetUp("d0");
        ns.Rt.AddAddress("d0", AddressPrefix.Parse("172.18.0.2/24"));
        var index = ns.Rt.IndexOf("d0");

        ns.Rt.AddRoute(new RouteInfo { Destination = IPNetwork.Parse("10.244.2.0/24"), Gateway = IPAddress.Parse("172.18.0.3"), LinkIndex = index, Metric = 10 });
        ns.Rt.AddRoute(new RouteInfo { Destination = IPNetwork.Parse("10.99.0.0/16"), LinkIndex = index, Scope = RouteScope.Link });
        ns.Rt.AddRoute(new RouteInfo { Destination = IPNetwork.Parse("0.0.0.0/0"), Gateway = IPAddress.Parse("172.18.0.1"), Table = 100 });

        var main = ns.Rt.GetRoutes(AddressFamily.InterNetwork);
        var viaNode = main.Single(r => r.Destination.ToString() == "10.244.2.0/24");
        Assert.Equal(IPAddress.Parse("172.18.0.3"), viaNode.Gateway);
        Assert.Equal(10u, viaNode.Metric);
        Assert.Equal(RouteScope.Link, main.Single(r => r.Destination.ToString() == "10.99.0.0/16").Scope);
        var table100 = ns.Rt.GetRoutes(AddressFamily.InterNetwork, 100).Single();
        Assert.Equal(0, table100.Destination.PrefixLength);

        var ip = Tools.Ip(ns.Netns, "route", "show", "table", "all");
        Assert.Contains(ip, r => (string)r!["dst"]! == "10.244.2.0/24" && (string)r["gateway"]! == "172.18.0.3" && (int)r["metric"]! == 10);
        Assert.Contains(ip, r => (string)r!["dst"]! == "10.99.0.0/16" && (string)r["scope"]! == "link");
        Assert.Contains(ip, r => (string)r!["dst"]! == "default" && (string)r["table"]! == "100");

        ns.Rt.ReplaceRoute(viaNode with { Gateway = IPAddress.Parse("172.18.0.4") });
        Assert.Equal(IPAddress.Parse("172.18.0.4"), ns.Rt.GetRoutes(AddressFamily.InterNetwork).Single(r => r.Destination.ToString() == "10.244.2.0/24").Gateway);

        Assert.True(ns.Rt.DeleteRoute(new RouteInfo { Destination = IPNetwork.Parse("10.244.2.0/24"), Metric = 10 }));
        Assert.False(ns.Rt.DeleteRoute(new RouteInfo { Destination = IPNetwork.Parse("10.244.2.0/24"), Metric = 10 }));
    }

    [PrivilegedFact]
    public void AddRoute_ToAnUnreachableGateway_CarriesErrnoAndTheRoute()
    {
        using var scope = new NetnsScope();
        var ns = scope.Create("badroute");
        var e = Assert.Throws<KernelException>(() =>
            ns.Rt.AddRoute(new RouteInfo { Destination = IPNetwork.Parse("10.5.0.0/16"), Gateway = IPAddress.Parse("192.0.2.1") }));
        Assert.Equal(101, e.Errno); // ENETUNREACH
        Assert.Contains("10.5.0.0/16 via 192.0.2.1", e.Message);
    }

    [PrivilegedFact]
    public void Ipv6Route_ViaGateway()
    {
        using var scope = new NetnsScope();
        var ns = scope.Create("r6");
        ns.Rt.CreateVeth("d0", "d0p");
        ns.Rt.SetUp("d0p");
        ns.Rt.SetUp("d0");
        ns.Rt.AddAddress("d0", AddressPrefix.Parse("fd00:172:18::2/64"));
        ns.Rt.AddRoute(new RouteInfo { Destination = IPNetwork.Parse("fd00:10:244:2::/64"), Gateway = IPAddress.Parse("fd00:172:18::3"), LinkIndex = ns.Rt.IndexOf("d0") });
        Assert.Contains(ns.Rt.GetRoutes(AddressFamily.InterNetworkV6), r => r.Destination.ToString() == "fd00:10:244:2::/64" && r.Gateway!.Equals(IPAddress.Parse("fd00:172:18::3")));
        Assert.Contains(Tools.Ip(ns.Netns, "-6", "route", "show"), r => (string)r!["dst"]! == "fd00:10:244:2::/64" && (string)r["gateway"]! == "fd00:172:18::3");
    }

    [PrivilegedFact]
    public void NeighbourAndFdb_OnVxlan_MatchIpAndBridgeTools()
    {
        using var scope = new NetnsScope();
        var ns = scope.Create("fdb");
        ns.Rt.CreateVeth("under0", "under0p");
        ns.Rt.SetUp("under0p");
        ns.Rt.SetUp("under0");
        ns.Rt.AddAddress("under0", AddressPrefix.Parse("172.18.0.2/24"));
        ns.Rt.CreateVxlan("vx0", 1, IPAddress.Parse("172.18.0.2"), "under0");
        ns.Rt.SetUp("vx0");
        var vx = ns.Rt.IndexOf("vx0");
        var mac = MacAddress.Parse("02:aa:bb:cc:dd:03");

        ns.Rt.SetNeighbour(vx, IPAddress.Parse("10.244.3.0"), mac);
        ns.Rt.SetFdb(vx, mac, IPAddress.Parse("172.18.0.3"));

        var neighbour = ns.Rt.GetNeighbours(vx).Single(n => n.Address.Equals(IPAddress.Parse("10.244.3.0")));
        Assert.Equal(mac, neighbour.Mac);
        Assert.True(neighbour.State.HasFlag(NeighbourState.Permanent));
        var fdb = ns.Rt.GetFdb(vx).Single(f => f.Mac == mac);
        Assert.Equal(IPAddress.Parse("172.18.0.3"), fdb.Destination);
        Assert.True(fdb.Self);

        Assert.Contains(Tools.Ip(ns.Netns, "neigh", "show", "dev", "vx0"), n => (string)n!["dst"]! == "10.244.3.0" && (string)n["lladdr"]! == "02:aa:bb:cc:dd:03");
        Assert.Contains(Tools.Bridge(ns.Netns, "fdb", "show", "dev", "vx0"), f => (string)f!["mac"]! == "02:aa:bb:cc:dd:03" && (string)f["dst"]! == "172.18.0.3");

        Assert.True(ns.Rt.DeleteFdb(vx, mac, IPAddress.Parse("172.18.0.3")));
        Assert.True(ns.Rt.DeleteNeighbour(vx, IPAddress.Parse("10.244.3.0")));
        Assert.False(ns.Rt.DeleteNeighbour(vx, IPAddress.Parse("10.244.3.0")));
        Assert.DoesNotContain(ns.Rt.GetFdb(vx), f => f.Mac == mac);
    }
}
