using System.Text;
using Podnet.Kernel;

namespace Podnet.Agent.Runtime;

/// <summary>A container's stdin: none (closed), open for attach for the container's life, or closed after the first attach (stdinOnce).</summary>
public enum ContainerStdin
{
    None,
    Open,
    Once,
}

/// <summary>What a pod sandbox is made of, beyond its network namespace.</summary>
/// <param name="Directory">The pod's own directory: its resolv.conf, hosts, service-account files and logs.</param>
/// <param name="ServiceAccountFiles">token, ca.crt, namespace (empty: none mounted).</param>
/// <param name="SharedDirectory">
/// Where pods with the same service-account files share one read-only copy of them (the node's
/// pods of one namespace have the same ones); null: each pod gets its own in its directory.
/// </param>
public sealed record PodSandboxSpec(
    string Netns,
    string Hostname,
    string Directory,
    string ResolvConf,
    string Hosts,
    IReadOnlyDictionary<string, string> ServiceAccountFiles,
    string? SharedDirectory = null)
{
    /// <summary>The pod's volumes mounted into its mount namespace, in order (see <see cref="Volumes.VolumePlanner"/>).</summary>
    public IReadOnlyList<Volumes.SandboxMount> Mounts { get; init; } = [];
}

/// <summary>
/// A pod's mount, UTS, IPC and PID namespaces, held by a "holder" process that is PID 1 of the
/// pod's PID namespace and lives in the pod's network namespace, like the pause container:
/// podnet-holder (Native/podnet-holder.c, a static binary of a few hundred KB resident; unshare,
/// sh and sleep held 5.3 MiB a pod), which runs the sandbox's setup script (sh) and then stays.
/// Containers (and exec, and exec probes) join all five through <see cref="EnterArgv"/>, so each
/// sees its pod's /etc/resolv.conf, /etc/hosts, hostname, volumes,
/// /var/run/secrets/kubernetes.io/serviceaccount and a /proc that lists only the pod's
/// processes, while running the host's filesystem.
/// </summary>
/// <remarks>
/// Every process here starts in a session of its own (setsid) and writes to files, never to
/// pipes held by the agent, so pods outlive an agent that crashes. The holder's mount
/// namespace is a slave of the host's: host mounts propagate in, nothing propagates out. It
/// mounts a tmpfs over /run inside the pod (so the service-account directory is made there,
/// never on the host's filesystem) and binds the pod's files over /etc/resolv.conf and
/// /etc/hosts. Each file made and each command the holder runs is a measurable part of a pod's
/// start (ext4 inode allocation was a tenth of an agent's CPU, the holder's mount commands as
/// much again), so the service-account files are shared by content and the loopback link is
/// brought up by the agent over netlink rather than by running ip.
///
/// PID namespaces as kubelet gives them: one per pod, with the holder as its PID 1 (which
/// reaps orphans, as the pause container does). With shareProcessNamespace the containers run
/// in it and see each other's processes; without (the default), each container's command gets
/// a PID namespace of its own, nested in the pod's, where it is PID 1 and sees only its own
/// processes (unshare --pid --mount-proc: a mount namespace of its own too, a copy of the pod's
/// with its own /proc). Exec enters the container's namespaces (<see cref="TargetOf"/>). The holder's PID
/// (<see cref="HolderPid"/>) is the pod's PID 1 as the node sees it; killing it ends every
/// process of the pod at once, those in the containers' nested namespaces included.
/// </remarks>
public sealed class PodSandbox
{
    private PodSandbox(PodSandboxSpec spec, int holderPid)
    {
        Spec = spec;
        HolderPid = holderPid;
    }

    public PodSandboxSpec Spec { get; }

    public int HolderPid { get; }

    public string LogDirectory => Path.Combine(Spec.Directory, "logs");

