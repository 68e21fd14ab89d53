using System.Net.Sockets;
using k8s;
using k8s.Models;
using Podnet.TestServer;
using Podnet.Kernel;

namespace Podnet.Lab.E2ETests;

/// <summary>
/// Architecture × routing × IP family on three-node labs, one lab a combination with every
/// assertion made there: pod to pod across nodes over TCP and UDP, pod to the outside host and
/// the outside host to pods with the source addresses each side sees, and over VXLAN the MTU
/// with full-size don't-fragment packets. Host-gw island IPv4 is <see cref="PodNetworkTests"/>'
/// lab; dual-stack island is <see cref="ArchitectureLabTests"/>'.
/// </summary>
public sealed class ArchitectureMatrixTests
{
    public static TheoryData<string, string, string, bool> Combinations => new()
    {
        // routing, architecture, family, n3 in a second subnet (VXLAN only)
        { "vxlan", "island", "ipv4", false },
        { "host-gw", "flat", "ipv4", false },
        { "vxlan", "flat", "ipv4", true },
        { "host-gw", "isolated", "ipv4", false },
        { "host-gw", "island", "ipv6", false },
        { "vxlan", "island", "ipv6", true },
        { "host-gw", "flat", "ipv6", false },
        { "vxlan", "isolated", "ipv6", false },
        { "vxlan", "flat", "dual", false },
    };

    [PrivilegedTheory]
    [MemberData(nameof(Combinations))]
    public async Task Lab_BehavesAsItsArchitectureSays(string routing, string architecture, string family, bool twoSubnets)
    {
        using var lab = new TempLab("m");
        var dir = Directory.CreateTempSubdirectory("podnet-matrix-").FullName;
        try
        {
            var file = Path.Combine(dir, "lab.yaml");
            await File.WriteAllTextAsync(file, $"kind: Lab\nmetadata: {{name: {lab.Name}}}\nspec:\n  nodes: 3\n  routing: {routing}\n  architecture: {architecture}\n  ipFamily: {family}\n" +
                (twoSubnets ? "  nodeOptions: {n3: {subnet: 1}}\n" : ""));
            lab.Up("-f", file);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        Assert.Equal([routing, architecture, family], new[] { "routing", "architecture", "ipFamily" }.Select(k => (string)lab.Status[k]!));
        var view = lab.View;
        var pods = await Task.WhenAll(Enumerable.Range(1, 3).Select(i => view.RunPodAsync(LabFixture.ServerPod($"s{i}", $"n{i}"))));
        var nodes = (await view.Client.CoreV1.ListNodeAsync()).Items.ToDictionary(n => n.Metadata.Name);
        using var outside = Netns.Open($"pn-{lab.Name}-out");
        await using var servers = new TestServerHost();
        servers.Add("outside", new TestServerSpec("outside", [8080], []), outside);
        using var first = view.PodNetns(pods[0]);
        var families = family == "dual" ? new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 } : [family == "ipv4" ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6];
        foreach (var f in families)
        {
            var source = PodIp(pods[0], f);
            foreach (var to in pods.Skip(1))
            {
                Assert.StartsWith($"{Probes.Host(source)}:", Probes.Curl(first, $"http://{Probes.Host(PodIp(to, f))}:8080/clientip"));
                Assert.StartsWith($"{Probes.Host(source)}:", await Probes.UdpAsync(first, PodIp(to, f), 8081, "clientip"));
            }
            await AssertOutsideAsync(architecture, f, first, source, Address(nodes["n1"], f), outside, PodIp(pods[2], f));
        }
        await AssertServicesAsync(view, first, families);
        if (routing == "vxlan")
        {
            AssertFullSizePacketsPass(lab.Name, first, PodIp(pods[2], families[0]));
        }
    }

