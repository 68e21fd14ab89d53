using System.Net;
using System.Net.Sockets;
using System.Text;
using k8s;
using k8s.Models;
using Podnet.TestServer;
using Podnet.Kernel;
using Podnet.Testing;

namespace Podnet.Lab.E2ETests;

/// <summary>
/// Services answering in a three-node lab, with real traffic: who answered (/hostname) and
/// which source address the endpoint saw (/clientip), from pods on every node, from a node and
/// from the outside host.
/// </summary>
public sealed class ServiceProxyTests(LabFixture lab) : IClassFixture<LabFixture>
{
    private static readonly SemaphoreSlim s_pods = new(1, 1);
    private static V1Pod[]? s_web;
    private static V1Pod? s_client;

    /// <summary>Three web pods, one a node, and a client pod on n1; made once for the class.</summary>
    private async Task<(V1Pod[] Web, V1Pod Client)> PodsAsync()
    {
        await s_pods.WaitAsync();
        try
        {
            if (s_web is null || s_client is null || s_web[0].Metadata.NamespaceProperty is null)
            {
                s_web = await Task.WhenAll(Enumerable.Range(1, 3).Select(i => lab.RunPodAsync(Labelled(LabFixture.ServerPod($"web-{i}", $"n{i}"), "web"))));
                s_client = await lab.RunPodAsync(LabFixture.ServerPod("client", "n1"));
            }
            return (s_web, s_client);
        }
        finally
        {
            s_pods.Release();
        }
    }

    private static V1Pod Labelled(V1Pod pod, string app)
    {
        pod.Metadata.Labels["app"] = app;
        return pod;
    }

