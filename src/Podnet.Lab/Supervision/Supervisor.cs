using System.Diagnostics;
using Podnet.Kernel;

namespace Podnet.Lab.Supervision;

/// <summary>A process the supervisor keeps running: what to run, and in which namespace.</summary>
public sealed record SupervisedProcess(string Name, string? Netns, string File, IReadOnlyList<string> Arguments);

/// <summary>
/// Keeps a set of processes running: starts each (inside its namespace), restarts any that
/// exits with a backoff that grows from 0.5 s to 10 s while it keeps failing fast, and stops
/// them all (SIGTERM, then SIGKILL after a grace period) when asked. Each process writes to
/// its own log file (append, through a shell redirection, never through a pipe held here),
/// and its pid is kept in pids/NAME.pid, so other commands can find it.
/// </summary>
public sealed class Supervisor(string stateDirectory, TimeProvider? time = null)
{
    private static readonly TimeSpan s_stopGrace = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_healthyAfter = TimeSpan.FromSeconds(10);
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public string LogDirectory => Path.Combine(stateDirectory, "logs");

    public string PidDirectory => Path.Combine(stateDirectory, "pids");

    /// <summary>A process named by a file in held/ is not started (again) while the file is there.</summary>
    public static string HoldPath(string stateDirectory, string name) => Path.Combine(stateDirectory, "held", name);

    /// <summary>Called with a line for each start, exit and restart (the supervisor's own log).</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Runs until <paramref name="stop"/> fires, then stops every process.</summary>
    public async Task RunAsync(IReadOnlyList<SupervisedProcess> processes, CancellationToken stop)
    {
        Directory.CreateDirectory(LogDirectory);
        Directory.CreateDirectory(PidDirectory);
        await Task.WhenAll(processes.Select(p => KeepRunningAsync(p, stop)));
    }

    /// <summary>The pid recorded for <paramref name="name"/>, when that process is alive.</summary>
    public static int? ReadPid(string stateDirectory, string name)
    {
        var path = Path.Combine(stateDirectory, "pids", name + ".pid");
        return File.Exists(path) && int.TryParse(File.ReadAllText(path).Trim(), out var pid) && ProcessSignals.IsAlive(pid) ? pid : null;
    }

    private async Task KeepRunningAsync(SupervisedProcess spec, CancellationToken stop)
    {
        var backoff = TimeSpan.FromMilliseconds(500);
        while (!stop.IsCancellationRequested)
        {
            if (File.Exists(HoldPath(stateDirectory, spec.Name)))
            {
                await DelayAsync(TimeSpan.FromMilliseconds(250), stop);
                continue;
            }
            Process process;
            try
            {
                process = Start(spec);
            }
            catch (Exception e)
            {
                Log?.Invoke($"{spec.Name}: cannot start: {e.Message}");
                await DelayAsync(backoff, stop);
                backoff = Grow(backoff);
                continue;
            }
            var started = _time.GetUtcNow();
            await File.WriteAllTextAsync(Path.Combine(PidDirectory, spec.Name + ".pid"), process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), CancellationToken.None);
            Log?.Invoke($"{spec.Name}: started, pid {process.Id}");
            try
            {
                await process.WaitForExitAsync(stop);
                Log?.Invoke($"{spec.Name}: exited with {process.ExitCode}; restarting");
            }
            catch (OperationCanceledException)
            {
                await StopAsync(process, spec.Name);
                process.Dispose();
                return;
            }
            process.Dispose();
            backoff = _time.GetUtcNow() - started > s_healthyAfter ? TimeSpan.FromMilliseconds(500) : backoff;
            await DelayAsync(backoff, stop);
            backoff = Grow(backoff);
        }
    }

    private const string TieredCompilationVariable = "DOTNET_TieredCompilation";

    private Process Start(SupervisedProcess spec)
    {
        var log = Path.Combine(LogDirectory, spec.Name + ".log");
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = "/" };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec \"$@\" >>\"$PODNET_SUPERVISED_LOG\" 2>&1 </dev/null");
        info.ArgumentList.Add("sh");
        info.ArgumentList.Add(spec.File);
        foreach (var argument in spec.Arguments)
        {
            info.ArgumentList.Add(argument);
        }
        info.Environment["PODNET_SUPERVISED_LOG"] = log;
        // The lab's daemons run their ReadyToRun code as it is, with no tiered re-JIT: on two
        // cores the rejit of hot methods was a fifth of an agent's CPU while 50 pods started
        // (perf), and with it off the API server and controllers took 40-50% less CPU for the
        // same pods, the agents 20-30% less (interleaved runs). A value set by the caller wins.
        if (Environment.GetEnvironmentVariable(TieredCompilationVariable) is null)
        {
            info.Environment[TieredCompilationVariable] = "0";
        }
        if (spec.Netns is null)
        {
            return Process.Start(info)!;
        }
        using var netns = Netns.Open(spec.Netns);
        return netns.Run(() => Process.Start(info)!);
    }

    private async Task StopAsync(Process process, string name)
    {
        if (process.HasExited)
        {
            return;
        }
        ProcessSignals.Kill(process.Id, ProcessSignals.SigTerm);
        using var grace = new CancellationTokenSource(s_stopGrace);
        try
        {
            await process.WaitForExitAsync(grace.Token);
            Log?.Invoke($"{name}: stopped");
        }
        catch (OperationCanceledException)
        {
            ProcessSignals.Kill(process.Id, ProcessSignals.SigKill);
            await process.WaitForExitAsync(CancellationToken.None);
            Log?.Invoke($"{name}: killed after {s_stopGrace.TotalSeconds} s");
        }
    }

    private async Task DelayAsync(TimeSpan delay, CancellationToken stop)
    {
        try
        {
            await Task.Delay(delay, _time, stop);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static TimeSpan Grow(TimeSpan backoff) => TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
}