    /// <summary>
    /// Services in every architecture and family, from the pod on n1: one backed by the pod on n2,
    /// and `kubernetes`, whose endpoint is the API server on the control plane (outside the pod
    /// ranges: the isolated architecture must let the DNATed traffic through).
    /// </summary>
    private static async Task AssertServicesAsync(LabFixtureView view, Netns pod, AddressFamily[] families)
    {
        var service = await view.Client.CoreV1.CreateNamespacedServiceAsync(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "s2" },
            Spec = new V1ServiceSpec
            {
                IpFamilyPolicy = families.Length > 1 ? "RequireDualStack" : null,
                Selector = new Dictionary<string, string> { ["app"] = "s2" },
                Ports = [new V1ServicePort { Port = 80, TargetPort = 8080 }],
            },
        }, "default");
        var kubernetes = await view.Client.CoreV1.ReadNamespacedServiceAsync("kubernetes", "default");
        var dns = await view.Client.CoreV1.ReadNamespacedServiceAsync("kube-dns", "kube-system");
        foreach (var family in families)
        {
            var ip = service.Spec.ClusterIPs.First(a => a.Contains(':') == (family == AddressFamily.InterNetworkV6));
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            ProcessResult answer;
            while (!(answer = Tools.Run(pod, "curl", "-sS", "--max-time", "2", $"http://{Probes.Host(ip)}/hostname")).Success && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
            Assert.Equal("s2", answer.StandardOutput);
            var api = kubernetes.Spec.ClusterIPs.FirstOrDefault(a => a.Contains(':') == (family == AddressFamily.InterNetworkV6));
            if (api is not null)
            {
                var connect = await pod.Run(() => ConnectProbe.RunAsync(api, 443, ProtocolType.Tcp, TimeSpan.FromSeconds(3)));
                Assert.Equal(ConnectOutcome.Connected, connect.Outcome);
            }
            AssertClusterDns(pod, dns, family, api);
        }
    }

    /// <summary>
    /// The lab's cluster DNS at its address of <paramref name="family"/> answers the `kubernetes`
    /// Service's name with its address of that family (none when it has none), and, with no
    /// upstream in the lab file, a name outside the zone with SERVFAIL at once.
    /// </summary>
    private static void AssertClusterDns(Netns pod, V1Service dns, AddressFamily family, string? api)
    {
        var server = dns.Spec.ClusterIPs.First(a => a.Contains(':') == (family == AddressFamily.InterNetworkV6));
        var type = family == AddressFamily.InterNetworkV6 ? "AAAA" : "A";
        var answer = Tools.Run(pod, "dig", $"@{server}", "+short", "+time=2", "+tries=2", type, "kubernetes.default.svc.cluster.local");
        Assert.True(answer.Success, answer.StandardOutput + answer.StandardError);
        Assert.Equal(api ?? "", answer.StandardOutput.Trim());
        var outside = Tools.Run(pod, "dig", $"@{server}", "+time=1", "+tries=1", "example.org");
        Assert.Contains("status: SERVFAIL", outside.StandardOutput);
    }

    /// <summary>Pod (on n1) to the outside host, and the outside host to a pod on n3, per architecture.</summary>
    private static async Task AssertOutsideAsync(string architecture, AddressFamily family, Netns pod, string podIp, string nodeIp, Netns outside, string farPodIp)
    {
        var outsideIp = family == AddressFamily.InterNetwork ? "172.18.0.1" : "fd00:172:18::1";
        var fromOutside = await outside.Run(() => ConnectProbe.RunAsync(farPodIp, 8080, ProtocolType.Tcp, TimeSpan.FromSeconds(2)));
        switch (architecture)
        {
            case "island":
                Assert.StartsWith($"{Probes.Host(nodeIp)}:", Probes.Curl(pod, $"http://{Probes.Host(outsideIp)}:8080/clientip"));
                Assert.NotEqual(ConnectOutcome.Connected, fromOutside.Outcome);
                break;
            case "flat":
                Assert.StartsWith($"{Probes.Host(podIp)}:", Probes.Curl(pod, $"http://{Probes.Host(outsideIp)}:8080/clientip"));
                Assert.Equal(ConnectOutcome.Connected, fromOutside.Outcome);
                Assert.StartsWith($"{Probes.Host(outsideIp)}:", Probes.Curl(outside, $"http://{Probes.Host(farPodIp)}:8080/clientip"));
                break;
            case "isolated":
                // Rejected with ICMP admin-prohibited: an error at once, not a timeout.
                var egress = await pod.Run(() => ConnectProbe.RunAsync(outsideIp, 8080, ProtocolType.Tcp, TimeSpan.FromSeconds(3)));
                Assert.Equal(ConnectOutcome.Other, egress.Outcome);
                Assert.NotEqual(ConnectOutcome.Connected, fromOutside.Outcome);
                break;
        }
    }

    /// <summary>Every pod's MTU is the overlay's; a packet of exactly that size with DF set crosses nodes, one byte more does not leave.</summary>
    private static void AssertFullSizePacketsPass(string lab, Netns pod, string farPodIp)
    {
        using var n1 = Netns.Open($"pn-{lab}-n1");
        var mtu = (int)Tools.Ip(n1, "link", "show", "pn-vxlan")[0]!["mtu"]!;
        Assert.True(mtu < 1500, $"pn-vxlan MTU {mtu}");
        Assert.Equal(mtu, (int)Tools.Ip(pod, "link", "show", "eth0")[0]!["mtu"]!);
        var headers = farPodIp.Contains(':') ? 48 : 28;
        var full = Tools.Run(pod, "ping", "-c", "1", "-W", "3", "-M", "do", "-s", (mtu - headers).ToString(System.Globalization.CultureInfo.InvariantCulture), farPodIp);
        Assert.True(full.Success, full.StandardOutput + full.StandardError);
        var over = Tools.Run(pod, "ping", "-c", "1", "-W", "1", "-M", "do", "-s", (mtu - headers + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), farPodIp);
        Assert.False(over.Success, over.StandardOutput);
    }

    private static string PodIp(V1Pod pod, AddressFamily family) =>
        pod.Status.PodIPs.Select(p => p.Ip).First(ip => ip.Contains(':') == (family == AddressFamily.InterNetworkV6));

    private static string Address(V1Node node, AddressFamily family) =>
        node.Status.Addresses.Where(a => a.Type == "InternalIP").Select(a => a.Address).First(ip => ip.Contains(':') == (family == AddressFamily.InterNetworkV6));
}
