using System.Diagnostics;
using k8s;

namespace Podnet.ApiServer.Tests.Server;

/// <summary>
/// `podnet server` as its own process (bin/podnet, which runs bin/podnet-apiserver in its
/// place, as the lab does), on 127.0.0.1 (or <c>bind</c>) with a free port (or <c>port</c>).
/// Disposing kills it if it still runs, so a failing test leaves no server behind.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _stderr = new();

    private ServerProcess(Process process, string state)
    {
        _process = process;
        State = state;
    }

    public string State { get; }

    public string Kubeconfig => Path.Combine(State, "kubeconfig");

    public int Pid => _process.Id;

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <param name="flags">More flags for the server (--request-timeout 1s, say).</param>
    public static ServerProcess Start(string state, int port = 0, string controllers = "all", params string[] flags) =>
        StartBound(state, port, controllers, "127.0.0.1", flags);

    public static ServerProcess StartOn(string state, int port, string bind) => StartBound(state, port, "all", bind, []);

    private static ServerProcess StartBound(string state, int port, string controllers, string bind, string[] flags)
    {
        File.Delete(Path.Combine(state, "kubeconfig"));
        var info = new ProcessStartInfo(Podnet.Testing.RepoPaths.Bin("podnet")) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { "server", "--state", state, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", bind, "--controllers", controllers }.Concat(flags))
        {
            info.ArgumentList.Add(argument);
        }
        var server = new ServerProcess(Process.Start(info)!, state);
        server._process.ErrorDataReceived += (_, e) =>
        {
            lock (server._stderr)
            {
                server._stderr.AppendLine(e.Data);
            }
        };
        server._process.BeginErrorReadLine();
        server._process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!File.Exists(server.Kubeconfig))
        {
            if (server._process.HasExited || DateTime.UtcNow > deadline)
            {
                server.Dispose();
                throw new InvalidOperationException($"podnet server did not write its kubeconfig: {server.Stderr}");
            }
            Thread.Sleep(50);
        }
        return server;
    }

    public Kubernetes Client() => new(KubernetesClientConfiguration.BuildConfigFromConfigFile(Kubeconfig));

    public bool HasExited => _process.HasExited;

    /// <summary>Raw HTTPS to the server, trusting its CA, with its token.</summary>
    public HttpClient Http()
    {
        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(Kubeconfig);
        var pki = Path.Combine(State, "pki");
        return ServerFixture.CreateHttpClient(new Uri(config.Host.TrimEnd('/') + "/"), File.ReadAllText(Path.Combine(pki, "ca.crt")), File.ReadAllText(Path.Combine(pki, "token")).Trim());
    }

    /// <summary>The most memory the process has had resident (VmHWM), in bytes.</summary>
    public long PeakResidentBytes()
    {
        var line = File.ReadLines($"/proc/{Pid}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    public void KillHard()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    /// <summary>Sends SIGTERM and waits for the exit code.</summary>
    public int Terminate(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
        }
        if (!_process.WaitForExit(timeout))
        {
            throw new TimeoutException("podnet server did not stop on SIGTERM");
        }
        _process.WaitForExit();
        return _process.ExitCode;
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
