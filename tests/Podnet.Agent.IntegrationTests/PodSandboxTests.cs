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
    internal static string LogText(string path) =>
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
            await using var servers = new Podnet.TestServer.TestServerHost();
            servers.Add("p", new Podnet.TestServer.TestServerSpec("web-1", [8080], []), pod.Netns);
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

public sealed class PodSandboxNamespacesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("podnet-volumes-sandbox-").FullName;
    private readonly NetnsScope _scope = new();

    public void Dispose()
    {
        _scope.Dispose();
        // The shims of a destroyed pod still write their containers' exit files: wait for them to end.
        for (var i = 0; i < 400 && ShimsOfThisTest().Any(); i++)
        {
            Thread.Sleep(25);
        }
        Directory.Delete(_dir, recursive: true);
    }

    private IEnumerable<int> ShimsOfThisTest() =>
        Directory.EnumerateDirectories("/proc").Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0).Where(pid =>
        {
            try
            {
                return pid > 0 && File.ReadAllText($"/proc/{pid}/cmdline").Contains(_dir, StringComparison.Ordinal);
            }
            catch (IOException)
            {
                return false;
            }
        });

    private PodSandbox NewPod(IReadOnlyList<Podnet.Agent.Runtime.Volumes.SandboxMount> mounts)
    {
        var pod = _scope.Create("pod");
        return PodSandbox.Create(new PodSandboxSpec(
            pod.Name, "vol-1", Path.Combine(_dir, "pod"), "nameserver 10.96.0.10\n",
            PodHosts.Build("vol-1", null, "default", "cluster.local", ["10.244.1.5"], []),
            new Dictionary<string, string> { ["namespace"] = "default" }, Path.Combine(_dir, "shared"))
        {
            Mounts = mounts,
        });
    }

    /// <summary>Runs a command through <see cref="PodSandbox.EnterArgv"/> into <paramref name="target"/>'s namespaces.</summary>
    private static (int Code, string Output) Entered(int target, IReadOnlyList<string> command)
    {
        var argv = PodSandbox.EnterArgv(target, command);
        var info = new System.Diagnostics.ProcessStartInfo(argv[0]) { RedirectStandardOutput = true };
        foreach (var a in argv.Skip(1))
        {
            info.ArgumentList.Add(a);
        }
        using var exec = System.Diagnostics.Process.Start(info)!;
        var output = exec.StandardOutput.ReadToEnd();
        exec.WaitForExit();
        return (exec.ExitCode, output);
    }

    private static string RunToEnd(PodSandbox sandbox, string name, string script, bool ownPidNamespace = false)
    {
        var container = sandbox.Start(name, ["/bin/sh", "-c", script], [], ownPidNamespace: ownPidNamespace);
        for (var i = 0; i < 400 && container.ExitCode is null; i++)
        {
            Thread.Sleep(25);
        }
        Assert.True(container.ExitCode is not null, $"container {name} did not exit: {PodSandboxTests.LogText(container.LogPath)}");
        return PodSandboxTests.LogText(container.LogPath);
    }

    [PrivilegedFact]
    public void ContainersWithoutSharedProcessNamespace_EachSeeOnlyTheirOwn_AndExecLandsInTheContainers()
    {
        var sandbox = NewPod([]);
        try
        {
            var sleeper = sandbox.Start("sleeper", ["sleep", "301"], [], ownPidNamespace: true);
            var other = sandbox.Start("other", ["/bin/sh", "-c", "trap 'exit 143' TERM; sleep 302 & wait"], [], ownPidNamespace: true);
            var ps = RunToEnd(sandbox, "ps", "ps -e -o pid=,args=", ownPidNamespace: true);
            Assert.DoesNotContain("sleep 301", ps); // a container of its own does not see another's
            Assert.DoesNotContain("sleep 302", ps);

            // exec into the container lands in its PID namespace, where its command is PID 1
            static string Exec(int target, params string[] command) => Entered(target, command).Output;
            var target = 0;
            for (var i = 0; i < 400 && (target = sandbox.TargetOf(sleeper.Pid)) == sandbox.HolderPid; i++)
            {
                Thread.Sleep(25); // unshare has not started the command yet
            }
            Assert.NotEqual(sandbox.HolderPid, target);
            var inside = Exec(target, "ps", "-e", "-o", "pid=,args=");
            Assert.Matches(@"^\s*1 sleep 301\n", inside);
            Assert.DoesNotContain("sleep 302", inside);
            Assert.NotEqual(Exec(sandbox.HolderPid, "readlink", "/proc/self/ns/pid"), Exec(target, "readlink", "/proc/self/ns/pid"));
            Assert.Equal(sandbox.HolderPid, sandbox.TargetOf(0));

            // SIGTERM reaches the command through nsenter and unshare (a PID 1 gets only the
            // signals it handles, as in any container runtime: this one traps TERM).
            other.Signal(ProcessSignals.SigTerm);
            for (var i = 0; i < 400 && other.ExitCode is null; i++)
            {
                Thread.Sleep(25);
            }
            Assert.Equal(143, other.ExitCode);
        }
        finally
        {
            sandbox.Destroy();
        }
    }

    [PrivilegedFact]
    public void Ps_InAPod_ListsOnlyThePodsProcesses_AndExecLandsInTheSamePidAndIpcNamespaces()
    {
        var sandbox = NewPod([]);
        try
        {
            var sleeper = sandbox.Start("sleeper", ["sleep", "300"], []);
            // The container starts detached (shim, nsenter, then sleep): look until it runs.
            var ps = "";
            for (var i = 0; i < 100 && !ps.Contains(" sleep\n", StringComparison.Ordinal); i++)
            {
                ps = RunToEnd(sandbox, $"ps{i}", "ps -e -o pid=,comm=; readlink /proc/self/ns/pid /proc/self/ns/ipc");
                if (!ps.Contains(" sleep\n", StringComparison.Ordinal))
                {
                    Thread.Sleep(100);
                }
            }
            var lines = ps.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var processes = lines.Where(l => !l.StartsWith("pid:", StringComparison.Ordinal) && !l.StartsWith("ipc:", StringComparison.Ordinal)).Select(l => l.Trim()).ToArray();
            Assert.Contains(processes, p => p.StartsWith("1 ", StringComparison.Ordinal)); // the holder is PID 1
            Assert.Contains(processes, p => p.EndsWith(" sleep", StringComparison.Ordinal));
            Assert.Contains(processes, p => p.EndsWith(" ps", StringComparison.Ordinal));
            Assert.DoesNotContain(processes, p => p.EndsWith(" dotnet", StringComparison.Ordinal) || p.EndsWith(" testhost", StringComparison.Ordinal));
            Assert.True(processes.Length < 10, ps);
            var hostPid = File.ReadAllText("/proc/self/stat").Length > 0 ? new FileInfo("/proc/self/ns/pid").LinkTarget : null;
            var podPid = lines.Single(l => l.StartsWith("pid:", StringComparison.Ordinal));
            Assert.NotEqual(hostPid, podPid);
            Assert.NotEqual(new FileInfo("/proc/self/ns/ipc").LinkTarget, lines.Single(l => l.StartsWith("ipc:", StringComparison.Ordinal)));

            // exec (the one function into a pod) lands in the containers' namespaces
            var (code, output) = Entered(sandbox.HolderPid, ["readlink", "/proc/self/ns/pid", "/proc/self/ns/ipc"]);
            Assert.Equal(0, code);
            Assert.Contains(podPid, output);

            sleeper.Signal(ProcessSignals.SigTerm);
            for (var i = 0; i < 200 && sleeper.ExitCode is null; i++)
            {
                Thread.Sleep(25);
            }
            Assert.Equal(143, sleeper.ExitCode); // SIGTERM reached the command through nsenter
        }
        finally
        {
            sandbox.Destroy();
        }
    }

    [PrivilegedFact]
    public void Volumes_EmptyDirSharedBetweenContainers_MemoryIsTmpfs_ReadOnlyRefused_ConfigMapSwapSeenInPlace()
    {
        var shared = Path.Combine(_dir, "pod", "volumes", "empty");
        var memory = Path.Combine(_dir, "pod", "volumes", "mem");
        var config = Path.Combine(_dir, "pod", "volumes", "config");
        Directory.CreateDirectory(shared);
        Directory.CreateDirectory(memory);
        Podnet.Agent.Runtime.Volumes.AtomicWriter.Write(config, new Dictionary<string, Podnet.Agent.Runtime.Volumes.VolumeFile>
        {
            ["greeting"] = new("hello"u8.ToArray(), 0x1A4),
        }, DateTime.UtcNow);
        var target = "/run/podnet-test-volumes";
        var sandbox = NewPod([
            new Podnet.Agent.Runtime.Volumes.SandboxMount.Tmpfs(memory, 1 << 20),
            new Podnet.Agent.Runtime.Volumes.SandboxMount.Bind(shared, target + "/shared", false, false),
            new Podnet.Agent.Runtime.Volumes.SandboxMount.Bind(memory, target + "/memory", false, false),
            new Podnet.Agent.Runtime.Volumes.SandboxMount.Bind(config, target + "/config", true, false),
            new Podnet.Agent.Runtime.Volumes.SandboxMount.Bind(Path.Combine(memory, "sub"), target + "/sub", false, false, CreateSource: true),
        ]);
        try
        {
            RunToEnd(sandbox, "writer", $"echo from-writer > {target}/shared/note; echo in-memory > {target}/memory/m; echo sub > {target}/sub/s");
            var reader = RunToEnd(sandbox, "reader",
                $"cat {target}/shared/note {target}/memory/m {target}/memory/sub/s; stat -f -c %T {target}/memory; cat {target}/config/greeting; echo; touch {target}/config/x || echo config-read-only");
            Assert.Contains("from-writer\nin-memory\nsub\ntmpfs\nhello\n", reader);
            Assert.Contains("config-read-only", reader);
            Assert.Equal("from-writer\n", File.ReadAllText(Path.Combine(shared, "note"))); // emptyDir on disk: the node's directory
            Assert.False(File.Exists(Path.Combine(memory, "m"))); // Memory: only inside the pod

            Podnet.Agent.Runtime.Volumes.AtomicWriter.Write(config, new Dictionary<string, Podnet.Agent.Runtime.Volumes.VolumeFile>
            {
                ["greeting"] = new("bonjour"u8.ToArray(), 0x1A4),
            }, DateTime.UtcNow);
            Assert.Equal("bonjour\n", RunToEnd(sandbox, "reader2", $"cat {target}/config/greeting")); // the log ends the last line, as kubectl logs shows it
        }
        finally
        {
            sandbox.Destroy();
        }
        Assert.False(Directory.Exists(target) && Directory.Exists(target + "/shared") && File.Exists(target + "/shared/note"));
    }
}
