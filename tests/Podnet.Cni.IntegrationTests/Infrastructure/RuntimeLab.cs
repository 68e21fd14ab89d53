using System.Diagnostics;
using Podnet.Kernel;

namespace Podnet.Cni.IntegrationTests.Infrastructure;

/// <summary>
/// What containerd's ctr and podman need to run a container here without touching the host:
/// a busybox rootfs (Debian's busybox-static), a node namespace entered with
/// <c>nsenter --net=</c> (<c>ip netns exec</c> remounts /sys and hides the cgroup mounts from
/// runc), and private state directories. Missing tools fail the test with the package to install.
/// </summary>
internal sealed class RuntimeLab : IDisposable
{
    private readonly NetnsScope _scope = new();
    private readonly List<Process> _daemons = [];

    public RuntimeLab()
    {
        Node = _scope.Create("rtnode");
        Directory.CreateDirectory(Dir);
        BuildRootfs();
    }

    public TestNamespace Node { get; }

    public string Dir { get; } = Path.Combine(Path.GetTempPath(), "pn-cni-rt-" + Guid.NewGuid().ToString("N")[..10]);

    public string Rootfs => Path.Combine(Dir, "rootfs");

    public string DataDir => Path.Combine(Dir, "ipam");

    public static void Require(string tool, string package)
    {
        if (!new[] { "/usr/bin", "/usr/sbin", "/bin", "/sbin" }.Any(d => File.Exists(Path.Combine(d, tool))))
        {
            throw new InvalidOperationException($"{tool} is not installed: apt-get install {package}");
        }
    }

    public string Conflist(string name, string bridge, string subnet) => $$$"""
        {"cniVersion":"1.0.0","name":"{{{name}}}","plugins":[{"type":"podnet-cni","bridge":"{{{bridge}}}","isGateway":true,"isDefaultGateway":true,
         "hairpinMode":true,"ipMasq":false,"ipam":{"type":"podnet-ipam","ranges":[[{"subnet":"{{{subnet}}}"}]],"dataDir":"{{{DataDir}}}"}}]}
        """;

    /// <summary>Runs a command in the node's network namespace (through nsenter, see the class remarks).</summary>
    public ProcessResult InNode(params string[] command) =>
        ProcessRunner.Run(null, "nsenter", [$"--net={Node.Netns.Path}", .. command], timeout: TimeSpan.FromMinutes(2));

    /// <summary>Starts a daemon in the node's network namespace; it is stopped (by its own pid) on dispose.</summary>
    public void StartDaemon(string logFile, params string[] command)
    {
        var info = new ProcessStartInfo("nsenter") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { $"--net={Node.Netns.Path}" }.Concat(command))
        {
            info.ArgumentList.Add(a);
        }
        var process = Process.Start(info)!;
        var log = new StreamWriter(logFile) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { lock (log) { if (e.Data is not null) log.WriteLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (log) { if (e.Data is not null) log.WriteLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _daemons.Add(process);
    }

    public string[] Reservations(string network) =>
        Directory.Exists(Path.Combine(DataDir, network))
            ? Directory.GetFiles(Path.Combine(DataDir, network)).Select(p => Path.GetFileName(p)).Where(n => System.Net.IPAddress.TryParse(n, out _)).ToArray()
            : [];

    private void BuildRootfs()
    {
        Require("busybox", "busybox-static");
        var bin = Path.Combine(Rootfs, "bin");
        Directory.CreateDirectory(bin);
        foreach (var d in new[] { "proc", "sys", "dev", "etc", "tmp" })
        {
            Directory.CreateDirectory(Path.Combine(Rootfs, d));
        }
        File.Copy("/bin/busybox", Path.Combine(bin, "busybox"));
        foreach (var applet in new[] { "sh", "ip", "ping", "sleep", "cat" })
        {
            File.CreateSymbolicLink(Path.Combine(bin, applet), "busybox");
        }
    }

    public void Dispose()
    {
        foreach (var daemon in _daemons)
        {
            try
            {
                daemon.Kill();
                daemon.WaitForExit(10_000);
            }
            catch (InvalidOperationException)
            {
            }
            daemon.Dispose();
        }
        _scope.Dispose();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
