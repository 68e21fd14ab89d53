using System.Net;
using System.Net.Sockets;
using System.Text;
using k8s;
using k8s.Models;
using Podnet.TestServer;
using Podnet.Kernel;

namespace Podnet.Lab.E2ETests;

/// <summary>A three-node lab in its default shape (host-gw, island, IPv4), with real traffic.</summary>
public sealed class PodNetworkTests(LabFixture lab) : IClassFixture<LabFixture>
{
    private static string Curl(Netns from, string url) => Probes.Curl(from, url);

    [PrivilegedFact]
    public async Task PodsOnEveryNode_ReachEachOther_OverTcpAndUdp_SeeingRealPodAddresses()
    {
        var pods = new List<V1Pod>();
        for (var i = 1; i <= 3; i++)
        {
            pods.Add(await lab.RunPodAsync(LabFixture.ServerPod($"mesh-{i}", $"n{i}")));
        }
        Assert.Equal(3, pods.Select(p => p.Status.PodIP).Distinct().Count());
        foreach (var from in pods)
        {
            using var netns = lab.PodNetns(from);
            foreach (var to in pods.Where(p => p != from))
            {
                Assert.Equal(to.Metadata.Name, Curl(netns, $"http://{to.Status.PodIP}:8080/hostname"));
                Assert.StartsWith($"{from.Status.PodIP}:", Curl(netns, $"http://{to.Status.PodIP}:8080/clientip"));
                Assert.StartsWith($"{from.Status.PodIP}:", await Probes.UdpAsync(netns, to.Status.PodIP, 8081, "clientip"));
            }
        }
    }

    [PrivilegedFact]
    public async Task PodToOutside_IsMasqueradedToItsNode_OutsideCannotReachPods()
    {
        var pod = await lab.RunPodAsync(LabFixture.ServerPod("egress", "n2"));
        using var outside = lab.HostNetns("out");
        await using var servers = new TestServerHost();
        servers.Add("outside", new TestServerSpec("outside", [8080], []), outside);
        using var netns = lab.PodNetns(pod);
        Assert.StartsWith("172.18.0.12:", Curl(netns, "http://172.18.0.1:8080/clientip"));
        var probe = await outside.Run(() => ConnectProbe.RunAsync(pod.Status.PodIP, 8080, ProtocolType.Tcp, TimeSpan.FromSeconds(1)));
        Assert.NotEqual(ConnectOutcome.Connected, probe.Outcome);
    }

