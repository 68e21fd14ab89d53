using Podnet.Kernel;
using Podnet.Lab.Supervision;

namespace Podnet.Lab.IntegrationTests;

public sealed class SupervisorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("podnet-supervisor-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static int WaitForPid(string dir, string name, int notThis = 0)
    {
        for (var i = 0; i < 200; i++)
        {
            if (Supervisor.ReadPid(dir, name) is { } pid && pid != notThis)
            {
                return pid;
            }
            Thread.Sleep(25);
        }
        throw new TimeoutException($"{name} did not (re)start");
    }

    [PrivilegedFact]
    public async Task KeepsProcessesRunningInTheirNamespaces_RestartsTheDead_StopsAllOnCancel()
    {
        using var scope = new NetnsScope();
        var ns = scope.Create("sup");
        using var stop = new CancellationTokenSource();
        var lines = new List<string>();
        var supervisor = new Supervisor(_dir) { Log = line => { lock (lines) lines.Add(line); } };
        var run = supervisor.RunAsync(
        [
            new SupervisedProcess("inside", ns.Name, "/bin/sh", ["-c", "readlink /proc/self/ns/net; echo to-stderr >&2; exec sleep 300"]),
            new SupervisedProcess("outside", null, "/bin/sleep", ["300"]),
        ], stop.Token);

        var inside = WaitForPid(_dir, "inside");
        var outside = WaitForPid(_dir, "outside");
        var expected = new FileInfo(ns.Netns.Path).Exists ? Tools.Run(ns.Netns, "readlink", "/proc/self/ns/net").StandardOutput.Trim() : "";
        for (var i = 0; i < 100 && !File.ReadAllText(Path.Combine(supervisor.LogDirectory, "inside.log")).Contains("to-stderr"); i++)
        {
            Thread.Sleep(20);
        }
        var log = File.ReadAllText(Path.Combine(supervisor.LogDirectory, "inside.log"));
        Assert.Contains(expected, log);
        Assert.Contains("to-stderr", log);

        ProcessSignals.Kill(inside, ProcessSignals.SigKill);
        var restarted = WaitForPid(_dir, "inside", notThis: inside);
        Assert.NotEqual(inside, restarted);
        Assert.Equal(outside, Supervisor.ReadPid(_dir, "outside"));

        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.False(ProcessSignals.IsAlive(restarted));
        Assert.False(ProcessSignals.IsAlive(outside));
        Assert.Null(Supervisor.ReadPid(_dir, "inside"));
        lock (lines)
        {
            Assert.Contains(lines, l => l.StartsWith("inside: exited", StringComparison.Ordinal));
        }
    }

    [PrivilegedFact]
    public async Task SupervisedProcesses_RunWithoutTieredCompilation_UnlessTheCallerSetIt()
    {
        using var stop = new CancellationTokenSource();
        var supervisor = new Supervisor(_dir);
        var run = supervisor.RunAsync([new SupervisedProcess("env", null, "/bin/sh", ["-c", "echo \"tiered=$DOTNET_TieredCompilation.\"; exec sleep 300"])], stop.Token);
        WaitForPid(_dir, "env");
        var path = Path.Combine(supervisor.LogDirectory, "env.log");
        for (var i = 0; i < 100 && !File.ReadAllText(path).Contains("tiered="); i++)
        {
            Thread.Sleep(20);
        }
        var expected = Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") ?? "0";
        Assert.Contains($"tiered={expected}.", File.ReadAllText(path));
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(15));
    }
}
