using System.Diagnostics;
using k8s;

namespace Podnet.Bench.ApiServer;

/// <summary>`podnet server` as a process of its own, so that its memory is its own.</summary>
internal sealed class ServerUnderTest : IDisposable
{
    private readonly Process _process;
    private readonly string _state;

    private ServerUnderTest(Process process, string state)
    {
        _process = process;
        _state = state;
    }

    public static ServerUnderTest Start(string state, string controllers, string? binary = null, string authorization = "RBAC")
    {
        // The build users run (bin/podnet, made by ./podnet, whose `server` becomes the NativeAOT
        // bin/podnet-apiserver with the same pid), not a copy beside this benchmark.
        var info = new ProcessStartInfo(binary ?? PodnetBinary()) { UseShellExecute = false, RedirectStandardError = true };
        foreach (var argument in new[] { "server", "--state", state, "--port", "0", "--controllers", controllers, "--authorization-mode", authorization })
        {
            info.ArgumentList.Add(argument);
        }
        var server = new ServerUnderTest(Process.Start(info)!, state);
        server._process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!File.Exists(Path.Combine(state, "kubeconfig")))
        {
            if (server._process.HasExited || DateTime.UtcNow > deadline)
            {
                server.Dispose();
                throw new InvalidOperationException("podnet server did not start");
            }
            Thread.Sleep(50);
        }
        return server;
    }

    private static string PodnetBinary()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "podnet")) && File.Exists(Path.Combine(dir.FullName, "bin", "podnet")))
            {
                return Path.Combine(dir.FullName, "bin", "podnet");
            }
        }
        throw new InvalidOperationException("bin/podnet not found: build it with ./podnet build");
    }

    /// <summary>A lean client with <paramref name="token"/>, else the server's legacy token (system:masters).</summary>
    public LeanClient Lean(string? token = null)
    {
        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(Path.Combine(_state, "kubeconfig"));
        return new LeanClient(new Uri(config.Host), File.ReadAllText(Path.Combine(_state, "pki", "ca.crt")), token ?? File.ReadAllText(Path.Combine(_state, "pki", "token")).Trim());
    }

    public Kubernetes Client() => new(KubernetesClientConfiguration.BuildConfigFromConfigFile(Path.Combine(_state, "kubeconfig")));

    /// <summary>
    /// Resident set size now and at its peak (VmRSS, VmHWM), and the anonymous part of it
    /// (RssAnon: the process's own; the rest is file pages of the runtime and assemblies, which
    /// every .NET process on the machine shares), in bytes.
    /// </summary>
    public (long Rss, long Peak, long Anon) Memory()
    {
        long Field(string name) => File.ReadLines($"/proc/{_process.Id}/status").Where(l => l.StartsWith(name, StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024).First();
        return (Field("VmRSS:"), Field("VmHWM:"), Field("RssAnon:"));
    }

    /// <summary>CPU seconds (user + system) the server has used.</summary>
    public double CpuSeconds()
    {
        var fields = File.ReadAllText($"/proc/{_process.Id}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture)) / 100.0;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
        _process.Dispose();
    }
}