    [PrivilegedFact]
    public async Task PodWithACommand_GetsItsDnsSettingsHostnameAndServiceAccount()
    {
        var pod = await lab.RunPodAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "shell", NamespaceProperty = "default" },
            Spec = new V1PodSpec
            {
                NodeName = "n1",
                Hostname = "custom-host",
                Containers =
                [
                    new V1Container
                    {
                        Name = "sh",
                        Image = "busybox",
                        Command = ["/bin/sh", "-c", "cat /etc/resolv.conf; echo host=$(hostname); cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo; echo env=$MY_POD_NAME; exec sleep 3600"],
                        Env = [new V1EnvVar { Name = "MY_POD_NAME", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.name" } } }],
                    },
                ],
            },
        });
        string text = "";
        for (var i = 0; i < 50 && !text.Contains("env="); i++)
        {
            await Task.Delay(100);
            text = lab.Run("logs", "--lab", lab.Name, pod.Metadata.Name).StandardOutput;
        }
        Assert.Contains("nameserver 10.96.0.10", text);
        Assert.Contains("search default.svc.cluster.local svc.cluster.local cluster.local", text);
        Assert.Contains("options ndots:5", text);
        Assert.Contains("host=custom-host", text);
        Assert.Contains("\ndefault\n", text);
        Assert.Contains("env=shell", text);
    }

    [PrivilegedFact]
    public async Task ReadinessProbe_DecidesReady_AndDeletionTakesThePodApart()
    {
        var failing = LabFixture.ServerPod("unready", "n3");
        failing.Spec.Containers[0].ReadinessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/missing", Port = 8080 }, PeriodSeconds = 1, FailureThreshold = 1 };
        await lab.Client.CoreV1.CreateNamespacedPodAsync(failing, "default");
        var running = await lab.WaitForPodAsync("default", "unready", p => p.Status?.Phase == "Running");
        await Task.Delay(3000);
        running = await lab.Client.CoreV1.ReadNamespacedPodAsync("unready", "default");
        Assert.Equal("False", running.Status.Conditions.Single(c => c.Type == "Ready").Status);

        var ready = LabFixture.ServerPod("ready", "n3");
        ready.Spec.Containers[0].ReadinessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/hostname", Port = 8080 }, PeriodSeconds = 1 };
        var pod = await lab.RunPodAsync(ready);
        using (var netns = lab.PodNetns(pod))
        {
            Assert.NotNull(netns);
        }

        await lab.Client.CoreV1.DeleteNamespacedPodAsync("ready", "default");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((await lab.Client.CoreV1.ListNamespacedPodAsync("default", fieldSelector: "metadata.name=ready")).Items.Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }
        Assert.Empty((await lab.Client.CoreV1.ListNamespacedPodAsync("default", fieldSelector: "metadata.name=ready")).Items);
        Assert.DoesNotContain(Netns.List(), n => n.StartsWith($"pn-{lab.Name}-n3-p", StringComparison.Ordinal) && Tools.Ip(Netns.Open(n), "-4", "addr").ToString().Contains(pod.Status.PodIP));
    }

    [PrivilegedFact]
    public async Task AgentKilledWithSigkill_EstablishedConnectionSurvives_WhileTheSupervisorRestartsIt()
    {
        var server = await lab.RunPodAsync(LabFixture.ServerPod("steady-server", "n2"));
        var client = await lab.RunPodAsync(LabFixture.ServerPod("steady-client", "n1"));
        using var netns = lab.PodNetns(client);
        using var socket = netns.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        await socket.ConnectAsync(IPAddress.Parse(server.Status.PodIP), 8080);
        using var stream = new NetworkStream(socket);
        async Task<string> AskAsync()
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /hostname HTTP/1.1\r\nHost: x\r\n\r\n"));
            var buffer = new byte[1024];
            var text = "";
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            // Headers and body may come in separate segments: read until the whole body is in.
            while (!text.EndsWith("steady-server", StringComparison.Ordinal))
            {
                var n = await stream.ReadAsync(buffer, timeout.Token);
                if (n == 0)
                {
                    break;
                }
                text += Encoding.ASCII.GetString(buffer, 0, n);
            }
            return text;
        }
        Assert.EndsWith("steady-server", await AskAsync());

        var pidFile = Path.Combine("/var/lib/podnet/labs", lab.Name, "pids", "agent-n2.pid");
        var agent = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        ProcessSignals.Kill(agent, ProcessSignals.SigKill);
        var restarted = agent;
        for (var i = 0; i < 100 && restarted == agent; i++)
        {
            await Task.Delay(100);
            restarted = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        Assert.NotEqual(agent, restarted);
        Assert.EndsWith("steady-server", await AskAsync());
        await Task.Delay(3000); // the restarted agent adopts its pods without touching their network
        Assert.EndsWith("steady-server", await AskAsync());
        Assert.Equal("Running", (await lab.Client.CoreV1.ReadNamespacedPodAsync("steady-server", "default")).Status.Phase);
    }

    [PrivilegedFact]
    public async Task ExecAndLogs_RunInsideThePod_OnTheOutsideHost_AndOnANode()
    {
        var pod = await lab.RunPodAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "talker", NamespaceProperty = "default" },
            Spec = new V1PodSpec
            {
                NodeName = "n2",
                Containers = [new V1Container { Name = "main", Image = "busybox", Command = ["/bin/sh", "-c", "echo hello from $GREETING; exec sleep 3600"], Env = [new V1EnvVar { Name = "GREETING", Value = "talker" }] }],
            },
        });
        var hostname = lab.Run("exec", "--lab", lab.Name, "talker", "--", "hostname");
        Assert.Equal(0, hostname.ExitCode);
        Assert.Equal("talker", hostname.StandardOutput.Trim());
        Assert.Contains(pod.Status.PodIP, lab.Run("exec", "--lab", lab.Name, "talker", "--", "ip", "-4", "-o", "addr", "show", "eth0").StandardOutput);
        Assert.Equal("talker", lab.Run("exec", "--lab", lab.Name, "talker", "--", "sh", "-c", "echo $GREETING").StandardOutput.Trim());
        Assert.Equal(7, lab.Run("exec", "--lab", lab.Name, "talker", "--", "sh", "-c", "exit 7").ExitCode);
        Assert.Contains("172.18.0.1/24", lab.Run("exec", "--lab", lab.Name, "--outside", "--", "ip", "-4", "-o", "addr").StandardOutput);
        Assert.Contains("172.18.0.13/24", lab.Run("exec", "--lab", lab.Name, "--node", "n3", "--", "ip", "-4", "-o", "addr").StandardOutput);
        var missing = lab.Run("exec", "--lab", lab.Name, "nope", "--", "true");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("pods \"nope\" not found", missing.StandardError);

        var logs = "";
        for (var i = 0; i < 50 && !logs.Contains("hello"); i++)
        {
            await Task.Delay(100);
            logs = lab.Run("logs", "--lab", lab.Name, "talker").StandardOutput;
        }
        Assert.Equal("hello from talker\n", logs);
    }

    [PrivilegedFact]
    public async Task LinkDownAndNodeStop_CutTheNodeOff_AndItComesBack()
    {
        var server = await lab.RunPodAsync(LabFixture.ServerPod("far", "n3"));
        using var n1 = lab.HostNetns("n1");
        async Task<ConnectOutcome> Reach() => (await n1.Run(() => ConnectProbe.RunAsync(server.Status.PodIP, 8080, ProtocolType.Tcp, TimeSpan.FromSeconds(1)))).Outcome;
        Assert.Equal(ConnectOutcome.Connected, await Reach());

        Assert.Equal(0, lab.Run("lab", "link", "down", "n3", "--name", lab.Name).ExitCode);
        Assert.NotEqual(ConnectOutcome.Connected, await Reach());
        Assert.Equal(0, lab.Run("lab", "link", "up", "n3", "--name", lab.Name).ExitCode);
        Assert.Equal(ConnectOutcome.Connected, await Reach());

        var pidFile = Path.Combine("/var/lib/podnet/labs", lab.Name, "pids", "agent-n3.pid");
        var agent = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(0, lab.Run("lab", "node", "stop", "n3", "--name", lab.Name).ExitCode);
        await Task.Delay(1500);
        Assert.False(ProcessSignals.IsAlive(agent));
        Assert.Equal(agent.ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllText(pidFile).Trim()); // held: not restarted
        Assert.NotEqual(ConnectOutcome.Connected, await Reach());

        Assert.Equal(0, lab.Run("lab", "node", "start", "n3", "--name", lab.Name).ExitCode);
        var restarted = agent;
        for (var i = 0; i < 50 && restarted == agent; i++)
        {
            await Task.Delay(100);
            restarted = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        Assert.NotEqual(agent, restarted);
        Assert.Equal(ConnectOutcome.Connected, await Reach());
        Assert.Equal(1, lab.Run("lab", "node", "stop", "n9", "--name", lab.Name).ExitCode);
    }

    [PrivilegedFact]
    public async Task Get_PrintsWhatKubectlPrints_ForTheSameObjects()
    {
        await lab.RunPodAsync(LabFixture.ServerPod("listed", "n1"));
        var kubeconfig = (string)lab.Status["kubeconfig"]!;
        string Kubectl(params string[] args) => Tools.Run(null, "kubectl", ["--kubeconfig", kubeconfig, .. args]).StandardOutput;
        string Podnet(params string[] args) => lab.Run(["get", "--lab", lab.Name, .. args]).StandardOutput;
        // Ages differ between the two calls, and so may their widths ("9s" then "10s"), which moves
        // the columns after them: compare the cells, not the padding.
        static string NoAge(string table) => string.Join('\n', table.Split('\n').Select(l =>
            System.Text.RegularExpressions.Regex.Replace(System.Text.RegularExpressions.Regex.Replace(l, @"\b\d+(s|m|h|d)(\d+(s|m))?\b", "AGE"), " {2,}", "  ")));

        foreach (var args in new[] { new[] { "nodes" }, ["nodes", "-o", "wide"], ["pods", "listed", "-o", "wide"], ["svc"], ["pods", "-A", "-l", "app=listed"], ["endpointslices", "-n", "default"] })
        {
            Assert.Equal(NoAge(Kubectl(["get", .. args])), NoAge(Podnet(args)));
        }
        Assert.Equal(Kubectl("get", "pod", "listed", "-o", "name"), Podnet("pod", "listed", "-o", "name"));
        var json = System.Text.Json.Nodes.JsonNode.Parse(Podnet("pods", "-l", "app=listed", "-o", "json"))!;
        Assert.Equal("List", (string)json["kind"]!);
        Assert.Equal("listed", (string)json["items"]![0]!["metadata"]!["name"]!);
        Assert.Contains("name: listed", Podnet("pod", "listed", "-o", "yaml"));
        var missing = lab.Run("get", "--lab", lab.Name, "pod", "nope");
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal("Error from server (NotFound): pods \"nope\" not found", missing.StandardError.Trim());
    }

    [PrivilegedFact]
    public async Task ApplyScaleDelete_PrintKubectlsLines_AndDoWhatTheySay()
    {
        string Manifest(int replicas) => $$$"""
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: applied
              labels: {tier: demo}
            spec:
              replicas: {{{replicas}}}
              selector: {matchLabels: {app: applied}}
              template:
                metadata: {labels: {app: applied}}
                spec:
                  containers:
                  - name: main
                    image: registry.k8s.io/e2e-test-images/agnhost:2.53
                    args: ["pause"]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: applied}
            spec:
              selector: {app: applied}
              ports: [{port: 80, targetPort: 8080}]
            """;
        var dir = Directory.CreateTempSubdirectory("podnet-apply-").FullName;
        var file = Path.Combine(dir, "app.yaml");
        try
        {
            await File.WriteAllTextAsync(file, Manifest(2));
            Assert.Equal("deployment.apps/applied created\nservice/applied created\n", lab.Run("apply", "--lab", lab.Name, "-f", file).StandardOutput);
            Assert.Equal("deployment.apps/applied unchanged\nservice/applied unchanged\n", lab.Run("apply", "--lab", lab.Name, "-f", file).StandardOutput);
            await File.WriteAllTextAsync(file, Manifest(3).Replace("labels: {tier: demo}", "labels: {tier: demo2}"));
            Assert.Equal("deployment.apps/applied configured\nservice/applied unchanged\n", lab.Run("apply", "--lab", lab.Name, "-f", dir).StandardOutput);
            var deployment = await lab.Client.AppsV1.ReadNamespacedDeploymentAsync("applied", "default");
            Assert.Equal(3, deployment.Spec.Replicas);
            Assert.Equal("demo2", deployment.Metadata.Labels["tier"]);

            Assert.Equal("deployment.apps/applied scaled\n", lab.Run("scale", "--lab", lab.Name, "deployment/applied", "--replicas", "1").StandardOutput);
            Assert.Equal(1, (await lab.Client.AppsV1.ReadNamespacedDeploymentAsync("applied", "default")).Spec.Replicas);

            var deleted = lab.Run("delete", "--lab", lab.Name, "-f", file);
            Assert.Equal("deployment.apps \"applied\" deleted\nservice \"applied\" deleted\n", deleted.StandardOutput);
            Assert.Empty((await lab.Client.AppsV1.ListNamespacedDeploymentAsync("default", fieldSelector: "metadata.name=applied")).Items);
            var again = lab.Run("delete", "--lab", lab.Name, "service", "applied");
            Assert.Equal(1, again.ExitCode);
            Assert.Contains("services \"applied\" not found", again.StandardError);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [PrivilegedFact]
    public async Task RestartPolicy_AlwaysRestartsACrashingContainer_NeverLetsAPodSucceed()
    {
        V1Pod Shell(string name, string script, string policy) => new()
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
            Spec = new V1PodSpec { NodeName = "n1", RestartPolicy = policy, Containers = [new V1Container { Name = "main", Image = "busybox", Command = ["/bin/sh", "-c", script] }] },
        };
        await lab.Client.CoreV1.CreateNamespacedPodAsync(Shell("crasher", "echo run; exit 3", "Always"), "default");
        await lab.Client.CoreV1.CreateNamespacedPodAsync(Shell("oneshot", "echo done", "Never"), "default");

        var succeeded = await lab.WaitForPodAsync("default", "oneshot", p => p.Status?.Phase == "Succeeded", TimeSpan.FromSeconds(30));
        Assert.Equal(0, succeeded.Status.ContainerStatuses[0].State.Terminated.ExitCode);
        Assert.Equal("Completed", succeeded.Status.ContainerStatuses[0].State.Terminated.Reason);

        // The kubelet's backoff: the first restart comes about 10 s after the exit.
        var restarted = await lab.WaitForPodAsync("default", "crasher", p => p.Status?.ContainerStatuses?[0].RestartCount >= 1, TimeSpan.FromSeconds(40));
        Assert.Equal("Running", restarted.Status.Phase);
        Assert.Equal(3, restarted.Status.ContainerStatuses[0].LastState.Terminated.ExitCode);
        // One log per container instance: the current one's line, and the one before the restart.
        var logs = "";
        for (var i = 0; i < 50 && logs != "run\n"; i++)
        {
            await Task.Delay(100);
            logs = lab.Run("logs", "--lab", lab.Name, "crasher").StandardOutput;
        }
        Assert.Equal("run\n", logs);
        Assert.Equal("run\n", lab.Run("logs", "--lab", lab.Name, "crasher", "--previous").StandardOutput);
    }

    [PrivilegedFact]
    public async Task GetWatch_PrintsARowForEveryChange()
    {
        var info = new System.Diagnostics.ProcessStartInfo(lab.Podnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "get", "--lab", lab.Name, "pods", "-l", "app=watched", "-w" })
        {
            info.ArgumentList.Add(argument);
        }
        using var watcher = System.Diagnostics.Process.Start(info)!;
        var output = new StringBuilder();
        var listed = new TaskCompletionSource();
        watcher.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        watcher.ErrorDataReceived += (_, e) => { if (e.Data?.StartsWith("No resources found", StringComparison.Ordinal) == true) listed.TrySetResult(); };
        watcher.BeginOutputReadLine();
        watcher.BeginErrorReadLine();
        try
        {
            // The empty list is printed before the watch starts from its resourceVersion: from
            // then on, no change to the pod can be missed, however slowly the process started.
            await listed.Task.WaitAsync(TimeSpan.FromSeconds(60));
            await lab.RunPodAsync(LabFixture.ServerPod("watched", "n1"));
            string Text() { lock (output) return output.ToString(); }
            for (var i = 0; i < 300 && !Text().Split('\n').Any(l => l.StartsWith("watched") && l.Contains("Running") && l.Contains("1/1")); i++)
            {
                await Task.Delay(100);
            }
            string[] Rows() => Text().Split('\n').Where(l => l.StartsWith("watched", StringComparison.Ordinal)).ToArray();
            // However late the watch started (a loaded machine), a change made after its first
            // row must print another row.
            var before = Rows().Length;
            Assert.True(before >= 1, Text());
            await lab.Client.CoreV1.PatchNamespacedPodAsync(new k8s.Models.V1Patch("{\"metadata\":{\"labels\":{\"touched\":\"yes\"}}}", k8s.Models.V1Patch.PatchType.MergePatch), "watched", "default");
            for (var i = 0; i < 100 && Rows().Length <= before; i++)
            {
                await Task.Delay(100);
            }
            var rows = Rows();
            Assert.True(rows.Length > before, Text());
            Assert.Contains(rows, r => r.Contains("Running") && r.Contains("1/1"));
            Assert.DoesNotContain("NAME", Text().Split('\n').Skip(1).FirstOrDefault() ?? "");
        }
        finally
        {
            watcher.Kill();
            await watcher.WaitForExitAsync();
        }
    }
}
