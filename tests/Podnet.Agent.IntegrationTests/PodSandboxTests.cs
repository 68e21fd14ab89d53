using Podnet.Agent.Runtime;
using Podnet.Core.Net;
using Podnet.Kernel;

namespace Podnet.Agent.IntegrationTests;

public sealed class PodSandboxTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("podnet-sandbox-").FullName;
    private readonly NetnsScope _scope = new();

    public void Dispose()
    {
        _scope.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private TestNamespace? _node;

    private PodSandbox NewPod(out TestNamespace pod)
    {
        var node = _node = _scope.Create("node");
        pod = _scope.Create("pod");
        node.Rt.CreateVeth("vpod", "eth0", pod.Netns);
        node.Rt.AddAddress("vpod", AddressPrefix.Parse("10.244.1.1/24"));
        node.Rt.SetUp("vpod");
        pod.Rt.AddAddress("eth0", AddressPrefix.Parse("10.244.1.5/24"));
        pod.Rt.SetUp("eth0");
        return PodSandbox.Create(new PodSandboxSpec(
            pod.Name, "web-1", Path.Combine(_dir, "pod"),
            "nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n",
            PodHosts.Build("web-1", null, "default", "cluster.local", ["10.244.1.5"], []),
            new Dictionary<string, string> { ["namespace"] = "default", ["token"] = "secret-token" },
            Path.Combine(_dir, "shared")));
    }

    private static int WaitForExit(ContainerProcess container)
    {
        for (var i = 0; i < 200 && container.ExitCode is null; i++)
        {
            Thread.Sleep(25);
        }
        return container.ExitCode ?? throw new TimeoutException($"container {container.Name} did not exit");
    }

    /// <summary>What a container wrote, as kubectl logs shows it (the shim's CRI lines, without timestamps).</summary>
    private static string LogText(string path) =>
        string.Concat(ContainerLogReader.ReadAll(path).Select(l => System.Text.Encoding.UTF8.GetString(LogSelection.Render(l, false))));

    [PrivilegedFact]
    public void Container_SeesItsPodsFilesHostnameNetworkAndEnv_HostSeesNoneOfIt()
    {
        var hostResolv = File.ReadAllText("/etc/resolv.conf");
        var hostName = File.ReadAllText("/proc/sys/kernel/hostname");
        var sandbox = NewPod(out _);
        try
        {
            var container = sandbox.Start("main",
                ["/bin/sh", "-c", "cat /etc/resolv.conf; hostname; cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo; echo $GREETING $HOSTNAME; grep web-1 /etc/hosts; ip -o -4 addr show eth0; ip -o -4 addr show lo; touch /var/run/secrets/kubernetes.io/serviceaccount/x || echo account-read-only"],
                [new("GREETING", "hello")]);
            Assert.Equal(0, WaitForExit(container));
            var log = LogText(container.LogPath);
            Assert.Contains("nameserver 10.96.0.10", log);
            Assert.Contains("options ndots:5", log);
            Assert.Contains("\nweb-1\n", log);
            Assert.Contains("\ndefault\n", log);
            Assert.Contains("hello web-1", log);
            Assert.Contains("10.244.1.5\tweb-1", log);
            Assert.Contains("inet 10.244.1.5/24", log);
            Assert.Contains("inet 127.0.0.1/8", log); // the agent brought lo up (its address appears only then)
            Assert.Contains("account-read-only", log);
        }
        finally
        {
            sandbox.Destroy();
        }
        Assert.Equal(hostResolv, File.ReadAllText("/etc/resolv.conf"));
        Assert.Equal(hostName, File.ReadAllText("/proc/sys/kernel/hostname"));
        Assert.False(Directory.Exists("/run/secrets/kubernetes.io/serviceaccount") && File.Exists("/run/secrets/kubernetes.io/serviceaccount/token")
            && File.ReadAllText("/run/secrets/kubernetes.io/serviceaccount/token") == "secret-token");
    }

    [PrivilegedFact]
    public void Container_ExitStatus_AndSigtermEndsALongRunningOne()
    {
        var sandbox = NewPod(out _);
        try
        {
            Assert.Equal(3, WaitForExit(sandbox.Start("fails", ["/bin/sh", "-c", "echo failing >&2; exit 3"], [])));
            var lines = ContainerLogReader.ReadAll(PodSandbox.LogPathOf(sandbox.LogDirectory, "fails", 0)).ToList();
            Assert.Equal((LogStream.Stderr, "failing"), (lines.Single().Stream, System.Text.Encoding.UTF8.GetString(lines.Single().Content)));

            var sleeper = sandbox.Start("sleeper", ["sleep", "300"], []);
            Thread.Sleep(200);
            Assert.Null(sleeper.ExitCode);
            sleeper.Signal(ProcessSignals.SigTerm);
            Assert.Equal(143, WaitForExit(sleeper));
        }
        finally
        {
            sandbox.Destroy();
        }
        for (var i = 0; i < 100 && sandbox.IsAlive; i++)
        {
            Thread.Sleep(20);
        }
        Assert.False(sandbox.IsAlive);
    }

    [PrivilegedFact]
    public async Task Probes_TcpHttpExec_SucceedAndFailLikeTheKubelets()
    {
        var sandbox = NewPod(out var pod);
        try
        {
            await using var servers = new Podnet.Agent.TestServer.TestServerHost();
            servers.Add("p", new Podnet.Agent.TestServer.TestServerSpec("web-1", [8080], []), pod.Netns);
            var node = _node!.Netns;
            var probes = new Probes(family => node.Run(() => new System.Net.Sockets.Socket(family, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp)));
            var ip = System.Net.IPAddress.Parse("10.244.1.5");
            var second = TimeSpan.FromSeconds(2);
            Assert.True(await probes.RunAsync(new ProbeAction.TcpSocket(8080), ip, sandbox, second));
            Assert.False(await probes.RunAsync(new ProbeAction.TcpSocket(8081), ip, sandbox, second));
            Assert.True(await probes.RunAsync(new ProbeAction.HttpGet(8080, "/hostname", "HTTP", []), ip, sandbox, second));
            Assert.False(await probes.RunAsync(new ProbeAction.HttpGet(8080, "/missing", "HTTP", []), ip, sandbox, second));
            Assert.True(await probes.RunAsync(new ProbeAction.Exec(["sh", "-c", "test \"$(hostname)\" = web-1"]), ip, sandbox, second));
            Assert.False(await probes.RunAsync(new ProbeAction.Exec(["false"]), ip, sandbox, second));
            Assert.False(await probes.RunAsync(new ProbeAction.Exec(["sleep", "5"]), ip, sandbox, TimeSpan.FromMilliseconds(300)));
        }
        finally
        {
            sandbox.Destroy();
        }
    }
}
