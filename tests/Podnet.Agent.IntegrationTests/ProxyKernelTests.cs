using System.Net;
using System.Net.Sockets;
using Podnet.Core.Cluster;
using Podnet.Kernel;
using Podnet.Proxy;
using Podnet.Testing;

namespace Podnet.Agent.IntegrationTests;

/// <summary>
/// The proxy's transactions on a real kernel: nft accepts every one (full and partial, both
/// families), and the kernel then holds exactly what the fake runner holds, in nft's own
/// canonical spelling, so the unit tests' tracer reads what the kernel runs.
/// </summary>
public sealed class ProxyKernelTests
{
    [PrivilegedTheory]
    [InlineData(AddressFamily.InterNetwork)]
    [InlineData(AddressFamily.InterNetworkV6)]
    public void FullAndPartialSyncs_TheKernelHoldsWhatTheFakeHolds(AddressFamily family)
    {
        using var scope = new NetnsScope();
        var ns = scope.Create("proxy");
        var kernel = new NftRunner(ns.Netns);
        var fake = new FakeNftRunner();
        var v6 = family == AddressFamily.InterNetworkV6;
        var node = ProxyNode.For(family, "n1", [IPAddress.Parse("172.18.0.11"), IPAddress.Parse("fd00:172:18::11")],
            [IPNetwork.Parse("10.244.0.0/16"), IPNetwork.Parse("fd00:10:244::/56")], [IPNetwork.Parse("10.96.0.0/16"), IPNetwork.Parse("fd00:10:96::/112")]);
        var syncer = new ProxySyncer(node);
        var services = new Dictionary<string, ServiceInfo>();
        var slices = new Dictionary<string, EndpointSliceInfo[]>();
        string Vip(int i) => v6 ? $"fd00:10:96::{i:x}" : $"10.96.0.{i}";
        string Pod(int i) => v6 ? $"fd00:10:244:1::{i:x}" : $"10.244.1.{i}";
        void Set(int i, int endpoints, string type = "ClusterIP", TimeSpan? affinity = null)
        {
            var key = $"default/s{i}";
            services[key] = new ServiceInfo("default", $"s{i}", type, [IPAddress.Parse(Vip(i))],
                [new ServicePortInfo("http", "TCP", 80, type == "ClusterIP" ? 0 : 30000 + i), new ServicePortInfo("dns", "UDP", 53)]) { AffinityTimeout = affinity };
            slices[key] = [new EndpointSliceInfo("default", $"s{i}-x", $"s{i}", family, [new EndpointPortInfo("http", "TCP", 8080), new EndpointPortInfo("dns", "UDP", 5353)],
                Enumerable.Range(1, endpoints).Select(e => new EndpointInfo([IPAddress.Parse(Pod(e + i))], true, true, false, "n2")).ToArray())];
        }
        void Sync(params string[] dirty)
        {
            var change = syncer.Plan(k => services.GetValueOrDefault(k), k => slices.GetValueOrDefault(k) ?? [], () => services.Keys,
                dirty.Length == 0 ? null : dirty.Select(d => "default/" + d).ToHashSet());
            kernel.Apply(change.Transaction);
            fake.Apply(change.Transaction);
            change.Commit();
            Assert.Equal(fake.Dump(), KernelNftDump.Read(ns.Netns));
        }

        Set(1, 2);
        Set(2, 0);
        Set(3, 3, "NodePort");
        Set(4, 2, "NodePort", TimeSpan.FromSeconds(30));
        Sync();
        Set(1, 3);
        Sync("s1");
        Set(2, 1, "NodePort");
        Sync("s2");
        services.Remove("default/s4");
        Set(5, 2, "ClusterIP", TimeSpan.FromMinutes(5));
        Sync("s4", "s5");
        Set(3, 0, "NodePort");
        Sync("s3");
        // LoadBalancer addresses and externalIPs: policy Cluster (elements), Local with source
        // ranges (a chain of its own), then moving between the two and going away.
        string Lb(int i) => v6 ? $"fd00:172:18::2{i:x2}" : $"172.18.0.2{i:d2}";
        void External(int i, TrafficPolicy policy, bool ranges)
        {
            Set(i, 2, "LoadBalancer");
            services[$"default/s{i}"] = services[$"default/s{i}"] with
            {
                LoadBalancerIPs = [IPAddress.Parse(Lb(i))],
                ExternalIPs = [IPAddress.Parse(Lb(i + 30))],
                ExternalTrafficPolicy = policy,
                LoadBalancerSourceRanges = ranges ? [IPNetwork.Parse(v6 ? "fd00:172:18::/120" : "172.18.0.0/30"), IPNetwork.Parse(v6 ? "fd00:172:19::1/128" : "172.19.0.1/32")] : [],
            };
        }
        External(6, TrafficPolicy.Local, ranges: true);
        External(7, TrafficPolicy.Cluster, ranges: false);
        Sync("s6", "s7");
        External(6, TrafficPolicy.Cluster, ranges: false);
        External(7, TrafficPolicy.Local, ranges: false);
        Sync("s6", "s7");
        services.Remove("default/s7");
        Sync("s7");
        syncer.Invalidate();
        Sync();
    }
}
