using System.Net;
using Podnet.Agent.Runtime;
using Podnet.Core.Cluster;

namespace Podnet.Agent.Tests;

public sealed class PodFilesTests
{
    private static readonly NodeDns Node = new("10.96.0.10", "cluster.local", "nameserver 192.0.2.53\nsearch corp.example\noptions edns0\n");

    [Fact]
    public void ResolvConf_ClusterFirst_IsTheKubeletsFile()
    {
        Assert.Equal("""
            nameserver 10.96.0.10
            search web.svc.cluster.local svc.cluster.local cluster.local corp.example
            options ndots:5

            """.Replace("\r", ""), PodDns.Build("web", new PodDnsSpec(), Node));
    }

    [Fact]
    public void ResolvConf_Default_IsTheNodesOwn() =>
        Assert.Equal("nameserver 192.0.2.53\nsearch corp.example\noptions edns0\n", PodDns.Build("web", new PodDnsSpec { Policy = "Default" }, Node));

    [Fact]
    public void ResolvConf_ClusterFirstOnHostNetwork_FallsBackToDefault_UnlessWithHostNet()
    {
        Assert.StartsWith("nameserver 192.0.2.53", PodDns.Build("web", new PodDnsSpec { HostNetwork = true }, Node));
        Assert.StartsWith("nameserver 10.96.0.10", PodDns.Build("web", new PodDnsSpec { Policy = "ClusterFirstWithHostNet", HostNetwork = true }, Node));
    }

    [Fact]
    public void ResolvConf_None_WithDnsConfig_UsesOnlyThat()
    {
        var spec = new PodDnsSpec
        {
            Policy = "None",
            Nameservers = ["192.0.2.1"],
            Searches = ["ns1.svc.cluster-domain.example", "my.dns.search.suffix"],
            Options = [new("ndots", "2"), new("edns0", null)],
        };
        Assert.Equal("""
            nameserver 192.0.2.1
            search ns1.svc.cluster-domain.example my.dns.search.suffix
            options ndots:2 edns0

            """.Replace("\r", ""), PodDns.Build("web", spec, Node));
    }

    [Fact]
    public void ResolvConf_DnsConfigOnClusterFirst_AppendsAndOverrides()
    {
        var spec = new PodDnsSpec { Nameservers = ["10.96.0.10", "192.0.2.9"], Searches = ["cluster.local", "extra"], Options = [new("ndots", "2")] };
        Assert.Equal("""
            nameserver 10.96.0.10
            nameserver 192.0.2.9
            search web.svc.cluster.local svc.cluster.local cluster.local corp.example extra
            options ndots:2

            """.Replace("\r", ""), PodDns.Build("web", spec, Node));
    }

    [Fact]
    public void ResolvConf_NoneWithoutNameservers_IsAnErrorNamingTheField()
    {
        var e = Assert.Throws<ArgumentException>(() => PodDns.Build("web", new PodDnsSpec { Policy = "None" }, Node));
        Assert.Contains("spec.dnsConfig.nameservers", e.Message);
    }

    [Fact]
    public void Hosts_WithSubdomainAndAliases()
    {
        var text = PodHosts.Build("busybox-1", "default-subdomain", "default", "cluster.local", ["10.244.1.5"], [("127.0.0.1", ["foo.local", "bar.local"])]);
        Assert.Equal("""
            # Kubernetes-managed hosts file.
            127.0.0.1	localhost
            ::1	localhost ip6-localhost ip6-loopback
            fe00::0	ip6-localnet
            fe00::0	ip6-mcastprefix
            fe00::1	ip6-allnodes
            fe00::2	ip6-allrouters
            10.244.1.5	busybox-1.default-subdomain.default.svc.cluster.local	busybox-1

            # Entries added by HostAliases.
            127.0.0.1	foo.local	bar.local

            """.Replace("\r", ""), text);
    }

    [Fact]
    public void Hosts_PlainPod_ListsEachPodIpWithItsName()
    {
        var text = PodHosts.Build("web-1", null, "default", "cluster.local", ["10.244.1.5", "fd00:10:244:1::5"], []);
        Assert.EndsWith("10.244.1.5\tweb-1\nfd00:10:244:1::5\tweb-1\n", text);
    }

    [Fact]
    public void ServiceEnvironment_MatchesTheKubeletsNames()
    {
        var services = new[]
        {
            new ServiceInfo("web", "redis-primary", "ClusterIP", [IPAddress.Parse("10.96.0.11")], [new("redis", "TCP", 6379), new(null, "UDP", 53)]),
            new ServiceInfo("default", "kubernetes", "ClusterIP", [IPAddress.Parse("10.96.0.1")], [new("https", "TCP", 443)]),
            new ServiceInfo("other", "elsewhere", "ClusterIP", [IPAddress.Parse("10.96.0.12")], [new(null, "TCP", 80)]),
            new ServiceInfo("web", "headless", "ClusterIP", [], [new(null, "TCP", 80)]),
            new ServiceInfo("web", "ext", "ExternalName", [], [new(null, "TCP", 80)]),
        };
        var env = ServiceEnvironment.Build("web", services).Select(kv => $"{kv.Key}={kv.Value}");
        Assert.Equal(
        [
            "KUBERNETES_SERVICE_HOST=10.96.0.1",
            "KUBERNETES_SERVICE_PORT=443",
            "KUBERNETES_SERVICE_PORT_HTTPS=443",
            "KUBERNETES_PORT=tcp://10.96.0.1:443",
            "KUBERNETES_PORT_443_TCP=tcp://10.96.0.1:443",
            "KUBERNETES_PORT_443_TCP_PROTO=tcp",
            "KUBERNETES_PORT_443_TCP_PORT=443",
            "KUBERNETES_PORT_443_TCP_ADDR=10.96.0.1",
            "REDIS_PRIMARY_SERVICE_HOST=10.96.0.11",
            "REDIS_PRIMARY_SERVICE_PORT=6379",
            "REDIS_PRIMARY_SERVICE_PORT_REDIS=6379",
            "REDIS_PRIMARY_PORT=tcp://10.96.0.11:6379",
            "REDIS_PRIMARY_PORT_6379_TCP=tcp://10.96.0.11:6379",
            "REDIS_PRIMARY_PORT_6379_TCP_PROTO=tcp",
            "REDIS_PRIMARY_PORT_6379_TCP_PORT=6379",
            "REDIS_PRIMARY_PORT_6379_TCP_ADDR=10.96.0.11",
            "REDIS_PRIMARY_PORT_53_UDP=udp://10.96.0.11:53",
            "REDIS_PRIMARY_PORT_53_UDP_PROTO=udp",
            "REDIS_PRIMARY_PORT_53_UDP_PORT=53",
            "REDIS_PRIMARY_PORT_53_UDP_ADDR=10.96.0.11",
        ], env);
    }

    [Fact]
    public void ServiceEnvironment_Ipv6_UsesBracketsInUrlsOnly()
    {
        var env = ServiceEnvironment.Build("a", [new ServiceInfo("a", "v6", "ClusterIP", [IPAddress.Parse("fd00:10:96::5")], [new(null, "TCP", 80)])]).ToDictionary();
        Assert.Equal("fd00:10:96::5", env["V6_SERVICE_HOST"]);
        Assert.Equal("tcp://[fd00:10:96::5]:80", env["V6_PORT"]);
    }
}
