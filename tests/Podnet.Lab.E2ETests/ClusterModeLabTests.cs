using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Podnet.Cni.Client;
using Podnet.Kernel;
using Podnet.Lab.Topology;

namespace Podnet.Lab.E2ETests;

/// <summary>
/// The path a real cluster takes, on lab namespaces: Podnet's API server started on its own
/// (auditing), deploy/podnet.yaml applied with the real kubectl, `podnet agent --mode cluster`
/// on each node as the ServiceAccount podnet/podnet-agent and `podnet dns` as
/// kube-system/kube-dns, holding exactly podnet.yaml's ClusterRoles; this test plays kubelet:
/// it registers the Nodes, makes pod namespaces and wires them with Podnet's CNI client
/// (libcni's role) from the conflist the agent installed, and starts a server in a pod. Pods
/// reach each other across nodes and through a ClusterIP, the agents set their Nodes'
/// NetworkUnavailable condition False, DNS answers the Service's name, a
/// ClusterNetworkPolicy gets its Accepted condition from the agents, and
/// the audit log shows every rule of both roles used by its identity — least privilege shown
/// — while a Secret read and a write to a Node are refused.
/// </summary>
public sealed class ClusterModeLabTests
{
    private const string AgentUser = "system:serviceaccount:podnet:podnet-agent";
    private const string DnsUser = "system:serviceaccount:kube-system:kube-dns";

