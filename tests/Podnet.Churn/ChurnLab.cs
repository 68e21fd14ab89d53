using System.Text.Json.Nodes;
using k8s;
using Podnet.Kernel;
using Podnet.Testing;

namespace Podnet.Churn;

/// <summary>
/// A 3-node lab for the churn run, brought up from a private copy of bin/ and always taken
/// down again, with what the faults need slotted in for this lab only.
/// </summary>
/// <remarks>
/// The agents run the CNI plugins from the directory of the `podnet` that runs the lab's
/// supervisor (`--cni-bin`), so the lab runs from a copy of bin/ (hard links) whose
/// <c>podnet-cni</c> is a wrapper: when a fault is armed (a file naming ADD or DEL) the next
/// such call runs the real plugin and SIGKILLs it after the armed delay; otherwise it execs the
/// real plugin. The plugin tells ADD from IPAM by argv[0], which the wrapper keeps.
/// The API server's state directory is moved onto a small tmpfs mounted at its own path (the
/// control plane held by the supervisor meanwhile), so that the suite can fill its disk; the
/// mount is undone before `lab down`, also when the run fails. Nothing is mounted or changed
/// anywhere else, and no network namespace but the lab's own is touched.
/// </remarks>
public sealed class ChurnLab : IDisposable
{
    public const string Namespace = "churn";
    private const long DiskBytes = 96L << 20;
    private readonly Action<string> _log;
    private bool _mounted;
    private bool _down;

    public ChurnLab(string name, string repoBin, Action<string> log)
    {
        Name = name;
        _log = log;
        Work = Path.Combine("/var/lib/podnet/churn", name);
        Bin = Path.Combine(Work, "bin");
        State = Path.Combine("/var/lib/podnet/labs", name);
        CopyBin(repoBin);
    }

    public string Name { get; }

    /// <summary>The run's own directory: the bin copy, the armed CNI faults, the filler file's place.</summary>
    public string Work { get; }

    public string Bin { get; }

    public string State { get; }

    public string ControlPlaneDirectory => Path.Combine(State, "cp");

    public string CniFaultDirectory => Path.Combine(Work, "cni-faults");

    public JsonNode Status { get; private set; } = null!;

    /// <summary>
    /// A client of the lab's API server. A restarted server listens on a new loopback port and
    /// rewrites the kubeconfig, so a changed file makes a new client.
    /// </summary>
    public Kubernetes Client
    {
        get
        {
            var path = (string)Status["kubeconfig"]!;
            var written = File.GetLastWriteTimeUtc(path);
            if (_client is null || written != _clientFrom)
            {
                var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(path);
                config.HttpClientTimeout = TimeSpan.FromSeconds(20); // a write into a killed server must not hold a cycle for 100 s
                _client?.Dispose();
                _client = new Kubernetes(config);
                _clientFrom = written;
            }
            return _client;
        }
    }

    private Kubernetes? _client;
    private DateTime _clientFrom;

    public IReadOnlyList<string> Nodes => Status["nodes"]!.AsArray().Select(n => (string)n!["name"]!).ToArray();

    public ProcessResult Podnet(params string[] arguments) =>
        ProcessRunner.Run(null, Path.Combine(Bin, "podnet"), arguments, timeout: TimeSpan.FromMinutes(4));

    public void Up()
    {
        var up = Podnet("lab", "up", "--name", Name, "--nodes", "3", "--node-grace", "10s");
        if (!up.Success)
        {
            throw new InvalidOperationException($"lab up failed: {up.StandardError}");
        }
        Status = JsonNode.Parse(Podnet("lab", "status", "--name", Name, "-o", "json").StandardOutput)!;
        MoveControlPlaneOntoTmpfs();
    }

    /// <summary>The pid the supervisor recorded for a process (control-plane, agent-n1, …), when alive.</summary>
    public int? Pid(string process)
    {
        var path = Path.Combine(State, "pids", process + ".pid");
        return File.Exists(path) && int.TryParse(File.ReadAllText(path).Trim(), out var pid) && ProcessSignals.IsAlive(pid) ? pid : null;
    }

