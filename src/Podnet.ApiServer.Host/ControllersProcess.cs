using System.Diagnostics;
using Podnet.Kernel;

namespace Podnet.ApiServer.Host;

/// <summary>
/// The controllers beside the server, as kube-controller-manager beside kube-apiserver: a
/// `podnet controllers` process, a client of this server like any other. They are written
/// against KubernetesClient, which needs the JIT runtime that this NativeAOT server leaves out.
/// </summary>
/// <remarks>
/// Started once the server listens and its kubeconfig is written; started again when it ends on
/// its own (unless it refused its arguments), after 1 s, doubled at each quick end up to 30 s, as
/// a kubelet backs off a crashing container; sent SIGTERM when the server stops. Its
/// standard input is a pipe from this process, which it reads to the end: killed outright, the
/// server leaves no controllers behind.
/// </remarks>
internal static class ControllersProcess
{
    private static readonly TimeSpan FirstRestart = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestRestart = TimeSpan.FromSeconds(30);

    /// <summary>A run this long resets the backoff.</summary>
    private static readonly TimeSpan Healthy = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    public static async Task RunAsync(string podnet, IReadOnlyList<string> arguments, CancellationToken stop)
    {
        var info = new ProcessStartInfo(podnet) { UseShellExecute = false, RedirectStandardInput = true };
        foreach (var argument in arguments.Append("--until-stdin-closes"))
        {
            info.ArgumentList.Add(argument);
        }
        var restart = FirstRestart;
        while (!stop.IsCancellationRequested)
        {
            var started = Stopwatch.GetTimestamp();
            using var process = Process.Start(info)!;
            try
            {
                await process.WaitForExitAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                await StopAsync(process).ConfigureAwait(false);
                return;
            }
            if (process.ExitCode == 2)
            {
                Console.Error.WriteLine("podnet server: the controllers refused their arguments; they are not started again");
                return;
            }
            if (Stopwatch.GetElapsedTime(started) >= Healthy)
            {
                restart = FirstRestart;
            }
            Console.Error.WriteLine($"podnet server: the controllers ended (exit code {process.ExitCode}); starting them again in {restart.TotalSeconds:0} s");
            try
            {
                await Task.Delay(restart, stop).ConfigureAwait(false);
                restart = TimeSpan.FromTicks(Math.Min(restart.Ticks * 2, LongestRestart.Ticks));
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static async Task StopAsync(Process process)
    {
        ProcessSignals.Kill(process.Id, ProcessSignals.SigTerm);
        using var grace = new CancellationTokenSource(StopGrace);
        try
        {
            await process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }
}
