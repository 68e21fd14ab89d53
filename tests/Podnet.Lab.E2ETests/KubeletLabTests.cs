using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using k8s;
using k8s.Models;
using Podnet.Kernel;

namespace Podnet.Lab.E2ETests;

/// <summary>
/// The kubelet API and the streaming verbs against a lab, with the real kubectl of each
/// WebSocket-speaking version (1.30+): exec (stdin, TTY, resize, exit codes, streaming), logs
/// (follow, tail, since, previous), attach, cp, nodes/proxy, and the kubelet refusing strangers.
/// </summary>
public sealed class KubeletLabTests(LabFixture lab) : IClassFixture<LabFixture>
{
    private const string KubectlDirectory = "/usr/lib/google-cloud-sdk/bin";

    private string Kubeconfig => (string)lab.Status["kubeconfig"]!;

    private static string KubectlOf(string version) => Path.Combine(KubectlDirectory, $"kubectl.{version}");

    private ProcessResult Kubectl(string version, params string[] args) =>
        ProcessRunner.Run(null, KubectlOf(version), ["--kubeconfig", Kubeconfig, .. args], timeout: TimeSpan.FromSeconds(60));

    private Process StartKubectl(string version, params string[] args)
    {
        var info = new ProcessStartInfo(KubectlOf(version)) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var arg in (string[])["--kubeconfig", Kubeconfig, .. args])
        {
            info.ArgumentList.Add(arg);
        }
        return Process.Start(info)!;
    }

    private static V1Pod Shell(string name, string script, string restartPolicy = "Always") => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Spec = new V1PodSpec
        {
            NodeName = "n1",
            RestartPolicy = restartPolicy,
            Containers = [new V1Container { Name = "main", Image = "busybox", Command = ["/bin/sh", "-c", script], Env = [new V1EnvVar { Name = "GREETING", Value = "hi from env" }], WorkingDir = "/run" }],
        },
    };

    /// <summary>Reads a process's stdout until <paramref name="expected"/> has appeared (or it ends).</summary>
    private static async Task<string> ReadUntilAsync(Process process, string expected, TimeSpan timeout)
    {
        var seen = new System.Text.StringBuilder();
        var buffer = new char[4096];
        using var cancel = new CancellationTokenSource(timeout);
        while (!seen.ToString().Contains(expected, StringComparison.Ordinal))
        {
            var n = await process.StandardOutput.ReadAsync(buffer, cancel.Token);
            if (n == 0)
            {
                break;
            }
            seen.Append(buffer, 0, n);
        }
        return seen.ToString();
    }

    [PrivilegedTheory]
    [InlineData("1.30")]
    [InlineData("1.33")]
    public async Task Exec_CarriesExitCodesStdinEnvironmentAndStreams(string version)
    {
        var pod = $"exec-{version.Replace(".", "")}";
        await lab.RunPodAsync(Shell(pod, "exec sleep 3600"));

        var exit = Kubectl(version, "exec", pod, "--", "sh", "-c", "echo out; echo err >&2; exit 3");
        Assert.Equal(3, exit.ExitCode);
        Assert.Equal("out\n", exit.StandardOutput);
        Assert.Contains("err", exit.StandardError);
        Assert.Equal(0, Kubectl(version, "exec", pod, "--", "true").ExitCode);

        var inside = Kubectl(version, "exec", pod, "--", "sh", "-c", "hostname; pwd; echo $GREETING; cat /etc/resolv.conf");
        Assert.True(inside.Success, inside.StandardError);
        Assert.StartsWith($"{pod}\n/run\nhi from env\n", inside.StandardOutput); // the pod's UTS namespace, the container's workingDir and env
        Assert.Contains("nameserver 10.96.0.10", inside.StandardOutput); // the pod's mount namespace

        using (var cat = StartKubectl(version, "exec", "-i", pod, "--", "sh", "-c", "tr a-z A-Z; echo done"))
        {
            await cat.StandardInput.WriteAsync("hello stdin\n");
            cat.StandardInput.Close(); // v5 tells the end of stdin: the command sees EOF and ends
            var output = await cat.StandardOutput.ReadToEndAsync();
            await cat.WaitForExitAsync();
            Assert.Equal("HELLO STDIN\ndone\n", output);
            Assert.Equal(0, cat.ExitCode);
        }

        using (var slow = StartKubectl(version, "exec", pod, "--", "sh", "-c", "echo first; sleep 3; echo second"))
        {
            var first = await ReadUntilAsync(slow, "first\n", TimeSpan.FromSeconds(20));
            Assert.Equal("first\n", first);
            Assert.False(slow.HasExited); // seen before the command ended: streamed, not buffered
            Assert.Equal("second\n", await slow.StandardOutput.ReadToEndAsync());
            await slow.WaitForExitAsync();
        }

        var missing = Kubectl(version, "exec", pod, "-c", "nope", "--", "true");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("container nope is not valid for pod " + pod, missing.StandardError);
    }

    [PrivilegedTheory]
    [InlineData("1.30")]
    [InlineData("1.33")]
    public async Task ExecWithATty_GetsATerminal_OfTheClientsSize(string version)
    {
        var pod = $"tty-{version.Replace(".", "")}";
        await lab.RunPodAsync(Shell(pod, "exec sleep 3600"));
        // kubectl uses a TTY only when its own stdin is a terminal: script(1) gives it one, of a known size.
        var command = $"stty cols 123 rows 45; {KubectlOf(version)} --kubeconfig {Kubeconfig} exec -it {pod} -- sh -c 'tty; stty size; exit 4'";
        var result = ProcessRunner.Run(null, "/usr/bin/script", ["-qec", command, "/dev/null"], timeout: TimeSpan.FromSeconds(60));
        Assert.Contains("/dev/pts/", result.StandardOutput);
        Assert.Contains("45 123", result.StandardOutput);
        Assert.Equal(4, result.ExitCode);
    }

    [PrivilegedFact]
    public async Task Logs_FollowTailSinceTimestampsAndPrevious_AsKubectlShowsThem()
    {
        await lab.RunPodAsync(Shell("talky", "for i in 1 2 3 4 5; do echo line $i; done; echo oops >&2; while true; do echo tick; sleep 0.3; done"));
        const string version = "1.33";
        var all = "";
        for (var i = 0; i < 100 && !all.Contains("tick"); i++)
        {
            all = Kubectl(version, "logs", "talky").StandardOutput;
        }
        // stdout in its order; stderr's line among them where the shim read it (two pipes, as in CRI: no order between them).
        var first = all.Split('\n')[..7];
        Assert.Equal(["line 1", "line 2", "line 3", "line 4", "line 5"], first.Where(l => l.StartsWith("line ", StringComparison.Ordinal)));
        Assert.Contains("oops", first);
        Assert.Contains("tick", first);
        Assert.Equal(all.Split('\n')[..7], lab.Run("logs", "--lab", lab.Name, "talky").StandardOutput.Split('\n')[..7]); // podnet logs: the same lines

        var tail = Kubectl(version, "logs", "talky", "--tail", "2").StandardOutput;
        Assert.Equal(["tick", "tick"], tail.TrimEnd('\n').Split('\n'));
        // Within the hour: the whole log, in the same order as without --since (stderr's line may come first).
        Assert.Equal(all.Split('\n')[..7], Kubectl(version, "logs", "talky", "--since", "1h").StandardOutput.Split('\n')[..7]);
        var stamped = Kubectl(version, "logs", "talky", "--timestamps", "--tail", "1").StandardOutput;
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z tick\n$", stamped);
        Assert.Equal(all[..3], Kubectl(version, "logs", "talky", "--limit-bytes", "3").StandardOutput);
        var invalid = Kubectl(version, "logs", "talky", "--tail", "-5", "--since", "1s", "--since-time", "2026-01-01T00:00:00Z");
        Assert.NotEqual(0, invalid.ExitCode);

        using (var follow = StartKubectl(version, "logs", "-f", "talky", "--tail", "0"))
        {
            var followed = await ReadUntilAsync(follow, "tick\ntick\n", TimeSpan.FromSeconds(20));
            Assert.Contains("tick\ntick\n", followed); // lines written after it started
            follow.Kill();
        }

        var previous = Kubectl(version, "logs", "talky", "--previous");
        Assert.NotEqual(0, previous.ExitCode);
        Assert.Contains("previous terminated container \"main\" in pod \"talky\" not found", previous.StandardError);
    }

    [PrivilegedFact]
    public async Task LogsPrevious_ShowsTheInstanceBeforeTheRestart()
    {
        await lab.Client.CoreV1.CreateNamespacedPodAsync(Shell("restarter", "echo run at $(date +%s%N); exit 3"), "default");
        // The kubelet's backoff: the first restart comes about 10 s after the exit.
        await lab.WaitForPodAsync("default", "restarter", p => p.Status?.ContainerStatuses?[0].RestartCount >= 1, TimeSpan.FromSeconds(40));
        string current = "", previous = "";
        for (var i = 0; i < 100 && !(current.StartsWith("run at") && previous.StartsWith("run at")); i++)
        {
            current = Kubectl("1.33", "logs", "restarter").StandardOutput;
            previous = Kubectl("1.33", "logs", "restarter", "-p").StandardOutput;
        }
        Assert.Matches(@"^run at \d+\n$", current);
        Assert.Matches(@"^run at \d+\n$", previous);
        Assert.NotEqual(current, previous); // one line per instance, each in its own log
        Assert.Equal(previous, lab.Run("logs", "--lab", lab.Name, "restarter", "--previous").StandardOutput);
    }

    [PrivilegedFact]
    public async Task Attach_StreamsWhatTheContainerWritesFromNowOn()
    {
        await lab.RunPodAsync(Shell("attached", "i=0; while true; do i=$((i+1)); echo beat $i; sleep 0.3; done"));
        using var attach = StartKubectl("1.33", "attach", "attached");
        var seen = await ReadUntilAsync(attach, "\nbeat", TimeSpan.FromSeconds(20));
        Assert.Contains("beat ", seen);
        Assert.False(attach.HasExited);
        attach.Kill();
    }

    [PrivilegedTheory]
    [InlineData("1.27")] // SPDY
    [InlineData("1.33")] // WebSocket v5
    public async Task AttachWithStdin_FeedsTheContainersStdin_AndStdinOnceClosesIt(string version)
    {
        var name = $"reader-{version.Replace(".", "")}";
        var pod = Shell(name, "while read line; do echo \"got $line\"; done; echo stdin closed; exit 7", restartPolicy: "Never");
        pod.Spec.Containers[0].Stdin = true;
        pod.Spec.Containers[0].StdinOnce = true;
        await lab.RunPodAsync(pod);
        using var attach = StartKubectl(version, "attach", "-i", name);
        await attach.StandardInput.WriteLineAsync("hello");
        await attach.StandardInput.FlushAsync();
        Assert.Contains("got hello", await ReadUntilAsync(attach, "got hello", TimeSpan.FromSeconds(30)));
        attach.StandardInput.Close(); // kubectl closes the stream's stdin; stdinOnce closes the container's
        Assert.Contains("stdin closed", await ReadUntilAsync(attach, "stdin closed", TimeSpan.FromSeconds(30)));
        await attach.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        var done = await lab.WaitForPodAsync("default", name, p => p.Status?.Phase == "Failed", TimeSpan.FromSeconds(30));
        Assert.Equal(7, done.Status.ContainerStatuses[0].State.Terminated.ExitCode);
        Assert.Equal("got hello\nstdin closed\n", Kubectl("1.33", "logs", name).StandardOutput);
    }

    [PrivilegedTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ShareProcessNamespace_DecidesWhatEachContainerSees(bool share)
    {
        var name = share ? "pids-shared" : "pids-own";
        var pod = Shell(name, "exec sleep 3601");
        pod.Spec.ShareProcessNamespace = share;
        pod.Spec.Containers.Add(new V1Container { Name = "second", Image = "busybox", Command = ["/bin/sh", "-c", "exec sleep 3602"] });
        await lab.RunPodAsync(pod);
        var main = Kubectl("1.33", "exec", name, "-c", "main", "--", "ps", "-e", "-o", "pid=,args=");
        Assert.True(main.Success, main.StandardError);
        if (share)
        {
            // one PID namespace for the pod: the holder (as the pause container) is PID 1, both commands are seen
            Assert.Contains("sleep 3601", main.StandardOutput);
            Assert.Contains("sleep 3602", main.StandardOutput);
            Assert.DoesNotMatch(@"(?m)^\s*1 sleep", main.StandardOutput);
        }
        else
        {
            // kubelet's default: each container's command is PID 1 of its own namespace, alone
            Assert.Matches(@"(?m)^\s*1 sleep 3601$", main.StandardOutput);
            Assert.DoesNotContain("sleep 3602", main.StandardOutput);
            var second = Kubectl("1.33", "exec", name, "-c", "second", "--", "cat", "/proc/1/cmdline");
            Assert.Equal("sleep\03602\0", second.StandardOutput);
        }
        var podnet = lab.Run("exec", "--lab", lab.Name, name, "-c", "second", "--", "ps", "-e", "-o", "args=");
        Assert.Equal(share, podnet.StandardOutput.Contains("sleep 3601"));
        Assert.Contains("sleep 3602", podnet.StandardOutput);
    }

    [PrivilegedFact]
    public async Task Cp_CopiesIntoAndOutOfAPod()
    {
        await lab.RunPodAsync(Shell("copier", "exec sleep 3600"));
        var dir = Directory.CreateTempSubdirectory("kubelet-cp-").FullName;
        try
        {
            var local = Path.Combine(dir, "in.txt");
            await File.WriteAllTextAsync(local, "copied in\n" + new string('z', 100_000));
            // /run is the pod's own tmpfs (its mount namespace), not the host's.
            var into = Kubectl("1.33", "cp", local, "copier:/run/copied.txt");
            Assert.True(into.Success, into.StandardError);
            Assert.StartsWith("copied in\n", Kubectl("1.33", "exec", "copier", "--", "head", "-c", "10", "/run/copied.txt").StandardOutput);
            Assert.False(File.Exists("/run/copied.txt"));
            Assert.Equal(0, Kubectl("1.33", "exec", "copier", "--", "sh", "-c", "echo from the pod > /run/out.txt").ExitCode);
            var back = Path.Combine(dir, "out.txt");
            var outOf = Kubectl("1.33", "cp", "copier:/run/out.txt", back);
            Assert.True(outOf.Success, outOf.StandardError);
            Assert.Equal("from the pod\n", await File.ReadAllTextAsync(back));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [PrivilegedFact]
    public async Task NodeProxy_ReachesTheKubelet_AndTheNodePublishesItsPort()
    {
        var healthz = Kubectl("1.33", "get", "--raw", "/api/v1/nodes/n1/proxy/healthz");
        Assert.True(healthz.Success, healthz.StandardError);
        Assert.Equal("ok", healthz.StandardOutput.Trim());
        var pods = Kubectl("1.33", "get", "--raw", "/api/v1/nodes/n2/proxy/pods");
        Assert.Contains("\"kind\":\"PodList\"", pods.StandardOutput);
        var node = await lab.Client.CoreV1.ReadNodeAsync("n1");
        Assert.Equal(10250, node.Status.DaemonEndpoints.KubeletEndpoint.Port);
    }

    /// <summary>
    /// The kubelet's port-forward, as the API server's backend uses it (no client transport
    /// serves pods/portforward yet): a WebSocket from the control plane with the API server's
    /// client certificate, an HTTP request through it to the pod's port 8080, the answer back.
    /// </summary>
    [PrivilegedFact]
    public async Task KubeletPortForward_CarriesAConnectionToThePodsPort()
    {
        var pod = await lab.RunPodAsync(LabFixture.ServerPod("forwarded", "n2"));
        using var cp = lab.HostNetns("cp");
        var pki = Path.Combine("/var/lib/podnet/labs", lab.Name, "cp", "pki");
        using var client = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(pki, "kubelet-client.crt")), File.ReadAllText(Path.Combine(pki, "kubelet-client.key")));
        using var handler = new System.Net.Http.SocketsHttpHandler
        {
            SslOptions = new System.Net.Security.SslClientAuthenticationOptions
            {
                ClientCertificates = [client],
                LocalCertificateSelectionCallback = (_, _, _, _, _) => client,
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            },
            ConnectCallback = async (context, token) =>
            {
                var socket = cp.Run(() => new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp));
                await socket.ConnectAsync(System.Net.IPAddress.Parse(context.DnsEndPoint.Host), context.DnsEndPoint.Port, token);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        };
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        socket.Options.AddSubProtocol("portforward.k8s.io");
        using var invoker = new System.Net.Http.HttpMessageInvoker(handler);
        await socket.ConnectAsync(new Uri($"wss://172.18.0.12:10250/portForward/default/{pod.Metadata.Name}?ports=8080"), invoker, default);
        var request = System.Text.Encoding.ASCII.GetBytes("GET /hostname HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        await socket.SendAsync((byte[])[0, .. request], System.Net.WebSockets.WebSocketMessageType.Binary, true, default);
        var seen = new Dictionary<byte, List<byte>> { [0] = [], [1] = [] };
        var headers = new HashSet<byte>();
        var buffer = new byte[65536];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            if (result.MessageType == System.Net.WebSockets.WebSocketMessageType.Close)
            {
                break;
            }
            var data = buffer[1..result.Count];
            if (headers.Add(buffer[0]))
            {
                Assert.Equal(8080, BitConverter.ToUInt16(data, 0)); // each channel opens with its port, little-endian
                data = data[2..];
            }
            seen[buffer[0]].AddRange(data);
        }
        var answer = System.Text.Encoding.ASCII.GetString(seen[0].ToArray());
        Assert.StartsWith("HTTP/1.1 200", answer);
        Assert.EndsWith("forwarded", answer);
        Assert.Empty(seen[1]);
    }

    [PrivilegedFact]
    public void KubeletApi_RefusesCallersWithoutTheApiServersCertificate()
    {
        using var cp = lab.HostNetns("cp");
        var ca = Path.Combine("/var/lib/podnet/labs", lab.Name, "cp", "pki", "ca.crt");
        // No client certificate: 401. The serving certificate is the lab CA's, for the node's address.
        var anonymous = Tools.Run(cp, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", ca, "https://172.18.0.11:10250/healthz");
        Assert.Equal("401", anonymous.StandardOutput);
        // A certificate with the right name but not from the lab CA: refused (at the handshake or 403).
        var dir = Directory.CreateTempSubdirectory("kubelet-stranger-").FullName;
        try
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=kube-apiserver-kubelet-client", key, HashAlgorithmName.SHA256);
            using var self = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            File.WriteAllText(Path.Combine(dir, "c.crt"), self.ExportCertificatePem());
            File.WriteAllText(Path.Combine(dir, "c.key"), key.ExportPkcs8PrivateKeyPem());
            var stranger = Tools.Run(cp, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", ca, "--cert", Path.Combine(dir, "c.crt"), "--key", Path.Combine(dir, "c.key"), "https://172.18.0.11:10250/healthz");
            Assert.Equal("403", stranger.StandardOutput);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
