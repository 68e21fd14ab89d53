using k8s;
using k8s.Models;

namespace Podnet.ApiServer.Tests.Server;

/// <summary>
/// `podnet server` runs the controllers as a `podnet controllers` child process (the server itself
/// is NativeAOT): they work against it, and they end with it, also when it is killed outright.
/// </summary>
public sealed class ControllersProcessTests : IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("podnet-controllers-").FullName;

    public void Dispose() => Directory.Delete(_state, recursive: true);

    [Fact]
    public async Task ControllersChild_AllocatesANodesPodCidr_AndEndsWhenTheServerIsKilledOutright()
    {
        int child;
        using (var server = ServerProcess.Start(_state))
        {
            child = ChildOf(server.Pid, "controllers");
            using var client = server.Client();
            await client.CoreV1.CreateNodeAsync(new V1Node { Metadata = new V1ObjectMeta { Name = "n1" } });
            var node = await Eventually(async () => await client.CoreV1.ReadNodeAsync("n1"), n => n.Spec?.PodCIDR is not null);
            Assert.Equal("10.244.0.0/24", node.Spec.PodCIDR);
            server.KillHard();
        }
        Assert.True(await Ends(child), $"the controllers (pid {child}) outlived a server killed with SIGKILL");
    }

    [Fact]
    public async Task Sigterm_StopsTheControllersThenTheServer_ExitZero()
    {
        using var server = ServerProcess.Start(_state);
        var child = ChildOf(server.Pid, "controllers");
        for (var deadline = DateTime.UtcNow.AddSeconds(30); !server.Stderr.Contains("podnet controllers: running", StringComparison.Ordinal) && DateTime.UtcNow < deadline;)
        {
            await Task.Delay(50);
        }
        Assert.Equal(0, server.Terminate(TimeSpan.FromSeconds(30)));
        Assert.True(await Ends(child), $"the controllers (pid {child}) outlived the server");
        Assert.Contains("podnet controllers: stopped", server.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ControllersKilled_AreStartedAgain_AndWorkAgainstTheServer()
    {
        using var server = ServerProcess.Start(_state);
        var first = ChildOf(server.Pid, "controllers");
        Assert.True(Podnet.Kernel.ProcessSignals.Kill(first, Podnet.Kernel.ProcessSignals.SigKill));
        Assert.True(await Ends(first));
        var second = ChildOf(server.Pid, "controllers", except: first);
        Assert.NotEqual(first, second);
        Assert.Contains("podnet server: the controllers ended (exit code 137); starting them again in 1 s", server.Stderr, StringComparison.Ordinal);
        using var client = server.Client();
        await client.CoreV1.CreateNodeAsync(new V1Node { Metadata = new V1ObjectMeta { Name = "n1" } });
        var node = await Eventually(async () => await client.CoreV1.ReadNodeAsync("n1"), n => n.Spec?.PodCIDR is not null);
        Assert.NotNull(node.Spec.PodCIDR);
    }

    [Fact]
    public void ControllersNone_StartsNoChild()
    {
        using var server = ServerProcess.Start(_state, controllers: "none");
        Assert.Empty(Children(server.Pid));
    }

    /// <summary>The one child of <paramref name="pid"/> whose command line has <paramref name="word"/>, waited for.</summary>
    private static int ChildOf(int pid, string word, int except = 0)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < deadline; Thread.Sleep(50))
        {
            if (Children(pid).FirstOrDefault(c => c != except && CommandLine(c).Contains(word)) is var child and > 0)
            {
                return child;
            }
        }
        throw new TimeoutException($"no child of {pid} runs \"{word}\"");
    }

    private static List<int> Children(int pid) =>
        Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Select(n => int.TryParse(n, out var p) ? p : 0).Where(p => p > 0 && ParentOf(p) == pid).ToList();

    private static int ParentOf(int pid)
    {
        try
        {
            // "pid (comm) state ppid …": the command name may hold spaces, so read after the last ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static async Task<bool> Ends(int pid)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            try
            {
                if (!Directory.Exists($"/proc/{pid}") || File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal))
                {
                    return true;
                }
            }
            catch (IOException)
            {
                // Reaped between the two looks ("No such process"): it has ended.
                return true;
            }
        }
        return false;
    }

    private static async Task<T> Eventually<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(30); ; await Task.Delay(100))
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow > deadline)
            {
                return value;
            }
        }
    }
}
