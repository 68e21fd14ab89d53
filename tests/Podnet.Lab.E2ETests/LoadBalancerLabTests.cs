using System.Net.Sockets;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Podnet.TestServer;
using Podnet.Kernel;
using Podnet.Testing;
using Xunit.Abstractions;

namespace Podnet.Lab.E2ETests;

/// <summary>
/// LoadBalancer Services in a three-node lab with a 2 s node grace period, with real traffic
/// from the outside host and from pods: the address answers and is balanced, exactly one node
/// announces it (the outside host's neighbour table), source ranges, externalIPs, the Local
/// policies, healthCheckNodePort, a type change releasing the address, and failover after the
/// announcing node is stopped (the time printed).
/// </summary>
public sealed class LoadBalancerLabTests(ITestOutputHelper output)
{
    private static async Task Until(Func<Task<bool>> condition, string what, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for: " + what);
            await Task.Delay(100);
        }
    }

    private static V1Pod Server(string name, string node, string app)
    {
        var pod = LabFixtureView.ServerPod(name, node);
        pod.Metadata.Labels["app"] = app;
        return pod;
    }

    private static V1Service Service(string name, string app, string type, Action<V1ServiceSpec>? shape = null)
    {
        var spec = new V1ServiceSpec
        {
            Type = type,
            Selector = new Dictionary<string, string> { ["app"] = app },
            Ports = [new V1ServicePort { Name = "http", Port = 80, TargetPort = 8080 }],
        };
        shape?.Invoke(spec);
        return new V1Service { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" }, Spec = spec };
    }

    /// <summary>curl from inside <paramref name="from"/>: the body, or null on any failure (a drop shows as null after <paramref name="seconds"/>).</summary>
    private static string? Get(Netns from, string url, int seconds = 1)
    {
        var result = Tools.Run(from, "curl", "-sSf", "--max-time", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), url);
        return result.Success ? result.StandardOutput : null;
    }

    private static async Task<string> Answer(Netns from, string url)
    {
        string? answer = null;
        await Until(() => Task.FromResult((answer = Get(from, url)) is not null), url);
        return answer!;
    }

    private static string Mac(Netns netns, string link) => (string)Tools.Ip(netns, "link", "show", link)[0]!["address"]!;

    /// <summary>The link-layer address the outside host holds for <paramref name="address"/>, if any.</summary>
    private static string? Neighbour(Netns outside, string address) =>
        Tools.Ip(outside, "neigh", "show", address).Select(n => (string?)n!["lladdr"]).FirstOrDefault(m => m is not null);

    private static bool Holds(Netns node, string address) =>
        Tools.Ip(node, "addr", "show", "eth0").SelectMany(l => l!["addr_info"]!.AsArray()).Any(a => (string)a!["local"]! == address);

    [PrivilegedFact]
    public async Task LoadBalancer_AnsweredBalancedAnnouncedOnce_Policies_SourceRanges_ExternalIPs_HealthCheck_Failover()
    {
        using var lab = new TempLab("lb");
        lab.Up("--node-grace", "2s");
        var client = lab.View.Client;
        var nodes = Enumerable.Range(1, 3).Select(i => Netns.Open($"pn-{lab.Name}-n{i}")).ToArray();
        using var outside = Netns.Open($"pn-{lab.Name}-out");
        try
        {
            var web = await Task.WhenAll(Enumerable.Range(1, 3).Select(i => lab.View.RunPodAsync(Server($"web-{i}", $"n{i}", "web"))));
            var solo = await lab.View.RunPodAsync(Server("solo", "n2", "solo"));
            var probe = await lab.View.RunPodAsync(Server("probe", "n1", "probe"));
            var names = web.Select(p => p.Metadata.Name).ToHashSet();
            var macs = nodes.Select(n => Mac(n, "eth0")).ToArray();

            // Policy Cluster: balanced over every node's pod, masqueraded, announced by one node.
            await client.CoreV1.CreateNamespacedServiceAsync(Service("lb", "web", "LoadBalancer"), "default");
            var lb = await IngressOf(client, "lb");
            Assert.StartsWith("172.18.0.2", lb);
            await Answer(outside, $"http://{lb}/hostname");
            var seen = Enumerable.Range(0, 60).Select(_ => Get(outside, $"http://{lb}/hostname")).ToHashSet();
            Assert.Superset(names, seen!);
            Assert.True(seen.Count >= 2, "one pod answered every request: " + string.Join(",", seen));
            Assert.DoesNotMatch("^172\\.18\\.0\\.1:", await Answer(outside, $"http://{lb}/clientip"));
            Assert.Single(nodes, n => Holds(n, lb));
            var owner = Array.FindIndex(nodes, n => Holds(n, lb));
            Assert.Equal(macs[owner], Neighbour(outside, lb));
            output.WriteLine($"{lb} announced by n{owner + 1} ({macs[owner]})");

            // Source ranges: the outside host (172.18.0.1) outside them is dropped, inside them let in.
            await Patch(client, "lb", """{"spec":{"loadBalancerSourceRanges":["172.18.0.5/32"]}}""");
            await Until(async () => (await outside.Run(() => ConnectProbe.RunAsync(lb, 80, ProtocolType.Tcp, TimeSpan.FromSeconds(1)))).Outcome == ConnectOutcome.Timeout, "the source range dropping the outside host");
            await Patch(client, "lb", """{"spec":{"loadBalancerSourceRanges":["172.18.0.0/30"]}}""");
            Assert.Contains(await Answer(outside, $"http://{lb}/hostname"), names);

            // externalIPs: a lab address, answered and balanced like a LoadBalancer address.
            await client.CoreV1.CreateNamespacedServiceAsync(Service("ext", "web", "ClusterIP", s => s.ExternalIPs = ["172.18.0.150"]), "default");
            Assert.Contains(await Answer(outside, "http://172.18.0.150/hostname"), names);
            Assert.Single(nodes, n => Holds(n, "172.18.0.150"));

            // externalTrafficPolicy Local: announced by the node with the endpoint, the client's
            // source kept; another node's NodePort drops; healthCheckNodePort 200 there, 503 elsewhere.
            await client.CoreV1.CreateNamespacedServiceAsync(Service("local", "solo", "LoadBalancer", s => s.ExternalTrafficPolicy = "Local"), "default");
            var local = await IngressOf(client, "local");
            Assert.StartsWith("172.18.0.1:", await Answer(outside, $"http://{local}/clientip"));
            Assert.True(Holds(nodes[1], local));
            Assert.Equal(macs[1], Neighbour(outside, local));
            var localSvc = await client.CoreV1.ReadNamespacedServiceAsync("local", "default");
            var nodePort = localSvc.Spec.Ports[0].NodePort!.Value;
            var health = localSvc.Spec.HealthCheckNodePort!.Value;
            Assert.Equal(ConnectOutcome.Timeout, (await outside.Run(() => ConnectProbe.RunAsync("172.18.0.11", nodePort, ProtocolType.Tcp, TimeSpan.FromSeconds(1)))).Outcome);
            Assert.StartsWith("172.18.0.1:", await Answer(outside, $"http://172.18.0.12:{nodePort}/clientip"));
            var healthy = Tools.Run(outside, "curl", "-s", "-w", "\n%{http_code}", "--max-time", "2", $"http://172.18.0.12:{health}/");
            Assert.EndsWith("\n200", healthy.StandardOutput);
            Assert.Contains("\"localEndpoints\": 1", healthy.StandardOutput);
            Assert.Contains("\"name\": \"local\"", healthy.StandardOutput);
            var unhealthy = Tools.Run(outside, "curl", "-s", "-w", "\n%{http_code}", "--max-time", "2", $"http://172.18.0.11:{health}/");
            Assert.EndsWith("\n503", unhealthy.StandardOutput);
            Assert.Contains("\"localEndpoints\": 0", unhealthy.StandardOutput);
            // A pod on n1 reaching the Local Service's address is short-circuited to its endpoint.
            using var probeNs = lab.View.PodNetns(probe);
            Assert.Equal("solo", await Answer(probeNs, $"http://{local}/hostname"));

            // internalTrafficPolicy Local: only the client's node's endpoint; none there: dropped.
            var itp = await client.CoreV1.CreateNamespacedServiceAsync(Service("itp", "web", "ClusterIP", s => s.InternalTrafficPolicy = "Local"), "default");
            await Answer(probeNs, $"http://{itp.Spec.ClusterIP}/hostname");
            // Which pod answers is the point, not how fast: a loaded machine can stall a request past 1 s.
            Assert.All(Enumerable.Range(0, 10), _ => Assert.Equal("web-1", Get(probeNs, $"http://{itp.Spec.ClusterIP}/hostname", seconds: 10)));
            var itpSolo = await client.CoreV1.CreateNamespacedServiceAsync(Service("itp-solo", "solo", "ClusterIP", s => s.InternalTrafficPolicy = "Local"), "default");
            await Until(async () => (await probeNs.Run(() => ConnectProbe.RunAsync(itpSolo.Spec.ClusterIP, 80, ProtocolType.Tcp, TimeSpan.FromSeconds(1)))).Outcome == ConnectOutcome.Timeout, "internalTrafficPolicy Local dropping with no endpoint on n1");

            // Type change: the ingress address is released and no node announces it any more.
            await Patch(client, "ext", """{"spec":{"externalIPs":null}}""");
            await Until(() => Task.FromResult(!nodes.Any(n => Holds(n, "172.18.0.150"))), "172.18.0.150 released");

            // Failover: stop the announcing node; another takes the address and the outside host follows.
            var stopped = DateTime.UtcNow;
            Assert.Equal(0, lab.Run("lab", "node", "stop", $"n{owner + 1}", "--name", lab.Name).ExitCode);
            await Until(() => Task.FromResult(Neighbour(outside, lb) is { } mac && mac != macs[owner] && Get(outside, $"http://{lb}/hostname") is not null), "another node answering for " + lb);
            var took = DateTime.UtcNow - stopped;
            var next = Array.FindIndex(nodes, n => n != nodes[owner] && Holds(n, lb));
            Assert.True(next >= 0);
            Assert.Equal(macs[next], Neighbour(outside, lb));
            output.WriteLine($"failover of {lb}: n{owner + 1} -> n{next + 1} in {took.TotalSeconds:F1} s after `lab node stop` (node grace 2 s)");
            Console.WriteLine($"failover of {lb}: n{owner + 1} -> n{next + 1} in {took.TotalSeconds:F1} s after `lab node stop` (node grace 2 s)");

            // Type change away from LoadBalancer: status cleared, address released.
            await Patch(client, "lb", """{"spec":{"type":"ClusterIP","loadBalancerSourceRanges":null,"ports":[{"name":"http","port":80,"targetPort":8080,"nodePort":null}]}}""");
            await Until(() => Task.FromResult(!nodes.Where((_, i) => i != owner).Any(n => Holds(n, lb))), lb + " released after the type change");

            // The stopped node keeps the address on its downed link until its agent runs again, which removes it.
            Assert.Equal(0, lab.Run("lab", "node", "start", $"n{owner + 1}", "--name", lab.Name).ExitCode);
            await Until(() => Task.FromResult(!Holds(nodes[owner], lb)), $"n{owner + 1} dropping {lb} when it comes back", 120);
        }
        finally
        {
            foreach (var node in nodes)
            {
                node.Dispose();
            }
        }
    }

    [PrivilegedFact]
    public async Task DualStackLoadBalancer_BothFamiliesAnsweredAndAnnounced_PreferCloseKeepsTrafficInTheZone()
    {
        using var lab = new TempLab("lbd");
        var file = Path.Combine(Path.GetTempPath(), lab.Name + ".yaml");
        File.WriteAllText(file, $$"""
            apiVersion: podnet.io/v1alpha1
            kind: Lab
            metadata: {name: {{lab.Name}}}
            spec:
              nodes: 3
              ipFamily: dual
              nodeOptions:
                n1: {zone: a}
                n2: {zone: a}
                n3: {zone: b}
            """);
        try
        {
            lab.Up("-f", file);
        }
        finally
        {
            File.Delete(file);
        }
        var client = lab.View.Client;
        var nodes = Enumerable.Range(1, 3).Select(i => Netns.Open($"pn-{lab.Name}-n{i}")).ToArray();
        using var outside = Netns.Open($"pn-{lab.Name}-out");
        try
        {
            Assert.Equal("b", (await client.CoreV1.ReadNodeAsync("n3")).Metadata.Labels["topology.kubernetes.io/zone"]);
            var web = await Task.WhenAll(Enumerable.Range(1, 3).Select(i => lab.View.RunPodAsync(Server($"web-{i}", $"n{i}", "web"))));
            var probe = await lab.View.RunPodAsync(Server("probe", "n3", "probe"));

            await client.CoreV1.CreateNamespacedServiceAsync(Service("dual", "web", "LoadBalancer", s =>
            {
                s.IpFamilyPolicy = "RequireDualStack";
                s.IpFamilies = ["IPv4", "IPv6"];
            }), "default");
            List<string> ingress = [];
            await Until(async () => (ingress = ((await client.CoreV1.ReadNamespacedServiceAsync("dual", "default")).Status?.LoadBalancer?.Ingress ?? []).Select(i => i.Ip).ToList()).Count == 2, "two ingress addresses");
            var v6 = Assert.Single(ingress, a => a.Contains(':'));
            var v4 = Assert.Single(ingress, a => !a.Contains(':'));
            var names = web.Select(p => p.Metadata.Name).ToHashSet();
            Assert.Contains(await Answer(outside, $"http://{v4}/hostname"), names);
            Assert.Contains(await Answer(outside, $"http://[{v6}]/hostname"), names);
            foreach (var address in ingress)
            {
                var holder = Assert.Single(nodes, n => Holds(n, address));
                Assert.Equal(Mac(holder, "eth0"), Neighbour(outside, address));
            }

            // PreferClose: a client in zone b reaches only zone b's endpoint; in zone a only zone a's.
            var close = await client.CoreV1.CreateNamespacedServiceAsync(Service("close", "web", "ClusterIP", s => s.TrafficDistribution = "PreferClose"), "default");
            using var probeNs = lab.View.PodNetns(probe);
            using var inZoneA = lab.View.PodNetns(web[0]);
            await Until(() => Task.FromResult(Enumerable.Range(0, 10).All(_ => Get(probeNs, $"http://{close.Spec.ClusterIP}/hostname") == "web-3")), "zone b's client served by web-3 only");
            var seen = Enumerable.Range(0, 20).Select(_ => Get(inZoneA, $"http://{close.Spec.ClusterIP}/hostname")).ToHashSet();
            Assert.DoesNotContain("web-3", seen);
            Assert.Subset(new HashSet<string?> { "web-1", "web-2" }, seen);

            // Topology-aware routing (topology-mode Auto): zone a holds two nodes' CPU and zone b one,
            // so two endpoints are hinted for a and one for b, and b's client stays in b.
            var auto = await client.CoreV1.CreateNamespacedServiceAsync(Service("auto", "web", "ClusterIP", s => s.IpFamilies = ["IPv4"]), "default");
            await client.CoreV1.PatchNamespacedServiceAsync(new V1Patch("""{"metadata":{"annotations":{"service.kubernetes.io/topology-mode":"Auto"}}}""", V1Patch.PatchType.MergePatch), "auto", "default");
            await Until(async () => (await client.DiscoveryV1.ListNamespacedEndpointSliceAsync("default", labelSelector: "kubernetes.io/service-name=auto")).Items
                .SelectMany(e => e.Endpoints ?? []).Count(e => e.Hints?.ForZones?.Count == 1) == 3, "every endpoint of auto hinted");
            var autoHints = (await client.DiscoveryV1.ListNamespacedEndpointSliceAsync("default", labelSelector: "kubernetes.io/service-name=auto")).Items
                .SelectMany(e => e.Endpoints).ToDictionary(e => e.TargetRef.Name, e => e.Hints.ForZones.Single().Name);
            Assert.Equal(new Dictionary<string, string> { ["web-1"] = "a", ["web-2"] = "a", ["web-3"] = "b" }, autoHints);
            await Until(() => Task.FromResult(Enumerable.Range(0, 10).All(_ => Get(probeNs, $"http://{auto.Spec.ClusterIP}/hostname") == "web-3")), "zone b's client served by web-3 only (Auto)");
        }
        finally
        {
            foreach (var node in nodes)
            {
                node.Dispose();
            }
        }
    }

    private static Task Patch(Kubernetes client, string name, string patch) =>
        client.CoreV1.PatchNamespacedServiceAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), name, "default");

    private static async Task<string> IngressOf(Kubernetes client, string name)
    {
        string? ip = null;
        await Until(async () => (ip = (await client.CoreV1.ReadNamespacedServiceAsync(name, "default")).Status?.LoadBalancer?.Ingress?.FirstOrDefault()?.Ip) is not null, name + "'s ingress address");
        return ip!;
    }
}
