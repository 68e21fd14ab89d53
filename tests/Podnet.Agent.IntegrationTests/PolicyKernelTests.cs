using System.Net;
using System.Net.Sockets;
using Podnet.Core.Cluster;
using Podnet.Kernel;
using Podnet.Policy;
using Podnet.Testing;

namespace Podnet.Agent.IntegrationTests;

/// <summary>
/// The policy engine's transactions on a real kernel: nft accepts the full build and every
/// incremental change (both families, drop and reject), and the kernel then holds exactly
/// what the fake runner holds, so the compiler's tracer tests read what the kernel runs.
/// </summary>
public sealed class PolicyKernelTests
{
    [PrivilegedTheory]
    [InlineData(PolicyDeny.Drop)]
    [InlineData(PolicyDeny.Reject)]
    public void FullAndIncrementalSyncs_TheKernelHoldsWhatTheFakeHolds(PolicyDeny deny)
    {
        using var scope = new NetnsScope();
        var ns = scope.Create("policy");
        var kernel = new NftRunner(ns.Netns);
        var fake = new FakeNftRunner();
        var syncer = new PolicySyncer();
        var node = new PolicyNode("n1", [AddressFamily.InterNetwork, AddressFamily.InterNetworkV6], deny);
        var pods = new Dictionary<string, PodInfo>();
        var policies = new Dictionary<string, NetworkPolicyInfo>();
        var namespaces = new[] { Ns("x"), Ns("y") };
        PodPortInfo[] ports = [new("serve-80-tcp", 80, "TCP"), new("serve-81-udp", 81, "UDP"), new("serve-82-sctp", 82, "SCTP")];
        void Pod(string nsName, string name, string nodeName, int host, string role)
        {
            pods[$"{nsName}/{name}"] = new PodInfo(nsName, name, $"u-{nsName}-{name}", nodeName, new Dictionary<string, string> { ["role"] = role },
                [IPAddress.Parse($"10.244.{(nodeName == "n1" ? 1 : 2)}.{host}"), IPAddress.Parse($"fd00:10:244:{(nodeName == "n1" ? 1 : 2)}::{host:x}")], ports);
        }
        void Sync()
        {
            var change = syncer.Plan(PolicyCompiler.Compile(new PolicySnapshot(policies.Values.ToArray(), pods.Values.ToArray(), namespaces), node));
            kernel.Apply(change.Transaction);
            fake.Apply(change.Transaction);
            change.Commit();
            Assert.Equal(fake.Dump(), KernelNftDump.Read(ns.Netns));
        }
        var any = LabelSelectorInfo.Everything;
        var clients = new LabelSelectorInfo(new Dictionary<string, string> { ["role"] = "client" }, []);
        var servers = new LabelSelectorInfo(new Dictionary<string, string>(), [new LabelRequirement("role", "In", ["server", "db"])]);

        Pod("x", "s1", "n1", 10, "server");
        Pod("x", "c1", "n2", 11, "client");
        Pod("y", "c2", "n1", 12, "client");
        policies["x/web"] = new NetworkPolicyInfo("x", "web", servers, true, false,
            [new PolicyRuleInfo([new PolicyPeerInfo(clients, any, null)], [new PolicyPortInfo("TCP", 80, null, 85), new PolicyPortInfo("UDP", null, "serve-81-udp"), new PolicyPortInfo("SCTP")])], []);
        policies["y/out"] = new NetworkPolicyInfo("y", "out", any, false, true,
            [], [new PolicyRuleInfo([new PolicyPeerInfo(null, null, new IpBlockInfo(IPNetwork.Parse("10.244.0.0/16"), [IPNetwork.Parse("10.244.2.0/24"), IPNetwork.Parse("10.244.1.12/32")])),
                new PolicyPeerInfo(null, null, new IpBlockInfo(IPNetwork.Parse("fd00:10:244::/56"), [IPNetwork.Parse("fd00:10:244:2::/64")]))], [])]);
        Sync();
        Pod("x", "s2", "n1", 13, "db"); // elements only
        Sync();
        Pod("y", "c2", "n1", 12, "server"); // a label change
        Sync();
        policies["x/web"] = policies["x/web"] with { Egress = true };
        Sync();
        policies.Remove("y/out");
        pods.Remove("x/c1");
        Sync();
        syncer.Invalidate();
        Sync();
    }

    private static NamespaceInfo Ns(string name) => new(name, new Dictionary<string, string> { [NamespaceInfo.NameLabel] = name });
}