    [PrivilegedFact]
    public async Task AgentsInClusterMode_AsTheirServiceAccounts_WirePodsMadeByACniClient_EveryRuleUsed()
    {
        var lab = "c" + Guid.NewGuid().ToString("N")[..7];
        var dir = Directory.CreateTempSubdirectory("pn-cluster-").FullName;
        var plan = LabPlanner.Build(new LabSpec { Name = lab, Nodes = 2 });
        var pids = new List<int>();
        var logs = new List<string>();
        string Logs() => string.Join("\n", logs.Where(File.Exists).Select(l => $"--- {l}\n{Tail(File.ReadAllText(l))}"));
        try
        {
            LabBuilder.Up(plan);
            var cpAddress = plan.ControlPlane.Address.Address.ToString();
            var state = Path.Combine(dir, "server");
            var audit = Path.Combine(dir, "audit.log");
            logs.Add(Path.Combine(dir, "server.log"));
            pids.Add(StartLogged(null, Path.Combine(dir, "server.log"), RepoPaths.Bin("podnet"), "server", "--state", state, "--port", "0", "--controllers", "none",
                "--lab-netns", plan.ControlPlane.Netns, "--lab-address", cpAddress, "--lab-port", "6443", "--audit-log-path", audit));
            var adminKubeconfig = Path.Combine(state, "kubeconfig");
            await WaitAsync(() => File.Exists(adminKubeconfig), "the server's kubeconfig", Logs);
            using var admin = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(adminKubeconfig));

            // What a user does first on a real cluster: apply the manifest (the DaemonSet and the
            // DNS Deployment stay unscheduled: no controllers run here).
            foreach (var manifest in new[] { "crds/clusternetworkpolicies.yaml", "podnet.yaml" })
            {
                var apply = Kubectl(adminKubeconfig, "apply", "-f", Path.Combine(RepoPaths.Root, "deploy", manifest));
                Assert.True(apply.Success, apply.StandardError);
            }

            // kubelet's part: the Nodes, with the podCIDRs node IPAM would give and their addresses.
            for (var i = 0; i < plan.Nodes.Count; i++)
            {
                var host = plan.Nodes[i];
                var node = await admin.CoreV1.CreateNodeAsync(new V1Node
                {
                    Metadata = new V1ObjectMeta { Name = host.Name, Labels = new Dictionary<string, string> { ["kubernetes.io/hostname"] = host.Name } },
                    Spec = new V1NodeSpec { PodCIDR = $"10.244.{i + 1}.0/24", PodCIDRs = [$"10.244.{i + 1}.0/24"] },
                });
                node.Status = new V1NodeStatus
                {
                    Addresses = [new V1NodeAddress { Type = "InternalIP", Address = host.Address.Address.ToString() }, new V1NodeAddress { Type = "Hostname", Address = host.Name }],
                    Conditions = [new V1NodeCondition { Type = "Ready", Status = "True", Reason = "KubeletReady", LastHeartbeatTime = DateTime.UtcNow, LastTransitionTime = DateTime.UtcNow }],
                };
                await admin.CoreV1.ReplaceNodeStatusAsync(node, host.Name);
            }

            var ca = Convert.ToBase64String(Encoding.UTF8.GetBytes(File.ReadAllText(Path.Combine(state, "pki", "ca.crt"))));
            var agentToken = await TokenAsync(admin, "podnet", "podnet-agent");
            var dnsToken = await TokenAsync(admin, "kube-system", "kube-dns");
            var agentKubeconfig = WriteKubeconfig(dir, "agent", $"https://{cpAddress}:6443", ca, agentToken);
            var dnsKubeconfig = WriteKubeconfig(dir, "dns", $"https://{cpAddress}:6443", ca, dnsToken);

            // The DaemonSet's command line, one agent per node, in the node's namespace.
            foreach (var host in plan.Nodes)
            {
                var nodeDir = Path.Combine(dir, host.Name);
                Directory.CreateDirectory(nodeDir);
                using var netns = Netns.Open(host.Netns);
                var log = Path.Combine(nodeDir, "agent.log");
                logs.Add(log);
                pids.Add(StartLogged(netns, log, RepoPaths.Bin("podnet"), "agent", "--mode", "cluster", "--kubeconfig", agentKubeconfig, "--node", host.Name,
                    "--state", Path.Combine(nodeDir, "state"), "--cni-bin", Path.GetDirectoryName(RepoPaths.Bin("podnet-cni"))!,
                    "--cni-bin-dir", Path.Combine(nodeDir, "cni-bin"), "--cni-conf-dir", Path.Combine(nodeDir, "net.d"),
                    "--cluster-cidr", "10.244.0.0/16", "--service-cidr", "10.96.0.0/16"));
            }
            foreach (var host in plan.Nodes)
            {
                var conflist = Path.Combine(dir, host.Name, "net.d", "05-podnet.conflist");
                await WaitAsync(() => File.Exists(conflist), $"{host.Name}'s conflist", Logs);
            }

            // Each agent, its routes in, marks its Node's network available; kubelet's Ready stays.
            foreach (var host in plan.Nodes)
            {
                await WaitAsync(() => admin.CoreV1.ReadNode(host.Name).Status.Conditions.Any(c => c.Type == "NetworkUnavailable" && c.Status == "False" && c.Reason == "PodnetIsUp"),
                    $"{host.Name}'s NetworkUnavailable False", Logs);
                Assert.Contains(admin.CoreV1.ReadNode(host.Name).Status.Conditions, c => c.Type == "Ready" && c.Status == "True");
            }

            // The runtime's part: a namespace per pod, wired by the CNI client in the node's namespace.
            var a = Wire(dir, plan, lab, plan.Nodes[0], "pa");
            var b = Wire(dir, plan, lab, plan.Nodes[1], "pb");
            Assert.StartsWith("10.244.1.", a.Address);
            Assert.StartsWith("10.244.2.", b.Address);
            var www = Path.Combine(dir, "www");
            Directory.CreateDirectory(www);
            File.WriteAllText(Path.Combine(www, "index.html"), "pod-b\n");
            using (var podB = Netns.Open(b.Netns))
            {
                pids.Add(StartLogged(podB, Path.Combine(dir, "httpd.log"), "busybox", "httpd", "-f", "-p", "8080", "-h", www));
            }
            using var podA = Netns.Open(a.Netns);
            await WaitAsync(() => Curl(podA, $"http://{b.Address}:8080/") == "pod-b", "pod a reaching pod b across nodes", Logs);

            // A Service over pod b: its ClusterIP answers from pod a through the agents' proxy.
            var service = await admin.CoreV1.CreateNamespacedServiceAsync(new V1Service
            {
                Metadata = new V1ObjectMeta { Name = "web" },
                Spec = new V1ServiceSpec { Selector = new Dictionary<string, string> { ["app"] = "b" }, Ports = [new V1ServicePort { Name = "http", Port = 80, TargetPort = 8080 }] },
            }, "default");
            await admin.DiscoveryV1.CreateNamespacedEndpointSliceAsync(new V1EndpointSlice
            {
                Metadata = new V1ObjectMeta { Name = "web-1", Labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = "web", ["endpointslice.kubernetes.io/managed-by"] = "test.podnet.dev" } },
                AddressType = "IPv4",
                Endpoints = [new V1Endpoint { Addresses = [b.Address], NodeName = plan.Nodes[1].Name, Conditions = new V1EndpointConditions { Ready = true } }],
                Ports = [new Discoveryv1EndpointPort { Name = "http", Port = 8080, Protocol = "TCP" }],
            }, "default");
            await WaitAsync(() => Curl(podA, $"http://{service.Spec.ClusterIP}/") == "pod-b", "pod a reaching the ClusterIP", Logs);

            // DNS as kube-system/kube-dns, in node 2's namespace on a port of its own.
            using (var n2 = Netns.Open(plan.Nodes[1].Netns))
            {
                var log = Path.Combine(dir, "dns.log");
                logs.Add(log);
                pids.Add(StartLogged(n2, log, RepoPaths.Bin("podnet"), "dns", "--kubeconfig", dnsKubeconfig, "--listen", "127.0.0.1:1053",
                    "--metrics-port", "19153", "--health-port", "18080", "--ready-port", "18181", "--workers", "1"));
                await WaitAsync(() => Dig(n2, "web.default.svc.cluster.local") == service.Spec.ClusterIP, "DNS answering the Service's name", Logs);
            }