    /// <summary>The SQLite file of the API server (the largest *.db in its state directory).</summary>
    public string Database => Directory.GetFiles(ControlPlaneDirectory, "*.db", SearchOption.AllDirectories).OrderByDescending(f => new FileInfo(f).Length).First();

    /// <summary>
    /// SQLite's integrity_check of the API server's database, with the server stopped (SIGTERM,
    /// held by the supervisor meanwhile): it keeps the file in exclusive locking mode while it
    /// runs. The server is started again before this returns.
    /// </summary>
    public string CheckDatabase()
    {
        var hold = Path.Combine(State, "held", "control-plane");
        File.WriteAllText(hold, "churn: integrity_check\n");
        string result;
        try
        {
            if (Pid("control-plane") is { } pid)
            {
                ProcessSignals.Kill(pid, ProcessSignals.SigTerm);
                WaitUntil(() => !ProcessSignals.IsAlive(pid), TimeSpan.FromSeconds(30), "the API server did not stop");
            }
            var check = ProcessRunner.Run(null, "sqlite3", ["-readonly", Database, "PRAGMA integrity_check;"], timeout: TimeSpan.FromSeconds(60));
            result = (check.StandardOutput.Trim() + " " + check.StandardError.Trim()).Trim();
        }
        finally
        {
            File.Delete(hold);
        }
        WaitForReadyNodes("the API server did not come back after integrity_check");
        return result;
    }

    /// <summary>Fills the API server's disk (its tmpfs) to the last byte; <see cref="FreeDisk"/> gives the space back.</summary>
    public void FillDisk()
    {
        var filler = Path.Combine(ControlPlaneDirectory, "churn-filler");
        using var file = new FileStream(filler, FileMode.Create, FileAccess.Write);
        var chunk = new byte[1 << 20];
        try
        {
            while (true)
            {
                file.Write(chunk);
                file.Flush();
            }
        }
        catch (IOException)
        {
            // ENOSPC: full. Top up the last partial blocks too.
        }
        try
        {
            var small = new byte[4096];
            while (true)
            {
                file.Write(small);
                file.Flush();
            }
        }
        catch (IOException)
        {
        }
    }

    public void FreeDisk() => File.Delete(Path.Combine(ControlPlaneDirectory, "churn-filler"));

    private void CopyBin(string repoBin)
    {
        if (Directory.Exists(Work))
        {
            Directory.Delete(Work, recursive: true);
        }
        Directory.CreateDirectory(CniFaultDirectory);
        Run("cp", "-al", repoBin, Bin);
        var cni = Path.Combine(Bin, "podnet-cni");
        var real = Path.Combine(Bin, "podnet-cni.real");
        File.Move(cni, real);
        var ipam = Path.Combine(Bin, "podnet-ipam");
        File.Delete(ipam);
        File.CreateSymbolicLink(ipam, "podnet-cni.real");
        File.WriteAllText(cni, WrapperScript(real, CniFaultDirectory));
        Run("chmod", "0755", cni);
    }

    /// <summary>
    /// The podnet-cni wrapper: claims an armed fault for its CNI_COMMAND by renaming it (only one
    /// call takes it), runs the real plugin with its stdin, SIGKILLs it after the armed number of
    /// milliseconds, and says in the claimed file whether the kill landed before the plugin ended.
    /// The wait is bash's own `read -t` on a pipe nobody writes: no process to start between the
    /// plugin's start and the kill (a `sleep` took longer than the plugin on a loaded machine).
    /// </summary>
    public static string WrapperScript(string real, string faults) => $$"""
        #!/bin/bash
        armed="{{faults}}/${CNI_COMMAND:-none}"
        claim="$armed.$$"
        if [ -f "$armed" ] && mv "$armed" "$claim" 2>/dev/null; then
          delay=$(cat "$claim")
          seconds=$(awk -v ms="$delay" 'BEGIN { printf "%.3f", ms / 1000 }')
          exec 3<&0 4<> <(:)
          ( exec -a "$0" "{{real}}" "$@" <&3 ) &
          plugin=$!
          read -r -t "$seconds" -u 4 || true
          if kill -9 "$plugin" 2>/dev/null; then echo "killed after ${delay} ms" >"$claim.done"; else echo "ended before ${delay} ms" >"$claim.done"; fi
          wait "$plugin"
          exit $?
        fi
        exec -a "$0" "{{real}}" "$@"
        """.Replace("\r", "", StringComparison.Ordinal);