    /// <summary>Writes the pod's files and starts the holder in the pod's (existing) network namespace.</summary>
    public static PodSandbox Create(PodSandboxSpec spec)
    {
        Directory.CreateDirectory(spec.Directory);
        Directory.CreateDirectory(Path.Combine(spec.Directory, "logs"));
        File.WriteAllText(Path.Combine(spec.Directory, "resolv.conf"), spec.ResolvConf);
        File.WriteAllText(Path.Combine(spec.Directory, "hosts"), spec.Hosts);
        var account = EnsureAccountFiles(spec);
        var script = HolderScript(spec, account);
        using var netns = Netns.Open(spec.Netns);
        using var holder = netns.Run(() =>
        {
            try
            {
                using var rt = Kernel.Netlink.RtNetlink.OpenInCurrentNamespace();
                rt.SetUp("lo");
            }
            catch (KernelException)
            {
                // as `ip link set lo up || true` did: a pod without loopback still runs
            }
            return ProcessSignals.StartDetached(null, HolderPath, ["--", "/bin/sh", "-c", script]);
        });
        var ready = Path.Combine(spec.Directory, "ready");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!File.Exists(ready))
        {
            if (holder.HasExited)
            {
                throw new InvalidOperationException($"the pod's holder process exited ({holder.ExitCode}) before it was ready: {ReadLog(spec)}");
            }
            if (DateTime.UtcNow > deadline)
            {
                holder.Kill();
                throw new TimeoutException($"the pod's holder process was not ready within 10s: {ReadLog(spec)}");
            }
            Thread.Sleep(5);
        }
        return new PodSandbox(spec, InnerPid(holder.Id));
    }

    /// <summary>
    /// The argv that runs <paramref name="command"/> inside the pod of holder
    /// <paramref name="holderPid"/>: its network, mount, UTS, IPC and PID namespaces, in
    /// <paramref name="workingDirectory"/> when given. The one way into a pod: containers, exec
    /// probes, <c>podnet exec</c> and the kubelet API's exec all start their processes with it,
    /// so they all land in the same namespaces. The process is a child of nsenter, which waits
    /// for it and exits with its status (or dies of its signal).
    /// </summary>
    public static IReadOnlyList<string> EnterArgv(int holderPid, IReadOnlyList<string> command, string? workingDirectory = null)
    {
        var argv = new List<string>(command.Count + 10)
        {
            "/usr/bin/nsenter", "--target", holderPid.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--mount", "--uts", "--ipc", "--net", "--pid",
        };
        if (workingDirectory is { Length: > 0 })
        {
            argv.Add("--wd=" + workingDirectory);
        }
        argv.Add("--");
        argv.AddRange(command);
        return argv;
    }

    /// <summary>podnet-holder's child: PID 1 of the pod's PID namespace.</summary>
    private static int InnerPid(int holderPid)
    {
        var children = File.ReadAllText($"/proc/{holderPid}/task/{holderPid}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return children.Length == 1 ? int.Parse(children[0], System.Globalization.CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"the pod's holder (podnet-holder {holderPid}) has {children.Length} children, expected 1");
    }

    /// <summary>Re-attaches to a sandbox whose holder is still running (after an agent restart).</summary>
    public static PodSandbox Adopt(PodSandboxSpec spec, int holderPid) => new(spec, holderPid);

    public bool IsAlive => ProcessSignals.IsAlive(HolderPid);

    /// <summary>Where the pod's holder (podnet-holder, Native/podnet-holder.c) is: beside the running program, as the build puts it.</summary>
    public static string HolderPath { get; set; } = Path.Combine(AppContext.BaseDirectory, "podnet-holder");

    /// <summary>Where a container's shim (podnet-shim) is: beside the running program, as ./podnet build puts it.</summary>
    public static string ShimPath { get; set; } = Path.Combine(AppContext.BaseDirectory, "podnet-shim");

    /// <summary>logs/NAME/RESTART.log: one CRI-format log per container instance (rotated beside itself).</summary>
    public static string LogPathOf(string logDirectory, string name, int restart) =>
        Path.Combine(logDirectory, name, $"{restart.ToString(System.Globalization.CultureInfo.InvariantCulture)}.log");

    /// <summary>
    /// The command line that runs <paramref name="command"/> inside this pod — its namespaces,
    /// as every process of the pod sees them — in <paramref name="workingDirectory"/>:
    /// <see cref="EnterArgv"/> for this sandbox's holder.
    /// </summary>
    public IReadOnlyList<string> EnterCommand(IReadOnlyList<string> command, string? workingDirectory) =>
        EnterArgv(HolderPid, command, workingDirectory);

    /// <summary>The programs between a container's shim and its command (<see cref="EnterArgv"/>, <see cref="Start"/>); podnet-shim knows them too.</summary>
    private static readonly HashSet<string> Launchers = ["podnet-shim", "nsenter", "unshare"];

    /// <summary>
    /// The process whose namespaces an exec into a container enters: the command of the
    /// container whose shim is <paramref name="shimPid"/> (so a container with a PID namespace of
    /// its own is entered there), or the holder <paramref name="holderPid"/> when the container
    /// has no running command. A command found is taken only when it is in the holder's network
    /// namespace: a recorded shim pid the kernel has since given to another process leads elsewhere.
    /// </summary>
    public static int ExecTarget(int holderPid, int shimPid)
    {
        if (shimPid <= 0 || ProcessSignals.Innermost(shimPid, Launchers) is not { } command)
        {
            return holderPid;
        }
        static string? NetOf(int pid)
        {
            try
            {
                return new FileInfo($"/proc/{pid}/ns/net").LinkTarget;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null;
            }
        }
        return NetOf(command) is { } net && net == NetOf(holderPid) ? command : holderPid;
    }

    /// <summary><see cref="ExecTarget"/> for this sandbox's holder.</summary>
    public int TargetOf(int shimPid) => ExecTarget(HolderPid, shimPid);

    /// <summary>The environment a process of the pod gets: PATH and HOSTNAME, then the container's.</summary>
    public IReadOnlyDictionary<string, string> EnvironmentOf(IEnumerable<KeyValuePair<string, string>> environment)
    {
        var env = new Dictionary<string, string>
        {
            ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            ["HOSTNAME"] = Spec.Hostname,
        };
        foreach (var (key, value) in environment)
        {
            env[key] = value;
        }
        return env;
    }

    /// <summary>logs/NAME.stdin: the named pipe a container with stdin reads from (through its shim), which attach writes into.</summary>
    public static string StdinPathOf(string logDirectory, string name) => Path.Combine(logDirectory, $"{name}.stdin");

    /// <summary>
    /// Starts a container's command inside the pod, detached, under podnet-shim: its output goes
    /// to logs/NAME/RESTART.log (CRI format, rotated), its exit status to logs/NAME.exit when it
    /// ends; its stdin, when the container asks for one, comes from <see cref="StdinPathOf"/>.
    /// </summary>
    public ContainerProcess Start(string name, IReadOnlyList<string> command, IEnumerable<KeyValuePair<string, string>> environment, string? workingDirectory = null, int restart = 0, ContainerStdin stdin = ContainerStdin.None, bool ownPidNamespace = false)
    {
        if (command.Count == 0)
        {
            throw new ArgumentException($"container {name} has no command");
        }
        var log = LogPathOf(LogDirectory, name, restart);
        var exit = Path.Combine(LogDirectory, $"{name}.exit");
        File.Delete(exit);
        Directory.CreateDirectory(Path.GetDirectoryName(log)!);
        // The previous instance's log stays for --previous; older ones go, as kubelet keeps them.
        foreach (var old in Directory.EnumerateFiles(Path.GetDirectoryName(log)!))
        {
            var instance = Path.GetFileName(old).Split('.')[0];
            if (int.TryParse(instance, out var n) && n < restart - 1)
            {
                File.Delete(old);
            }
        }
        List<string> shim = ["--log", log, "--exit", exit];
        if (stdin != ContainerStdin.None)
        {
            var fifo = StdinPathOf(LogDirectory, name);
            Fifo.Create(fifo);
            shim.AddRange(stdin == ContainerStdin.Once ? ["--stdin", fifo, "--stdin-once"] : ["--stdin", fifo]);
        }
        IReadOnlyList<string> run = ownPidNamespace ? ["/usr/bin/unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "--", .. command] : command;
        using var process = ProcessSignals.StartDetached(null, ShimPath, [.. shim, "--", .. EnterCommand(run, workingDirectory)], EnvironmentOf(environment));
        return new ContainerProcess(name, process.Id, log, exit);
    }

    /// <summary>Stops the holder, which ends every process of the pod and releases its namespaces.</summary>
    public void Destroy()
    {
        ProcessSignals.Kill(HolderPid, ProcessSignals.SigKill);
    }

    /// <summary>
    /// Writes the service-account files once per distinct content under the shared directory
    /// (made complete in a temporary directory, then renamed into place), or into the pod's own
    /// directory without one; returns the directory to mount.
    /// </summary>
    private static string EnsureAccountFiles(PodSandboxSpec spec)
    {
        if (spec.SharedDirectory is null)
        {
            var own = Path.Combine(spec.Directory, "serviceaccount");
            WriteAccountFiles(own, spec.ServiceAccountFiles);
            return own;
        }
        var content = string.Concat(spec.ServiceAccountFiles.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key}\0{f.Value}\0"));
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(content)))[..16];
        var shared = Path.Combine(spec.SharedDirectory, "serviceaccount-" + hash);
        if (!Directory.Exists(shared))
        {
            var temporary = $"{shared}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp";
            WriteAccountFiles(temporary, spec.ServiceAccountFiles);
            try
            {
                Directory.Move(temporary, shared);
            }
            catch (IOException) when (Directory.Exists(shared))
            {
                Directory.Delete(temporary, recursive: true); // another start made it meanwhile
            }
        }
        return shared;
    }

    private static void WriteAccountFiles(string directory, IReadOnlyDictionary<string, string> files)
    {
        Directory.CreateDirectory(directory);
        foreach (var (name, content) in files)
        {
            File.WriteAllText(Path.Combine(directory, name), content);
        }
    }

    private static string HolderScript(PodSandboxSpec spec, string account)
    {
        var script = new StringBuilder();
        script.Append("set -e; ");
        script.Append("mount -t tmpfs -o mode=755 tmpfs /run; ");
        script.Append("mkdir -p /run/secrets/kubernetes.io/serviceaccount; ");
        script.Append($"mount -o bind,ro {Quote(account)} /run/secrets/kubernetes.io/serviceaccount; ");
        script.Append($"mount --bind {Quote(Path.Combine(spec.Directory, "resolv.conf"))} /etc/resolv.conf; ");
        script.Append($"mount --bind {Quote(Path.Combine(spec.Directory, "hosts"))} /etc/hosts; ");
        foreach (var mount in spec.Mounts)
        {
            script.Append(Volumes.SandboxMount.Script(mount));
        }
        script.Append($"hostname {Quote(spec.Hostname)}; ");
        script.Append($": > {Quote(Path.Combine(spec.Directory, "ready"))}; ");
        // Then the script ends; podnet-holder stays as PID 1 of the pod, reaping its orphans.
        return script.ToString();
    }

    private static string ReadLog(PodSandboxSpec spec) => Directory.Exists(spec.Directory) ? "see " + spec.Directory : "";

    /// <summary>Single-quotes <paramref name="text"/> for sh.</summary>
    internal static string Quote(string text) => "'" + text.Replace("'", "'\\''") + "'";
}

/// <summary>A started container: its shim's pid (the process group's leader) and its files.</summary>
public sealed record ContainerProcess(string Name, int Pid, string LogPath, string ExitPath)
{
    /// <summary>The exit status once the command has ended, else null.</summary>
    public int? ExitCode => File.Exists(ExitPath) && int.TryParse(File.ReadAllText(ExitPath).Trim(), out var code) ? code : null;

    /// <summary>
    /// Sends <paramref name="signal"/> to the container's command (through its shim, which
    /// forwards it); SIGKILL goes to every process of the container at once.
    /// </summary>
    public void Signal(int signal)
    {
        if (signal == ProcessSignals.SigKill)
        {
            ProcessSignals.KillGroup(Pid, signal);
        }
        else
        {
            // A shim that has just started may not handle the signal yet, and would die of it
            // without passing it on or writing the exit status: its handlers exist once it has
            // started its command, so wait (briefly) for that.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(2);
            while (!ProcessSignals.HasChildren(Pid) && ProcessSignals.IsAlive(Pid) && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(5);
            }
            ProcessSignals.Kill(Pid, signal);
        }
    }
}