            // A ClusterNetworkPolicy: the agents judge it and write its Accepted condition.
            var cnp = Path.Combine(dir, "cnp.yaml");
            File.WriteAllText(cnp, """
                apiVersion: policy.networking.k8s.io/v1alpha2
                kind: ClusterNetworkPolicy
                metadata: {name: monitoring}
                spec:
                  tier: Admin
                  priority: 10
                  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: default}}}
                  ingress:
                  - {name: from-monitoring, action: Accept, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]}
                """);
            var applied = Kubectl(adminKubeconfig, "apply", "-f", cnp);
            Assert.True(applied.Success, applied.StandardError);
            await WaitAsync(() => Kubectl(adminKubeconfig, "get", "clusternetworkpolicy", "monitoring", "-o", "jsonpath={.status.conditions[?(@.type==\"Accepted\")].status}").StandardOutput == "True",
                "the agents' Accepted condition on the ClusterNetworkPolicy", Logs);

            // Denials: the agent's identity reads no Secret and writes no Node.
            var agentFromHere = KubernetesClientConfiguration.BuildConfigFromConfigFile(adminKubeconfig);
            agentFromHere.ClientCertificateData = null;
            agentFromHere.ClientCertificateKeyData = null;
            agentFromHere.ClientCertificateFilePath = null;
            agentFromHere.ClientKeyFilePath = null;
            agentFromHere.AccessToken = agentToken;
            using (var agent = new Kubernetes(agentFromHere))
            {
                var secret = await Assert.ThrowsAsync<k8s.Autorest.HttpOperationException>(() => agent.CoreV1.ListNamespacedSecretAsync("kube-system"));
                Assert.Equal(System.Net.HttpStatusCode.Forbidden, secret.Response.StatusCode);
                var patch = new V1Patch("{\"metadata\":{\"labels\":{\"x\":\"y\"}}}", V1Patch.PatchType.MergePatch);
                var write = await Assert.ThrowsAsync<k8s.Autorest.HttpOperationException>(() => agent.CoreV1.PatchNodeAsync(patch, plan.Nodes[1].Name));
                Assert.Equal(System.Net.HttpStatusCode.Forbidden, write.Response.StatusCode);
                Assert.Contains($"User \\\"{AgentUser}\\\" cannot patch resource \\\"nodes\\\"", write.Response.Content);
            }