    private async Task<V1Service> ServiceAsync(string name, string app, string type = "ClusterIP", string? affinity = null, int? timeout = null)
    {
        var service = await lab.Client.CoreV1.CreateNamespacedServiceAsync(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = name },
            Spec = new V1ServiceSpec
            {
                Type = type,
                Selector = new Dictionary<string, string> { ["app"] = app },
                Ports = [new V1ServicePort { Name = "http", Port = 80, TargetPort = 8080 }, new V1ServicePort { Name = "udp", Port = 81, Protocol = "UDP", TargetPort = 8081 }],
                SessionAffinity = affinity,
                SessionAffinityConfig = timeout is null ? null : new V1SessionAffinityConfig { ClientIP = new V1ClientIPConfig { TimeoutSeconds = timeout } },
            },
        }, "default");
        return service;
    }

    /// <summary>Waits until the Service answers from <paramref name="from"/> (programming takes a moment after the slice appears).</summary>
    private static async Task<string> AnswerAsync(Netns from, string url, Func<string, bool>? until = null)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            // -f: an HTTP error (503 before the first sync) is a failure to retry, not an answer.
            var result = Tools.Run(from, "curl", "-sSf", "--max-time", "2", url);
            if (result.Success && (until is null || until(result.StandardOutput)))
            {
                return result.StandardOutput;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{url} from {from.Path}: {result.StandardError}{result.StandardOutput}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>The hostnames of <paramref name="count"/> requests, made by one shell loop inside the namespace.</summary>
    private static Dictionary<string, int> Spread(Netns from, string url, int count)
    {
        var result = Tools.Run(from, "sh", "-c", $"for i in $(seq {count}); do curl -s --max-time 2 {url}; echo; done");
        Assert.True(result.Success, result.StandardError);
        return result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).GroupBy(h => h).ToDictionary(g => g.Key, g => g.Count());
    }

    [PrivilegedFact]
    public async Task ClusterIP_SpreadsOverEveryEndpoint_FromPodsNodesAndKeepsThePodsSource()
    {
        var (web, client) = await PodsAsync();
        var service = await ServiceAsync("spread", "web");
        var ip = service.Spec.ClusterIP;
        using var from = lab.PodNetns(client);
        await AnswerAsync(from, $"http://{ip}/hostname");
        var spread = Spread(from, $"http://{ip}/hostname", 300);
        Assert.Equal(web.Select(p => p.Metadata.Name).Order(), spread.Keys.Order());
        Assert.Equal(300, spread.Values.Sum());
        Assert.All(spread.Values, n => Assert.InRange(n, 60, 141)); // each 20–47 %
        Assert.StartsWith(client.Status.PodIP + ":", await AnswerAsync(from, $"http://{ip}/clientip"));
        // From a pod on another node, from each node, and over UDP.
        using var other = lab.PodNetns(web[2]);
        Assert.Contains(await AnswerAsync(other, $"http://{ip}/hostname"), web.Select(p => p.Metadata.Name));
        for (var n = 1; n <= 3; n++)
        {
            using var node = lab.HostNetns($"n{n}");
            Assert.Contains(await AnswerAsync(node, $"http://{ip}/hostname"), web.Select(p => p.Metadata.Name));
        }
        Assert.Contains(await Probes.UdpAsync(from, ip, 81, "hostname"), web.Select(p => p.Metadata.Name));
    }

    [PrivilegedFact]
    public async Task NodePort_AnswersOnEveryNode_FromTheOutsideHost_Masqueraded()
    {
        var (web, _) = await PodsAsync();
        var service = await ServiceAsync("nodeport", "web", "NodePort");
        var port = service.Spec.Ports[0].NodePort!.Value;
        using var outside = lab.HostNetns("out");
        for (var n = 1; n <= 3; n++)
        {
            var nodeIp = $"172.18.0.{10 + n}";
            Assert.Contains(await AnswerAsync(outside, $"http://{nodeIp}:{port}/hostname"), web.Select(p => p.Metadata.Name));
            // Policy Cluster: the endpoint sees a node's address, never the outside host's.
            var seen = await AnswerAsync(outside, $"http://{nodeIp}:{port}/clientip");
            Assert.False(seen.StartsWith("172.18.0.1:", StringComparison.Ordinal), seen);
        }
    }

    [PrivilegedFact]
    public async Task HealthAndMetrics_OnEachNodesAddress()
    {
        await PodsAsync();
        await ServiceAsync("measured", "web");
        using var outside = lab.HostNetns("out");
        for (var n = 1; n <= 3; n++)
        {
            var health = await AnswerAsync(outside, $"http://172.18.0.{10 + n}:10256/healthz");
            Assert.Contains("\"nodeEligible\": true", health);
            Assert.Contains("lastUpdated", await AnswerAsync(outside, $"http://172.18.0.{10 + n}:10256/livez"));
            // kubernetes, kube-dns and this test's Service are programmed, and a sync has been
            // counted (an agent killed by an earlier test starts its counters afresh).
            var metrics = await AnswerAsync(outside, $"http://172.18.0.{10 + n}:10256/metrics",
                m => ServicesProgrammed(m) >= 3 && System.Text.RegularExpressions.Regex.IsMatch(m, "kubeproxy_sync_proxy_rules_duration_seconds_count [1-9]"));
            Assert.True(ServicesProgrammed(metrics) >= 3, metrics);
            Assert.Matches("kubeproxy_sync_proxy_rules_duration_seconds_count [1-9]", metrics);
            Assert.Contains("kubeproxy_sync_proxy_rules_nftables_sync_failures_total 0", metrics);
        }
    }

    private static int ServicesProgrammed(string metrics)
    {
        var match = System.Text.RegularExpressions.Regex.Match(metrics, "podnet_proxy_services\\{family=\"ipv4\"\\} (\\d+)");
        return match.Success ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : -1;
    }

    [PrivilegedFact]
    public async Task UndefinedPort_IsRefusedAtOnce_UnallocatedAddress_TimesOut()
    {
        var (_, client) = await PodsAsync();
        var service = await ServiceAsync("reject", "web");
        using var from = lab.PodNetns(client);
        await AnswerAsync(from, $"http://{service.Spec.ClusterIP}/hostname");
        var refused = await from.Run(() => ConnectProbe.RunAsync(service.Spec.ClusterIP, 8080, ProtocolType.Tcp, TimeSpan.FromSeconds(3)));
        Assert.Equal(ConnectOutcome.Refused, refused.Outcome);
        var dropped = await from.Run(() => ConnectProbe.RunAsync("10.96.255.254", 80, ProtocolType.Tcp, TimeSpan.FromSeconds(1)));
        Assert.Equal(ConnectOutcome.Timeout, dropped.Outcome);
        var empty = await lab.Client.CoreV1.CreateNamespacedServiceAsync(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "empty" },
            Spec = new V1ServiceSpec { Selector = new Dictionary<string, string> { ["app"] = "nobody" }, Ports = [new V1ServicePort { Port = 80 }] },
        }, "default");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        ConnectResult none;
        do
        {
            none = await from.Run(() => ConnectProbe.RunAsync(empty.Spec.ClusterIP, 80, ProtocolType.Tcp, TimeSpan.FromSeconds(1)));
        }
        while (none.Outcome != ConnectOutcome.Refused && DateTime.UtcNow < deadline);
        Assert.Equal(ConnectOutcome.Refused, none.Outcome);
    }

    [PrivilegedFact]
    public async Task OnlyTerminatingEndpoints_StillServe_UntilThePodIsGone()
    {
        var (_, client) = await PodsAsync();
        // A server that ignores SIGTERM (SIG_IGN survives exec), so that a graceful deletion
        // leaves it running and its readiness probe passing: serving and terminating.
        var pod = await lab.RunPodAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "lingering", NamespaceProperty = "default", Labels = new Dictionary<string, string> { ["app"] = "lingering" } },
            Spec = new V1PodSpec
            {
                NodeName = "n2",
                TerminationGracePeriodSeconds = 120,
                Containers =
                [
                    new V1Container
                    {
                        Name = "web",
                        Image = "python",
                        Command = ["/bin/sh", "-c", "trap '' TERM; cd /proc/self && exec /usr/bin/python3 -m http.server 8080 --bind 0.0.0.0"],
                        Ports = [new V1ContainerPort { ContainerPort = 8080 }],
                        ReadinessProbe = new V1Probe { TcpSocket = new V1TCPSocketAction { Port = 8080 }, PeriodSeconds = 1 },
                    },
                ],
            },
        });
        try
        {
            var service = await ServiceAsync("lingering", "lingering");
            using var from = lab.PodNetns(client);
            var url = $"http://{service.Spec.ClusterIP}/";
            await AnswerAsync(from, url);

            await lab.Client.CoreV1.DeleteNamespacedPodAsync("lingering", "default");
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            V1EndpointConditions? conditions = null;
            while (DateTime.UtcNow < deadline)
            {
                var slices = await lab.Client.DiscoveryV1.ListNamespacedEndpointSliceAsync("default", labelSelector: "kubernetes.io/service-name=lingering");
                conditions = slices.Items.SelectMany(s => s.Endpoints ?? []).SingleOrDefault()?.Conditions;
                if (conditions is { Terminating: true })
                {
                    break;
                }
                await Task.Delay(200);
            }
            Assert.True(conditions is { Ready: false, Serving: true, Terminating: true }, $"the endpoint's conditions: ready {conditions?.Ready}, serving {conditions?.Serving}, terminating {conditions?.Terminating}");
            // No ready endpoint is left: the proxy falls back to the serving terminating one
            // (kube-proxy's behaviour since 1.26) instead of rejecting.
            await AnswerAsync(from, url);
            Assert.True(Tools.Run(from, "curl", "-sSf", "--max-time", "2", url).Success);
        }
        finally
        {
            await lab.Client.CoreV1.DeleteNamespacedPodAsync("lingering", "default", gracePeriodSeconds: 0);
        }
    }

    [PrivilegedFact]
    public async Task Hairpin_APodReachesItselfThroughItsService()
    {
        var pod = await lab.RunPodAsync(Labelled(LabFixture.ServerPod("lonely", "n2"), "lonely"));
        var service = await ServiceAsync("lonely", "lonely");
        using var netns = lab.PodNetns(pod);
        Assert.Equal("lonely", await AnswerAsync(netns, $"http://{service.Spec.ClusterIP}/hostname"));
        Assert.False((await AnswerAsync(netns, $"http://{service.Spec.ClusterIP}/clientip")).StartsWith(pod.Status.PodIP + ":", StringComparison.Ordinal));
    }

    [PrivilegedFact]
    public async Task ClientIPAffinity_Sticks_CanBeSwitchedOff_AndExpires()
    {
        var (web, client) = await PodsAsync();
        var service = await ServiceAsync("sticky", "web", affinity: "ClientIP", timeout: 3);
        using var from = lab.PodNetns(client);
        var url = $"http://{service.Spec.ClusterIP}/hostname";
        await AnswerAsync(from, url);
        Assert.Single(Spread(from, url, 30));
        // The kernel forgets the client once the timeout passes without a new connection.
        using var n1 = lab.HostNetns("n1");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Tools.Run(n1, "nft", "list", "table", "ip", "podnet-proxy").StandardOutput.Contains(client.Status.PodIP + " expires", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, "the affinity entry did not expire");
            await Task.Delay(200);
        }
        await lab.Client.CoreV1.PatchNamespacedServiceAsync(new V1Patch("{\"spec\":{\"sessionAffinity\":\"None\"}}", V1Patch.PatchType.MergePatch), "sticky", "default");
        await AnswerAsync(from, url, _ => Spread(from, url, 30).Count > 1);
        Assert.Equal(3, web.Length);
    }

    [PrivilegedFact]
    public async Task TypeChanges_TakeEffect_WithoutStaleRules()
    {
        await PodsAsync();
        var service = await ServiceAsync("morph", "web", "NodePort");
        var port = service.Spec.Ports[0].NodePort!.Value;
        using var outside = lab.HostNetns("out");
        await AnswerAsync(outside, $"http://172.18.0.11:{port}/hostname");
        await lab.Client.CoreV1.PatchNamespacedServiceAsync(new V1Patch("{\"spec\":{\"type\":\"ClusterIP\",\"ports\":[{\"name\":\"http\",\"port\":80,\"targetPort\":8080,\"nodePort\":null},{\"name\":\"udp\",\"port\":81,\"protocol\":\"UDP\",\"targetPort\":8081,\"nodePort\":null}]}}", V1Patch.PatchType.MergePatch), "morph", "default");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        ConnectResult gone;
        do
        {
            gone = await outside.Run(() => ConnectProbe.RunAsync("172.18.0.11", port, ProtocolType.Tcp, TimeSpan.FromSeconds(1)));
        }
        while (gone.Outcome == ConnectOutcome.Connected && DateTime.UtcNow < deadline);
        Assert.Equal(ConnectOutcome.Refused, gone.Outcome);
        await lab.Client.CoreV1.PatchNamespacedServiceAsync(new V1Patch("{\"spec\":{\"type\":\"ExternalName\",\"externalName\":\"example.org\",\"clusterIP\":\"\",\"clusterIPs\":null,\"ports\":null}}", V1Patch.PatchType.MergePatch), "morph", "default");
        using var n1 = lab.HostNetns("n1");
        deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Tools.Run(n1, "nft", "list", "table", "ip", "podnet-proxy").StandardOutput.Contains(service.Spec.ClusterIP + " ", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, "the ExternalName Service kept its ClusterIP's rules");
            await Task.Delay(100);
        }
    }

    [PrivilegedFact]
    public async Task AnotherServiceCidr_WidensTheRange_AndTheNodesDataPathsFollowIt()
    {
        var (_, client) = await PodsAsync();
        using var n1 = lab.HostNetns("n1");
        // Not adjacent to 10.96.0.0/16: nft would print the two as one interval.
        await lab.Client.NetworkingV1.CreateServiceCIDRAsync(new V1ServiceCIDR { Metadata = new V1ObjectMeta { Name = "extra" }, Spec = new V1ServiceCIDRSpec { Cidrs = ["10.98.0.0/24"] } });
        async Task WaitForRangeAsync(bool present)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (true)
            {
                var proxy = Tools.Run(n1, "nft", "list", "table", "ip", "podnet-proxy").StandardOutput;
                var egress = Tools.Run(n1, "nft", "list", "table", "inet", "podnet-egress").StandardOutput;
                if (proxy.Contains("10.98.0.0/24", StringComparison.Ordinal) == present && egress.Contains("10.98.0.0/24", StringComparison.Ordinal) == present)
                {
                    return;
                }
                Assert.True(DateTime.UtcNow < deadline, $"the node's tables did not {(present ? "take" : "drop")} 10.98.0.0/24:\n{proxy}\n{egress}");
                await Task.Delay(100);
            }
        }
        await WaitForRangeAsync(present: true);

        // A ClusterIP from the new range is allocated and answers from a pod.
        var service = await lab.Client.CoreV1.CreateNamespacedServiceAsync(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "wide" },
            Spec = new V1ServiceSpec { ClusterIP = "10.98.0.50", Selector = new Dictionary<string, string> { ["app"] = "web" }, Ports = [new V1ServicePort { Name = "http", Port = 80, TargetPort = 8080 }] },
        }, "default");
        Assert.Equal("10.98.0.50", service.Spec.ClusterIP);
        using (var from = lab.PodNetns(client))
        {
            Assert.StartsWith("web-", await AnswerAsync(from, "http://10.98.0.50/hostname"));
        }

        // Gone once its last address is released: the Service first, then the ServiceCIDR's finalizer.
        await lab.Client.CoreV1.DeleteNamespacedServiceAsync("wide", "default");
        await lab.Client.NetworkingV1.DeleteServiceCIDRAsync("extra");
        await WaitForRangeAsync(present: false);
    }

    [PrivilegedFact]
    public async Task Udp_AfterTheEndpointIsReplaced_TheSameClientSocketReachesTheNewOne()
    {
        var first = await lab.RunPodAsync(Labelled(LabFixture.ServerPod("dns-a", "n2"), "udp-only"));
        var service = await ServiceAsync("udp-only", "udp-only");
        var (_, client) = await PodsAsync();
        using var from = lab.PodNetns(client);
        var ip = IPAddress.Parse(service.Spec.ClusterIP);
        using var socket = from.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        await socket.ConnectAsync(ip, 81);
        Assert.Equal("dns-a", await AskAsync(socket, until: a => a == "dns-a"));
        await lab.Client.CoreV1.DeleteNamespacedPodAsync("dns-a", "default", new V1DeleteOptions { GracePeriodSeconds = 0 });
        await lab.RunPodAsync(Labelled(LabFixture.ServerPod("dns-b", "n3"), "udp-only"));
        // Without the conntrack cleanup the socket's flow stays pinned to the dead endpoint for
        // UDP's conntrack timeout (30 s or more while it keeps sending).
        Assert.Equal("dns-b", await AskAsync(socket, until: a => a == "dns-b"));
        Assert.NotNull(first);
    }

    private static async Task<string> AskAsync(Socket socket, Func<string, bool> until)
    {
        var buffer = new byte[256];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes("hostname"));
            using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
            try
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, wait.Token);
                last = Encoding.UTF8.GetString(buffer, 0, n);
                if (until(last))
                {
                    return last;
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException)
            {
            }
        }
        return last;
    }

    [PrivilegedFact]
    public async Task AgentKilled_ServicesKeepAnswering_AndItsResyncLeavesTheSameRuleset()
    {
        var (web, client) = await PodsAsync();
        var service = await ServiceAsync("survivor", "web");
        using var from = lab.PodNetns(client);
        var url = $"http://{service.Spec.ClusterIP}/hostname";
        await AnswerAsync(from, url);
        using var n1 = lab.HostNetns("n1");
        var before = KernelNftDump.Read(n1);
        var state = Path.Combine("/var/lib/podnet/labs", lab.Name);
        var pid = AgentPid(state) ?? throw new InvalidOperationException("no agent-n1 pid");
        ProcessSignals.Kill(pid, 9);
        // While the agent is away the kernel keeps serving.
        Assert.Contains(Probes.Curl(from, url), web.Select(p => p.Metadata.Name));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (AgentPid(state) is not { } again || again == pid)
        {
            Assert.True(DateTime.UtcNow < deadline, "the agent was not restarted");
            await Task.Delay(100);
        }
        // The restarted agent rebuilds the table; then it holds the same rules and elements.
        string after = "";
        deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        do
        {
            await Task.Delay(200);
            after = KernelNftDump.Read(n1);
        }
        while (Normalize(after) != Normalize(before) && DateTime.UtcNow < deadline);
        Assert.Equal(Normalize(before), Normalize(after));
        Assert.Contains(Probes.Curl(from, url), web.Select(p => p.Metadata.Name));
    }

    [PrivilegedFact]
    public async Task EstablishedConnectionThroughAClusterIP_SurvivesTheAgentsKillAndItsFullResync()
    {
        var (web, client) = await PodsAsync();
        var service = await ServiceAsync("steady", "web");
        using var from = lab.PodNetns(client);
        await AnswerAsync(from, $"http://{service.Spec.ClusterIP}/hostname");
        using var socket = from.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        await socket.ConnectAsync(IPAddress.Parse(service.Spec.ClusterIP), 80);
        using var stream = new NetworkStream(socket);
        var names = web.Select(p => p.Metadata.Name).ToArray();
        async Task<string> AskAsync()
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /hostname HTTP/1.1\r\nHost: x\r\n\r\n"));
            var buffer = new byte[1024];
            var text = "";
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (!names.Any(n => text.EndsWith(n, StringComparison.Ordinal)))
            {
                var n = await stream.ReadAsync(buffer, timeout.Token);
                if (n == 0)
                {
                    break;
                }
                text += Encoding.ASCII.GetString(buffer, 0, n);
            }
            return text[(text.LastIndexOf('\n') + 1)..];
        }
        var first = await AskAsync();
        Assert.Contains(first, names);

        // The client's node does the DNAT: its agent is killed, and the restarted one rebuilds
        // the proxy's table from nothing (a full resync) while the connection stays open.
        using var n1 = lab.HostNetns("n1");
        var before = KernelNftDump.Read(n1);
        var state = Path.Combine("/var/lib/podnet/labs", lab.Name);
        var pid = AgentPid(state) ?? throw new InvalidOperationException("no agent-n1 pid");
        ProcessSignals.Kill(pid, ProcessSignals.SigKill);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (AgentPid(state) is not { } again || again == pid)
        {
            Assert.True(DateTime.UtcNow < deadline, "the agent was not restarted");
            await Task.Delay(100);
        }
        string after;
        do
        {
            await Task.Delay(200);
            after = KernelNftDump.Read(n1);
        }
        while (Normalize(after) != Normalize(before) && DateTime.UtcNow < deadline);
        Assert.Equal(Normalize(before), Normalize(after));
        // The same endpoint answers on the same connection: its conntrack entry kept its DNAT.
        Assert.Equal(first, await AskAsync());
    }

    /// <summary>The supervisor's record of agent-n1's pid, when that process is alive.</summary>
    private static int? AgentPid(string state)
    {
        var path = Path.Combine(state, "pids", "agent-n1.pid");
        return File.Exists(path) && int.TryParse(File.ReadAllText(path).Trim(), out var pid) && ProcessSignals.IsAlive(pid) ? pid : null;
    }

    /// <summary>The ruleset without what changes on its own: the clients remembered in affinity sets.</summary>
    private static string Normalize(string dump)
    {
        var lines = new List<string>();
        var inAffinity = false;
        foreach (var line in dump.Split('\n'))
        {
            if (!line.StartsWith("    ", StringComparison.Ordinal))
            {
                inAffinity = line.StartsWith("  set aff-", StringComparison.Ordinal);
            }
            else if (inAffinity)
            {
                continue;
            }
            lines.Add(line);
        }
        return string.Join('\n', lines);
    }
}