    private void MoveControlPlaneOntoTmpfs()
    {
        var hold = Path.Combine(State, "held", "control-plane");
        Directory.CreateDirectory(Path.GetDirectoryName(hold)!);
        File.WriteAllText(hold, "churn: moving the API server's state onto a tmpfs\n");
        try
        {
            if (Pid("control-plane") is { } pid)
            {
                ProcessSignals.Kill(pid, ProcessSignals.SigTerm);
                WaitUntil(() => !ProcessSignals.IsAlive(pid), TimeSpan.FromSeconds(30), "the API server did not stop");
            }
            var copy = Path.Combine(Work, "cp-before-tmpfs");
            Run("cp", "-a", ControlPlaneDirectory, copy);
            Run("mount", "-t", "tmpfs", "-o", $"size={DiskBytes},mode=0700", "podnet-churn", ControlPlaneDirectory);
            _mounted = true;
            Run("cp", "-a", copy + "/.", ControlPlaneDirectory);
            Directory.Delete(copy, recursive: true);
        }
        finally
        {
            File.Delete(hold);
        }
        WaitForReadyNodes("the API server did not come back on its tmpfs with three Ready nodes");
        _log($"API server state on a {DiskBytes >> 20} MiB tmpfs at {ControlPlaneDirectory}");
    }

    private void WaitForReadyNodes(string what)
    {
        // The restarted server listens on a new port and rewrites the kubeconfig: read it afresh each time.
        var log = Path.Combine(State, "logs", "control-plane.log");
        try
        {
            WaitUntil(() =>
            {
                try
                {
                    using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile((string)Status["kubeconfig"]!));
                    return client.CoreV1.ListNode().Items.Count(n => n.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true) == 3;
                }
                catch (Exception e) when (e is HttpRequestException or k8s.Autorest.HttpOperationException or TaskCanceledException or IOException or k8s.Exceptions.KubeConfigException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(120), what);
        }
        catch (TimeoutException e)
        {
            var tail = File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(15)) : "(no log)";
            throw new TimeoutException($"{e.Message}; its log ends:\n{tail}");
        }
    }

    public static void WaitUntil(Func<bool> condition, TimeSpan limit, string what)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(what);
            }
            Thread.Sleep(200);
        }
    }

    private static void Run(string file, params string[] arguments)
    {
        var result = ProcessRunner.Run(null, file, arguments, timeout: TimeSpan.FromMinutes(2));
        if (!result.Success)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)}: {result.StandardError}");
        }
    }

    /// <summary>Undoes the tmpfs (lazily: the API server still has the database open), takes the lab down, removes the bin copy.</summary>
    public void Dispose()
    {
        if (_down)
        {
            return;
        }
        _down = true;
        _client?.Dispose();
        if (_mounted)
        {
            var umount = ProcessRunner.Run(null, "umount", ["-l", ControlPlaneDirectory]);
            _log(umount.Success ? "tmpfs unmounted" : $"umount {ControlPlaneDirectory}: {umount.StandardError}");
        }
        var down = Podnet("lab", "down", "--name", Name);
        _log($"lab down: {down.StandardError.Trim()}");
        if (Directory.Exists(Work))
        {
            Directory.Delete(Work, recursive: true);
        }
    }
}