            // Least privilege: every verb on every resource each role grants was used by its identity.
            var events = File.ReadAllLines(audit).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
            var roles = KubernetesYaml.LoadAllFromString(File.ReadAllText(Path.Combine(RepoPaths.Root, "deploy", "podnet.yaml"))).OfType<V1ClusterRole>().ToList();
            foreach (var (role, user) in new[] { ("podnet:agent", AgentUser), ("podnet:dns", DnsUser) })
            {
                var used = Used(events, user);
                var granted = roles.Single(r => r.Metadata.Name == role).Rules
                    .SelectMany(r => r.ApiGroups.SelectMany(g => r.Resources.SelectMany(res => r.Verbs.Select(v => (Group: g, Resource: res, Verb: v)))))
                    .ToList();
                var unused = granted.Where(g => !used.Contains(g)).Select(g => $"{g.Verb} {g.Resource}{(g.Group.Length > 0 ? "." + g.Group : "")}").ToList();
                Assert.True(unused.Count == 0, $"{role} grants what {user} never asked for: {string.Join(", ", unused)}; it asked for: {string.Join(", ", used.Select(u => $"{u.Verb} {u.Resource}"))}");
                var forbidden = events.Where(e => (string?)e["user"]?["username"] == user && (int?)e["responseStatus"]?["code"] == 403 && (string?)e["objectRef"]?["resource"] is not ("secrets" or "nodes")).ToList();
                Assert.True(forbidden.Count == 0, $"{user} was refused: {string.Join("\n", forbidden.Select(e => e.ToJsonString()))}");
            }
        }
        finally
        {
            foreach (var pid in pids)
            {
                ProcessSignals.Kill(pid, ProcessSignals.SigTerm);
            }
            foreach (var pid in pids)
            {
                for (var i = 0; i < 100 && ProcessSignals.IsAlive(pid); i++)
                {
                    Thread.Sleep(100);
                }
                ProcessSignals.Kill(pid, ProcessSignals.SigKill);
            }
            LabBuilder.EndProcesses(lab);
            foreach (var pod in new[] { "pa", "pb" })
            {
                Netns.Delete($"pn-{lab}-{pod}"); // the runtime's namespaces: not the lab builder's
            }
            LabBuilder.Down(lab);
            Directory.Delete(dir, recursive: true);
        }
        Assert.DoesNotContain(Netns.List(), n => n.StartsWith($"pn-{lab}-", StringComparison.Ordinal));
    }

    /// <summary>(group, resource[/subresource], verb) of every request of the user that was allowed.</summary>
    private static HashSet<(string Group, string Resource, string Verb)> Used(List<JsonObject> events, string user) =>
        events.Where(e => (string?)e["user"]?["username"] == user && (string?)e["annotations"]?["authorization.k8s.io/decision"] == "allow" && e["objectRef"] is not null)
            .Select(e => ((string?)e["objectRef"]!["apiGroup"] ?? "",
                (string)e["objectRef"]!["resource"]! + ((string?)e["objectRef"]!["subresource"] is { } sub ? "/" + sub : ""),
                (string)e["verb"]!))
            .ToHashSet();

    private sealed record Pod(string Netns, string Address);

    /// <summary>
    /// A pod's namespace wired as a runtime does: Podnet's CNI client runs the node's conflist,
    /// its plugins started inside the node's namespace (a wrapper per plugin name, as a runtime
    /// running in that namespace would start them).
    /// </summary>
    private static Pod Wire(string dir, LabPlan plan, string lab, HostPlan node, string pod)
    {
        var nodeDir = Path.Combine(dir, node.Name);
        var wrappers = Path.Combine(nodeDir, "runtime-bin");
        Directory.CreateDirectory(wrappers);
        foreach (var plugin in Directory.GetFiles(Path.Combine(nodeDir, "cni-bin")))
        {
            var wrapper = Path.Combine(wrappers, Path.GetFileName(plugin));
            File.WriteAllText(wrapper, $"#!/bin/sh\nexec ip netns exec {node.Netns} {plugin} \"$@\"\n");
            if (OperatingSystem.IsLinux())
            {
                File.SetUnixFileMode(wrapper, (UnixFileMode)0b111_101_101);
            }
        }
        var name = $"pn-{lab}-{pod}";
        using (Netns.Create(name))
        {
        }
        var client = new CniClient([wrappers], Path.Combine(nodeDir, "cni-cache"));
        var network = NetworkConfigList.Load(Path.Combine(nodeDir, "net.d", "05-podnet.conflist"));
        var (_, result) = client.Add(network, new RuntimeConf(Guid.NewGuid().ToString("N"), $"/run/netns/{name}", "eth0",
            $"K8S_POD_NAMESPACE=default;K8S_POD_NAME={pod};K8S_POD_INFRA_CONTAINER_ID=x"));
        return new Pod(name, result.Ips![0].Address.Split('/')[0]);
    }

    private static async Task<string> TokenAsync(Kubernetes admin, string ns, string name)
    {
        var request = await admin.CoreV1.CreateNamespacedServiceAccountTokenAsync(new Authenticationv1TokenRequest { Spec = new V1TokenRequestSpec { Audiences = [], ExpirationSeconds = 3600 } }, name, ns);
        return request.Status.Token;
    }

    private static string WriteKubeconfig(string dir, string name, string server, string caData, string token)
    {
        var path = Path.Combine(dir, $"kubeconfig-{name}");
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: lab
              cluster:
                server: {server}
                certificate-authority-data: {caData}
            users:
            - name: {name}
              user:
                token: {token}
            contexts:
            - name: {name}
              context: {"{"}cluster: lab, user: {name}{"}"}
            current-context: {name}
            """);
        return path;
    }

    private static int StartLogged(Netns? netns, string log, string file, params string[] arguments)
    {
        // The log's path is the shell's $0; the environment is this process's (PATH for nft, conntrack).
        using var process = ProcessSignals.StartDetached(netns, "/bin/sh", ["-c", "exec \"$@\" >\"$0\" 2>&1 </dev/null", log, file, .. arguments]);
        return process.Id;
    }

    private static ProcessResult Kubectl(string kubeconfig, params string[] arguments) =>
        ProcessRunner.Run(null, "kubectl", ["--kubeconfig", kubeconfig, .. arguments], timeout: TimeSpan.FromMinutes(2));

    private static string Curl(Netns netns, string url) =>
        Tools.Run(netns, "curl", "-sS", "--max-time", "3", url).StandardOutput.Trim();

    private static string Dig(Netns netns, string name) =>
        Tools.Run(netns, "dig", "+short", "+time=2", "+tries=1", "-p", "1053", "@127.0.0.1", name).StandardOutput.Trim();

    private static string Tail(string text) => text.Length <= 3000 ? text : text[^3000..];

    private static async Task WaitAsync(Func<bool> condition, string what, Func<string> logs)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"no {what} within 90 s\n{logs()}");
            }
            await Task.Delay(200);
        }
    }
}
