using Podnet.Churn;
using Xunit.Abstractions;

namespace Podnet.Lab.E2ETests;

/// <summary>
/// The churn suite's short run (issue 23): a 3-node lab under churn with every fault kind at
/// least once, then every invariant must hold. bench/churn runs the same suite for longer.
/// PODNET_CHURN_CYCLES and PODNET_CHURN_SEED change the run (a failure prints its seed).
/// </summary>
public sealed class ChurnLabTests(ITestOutputHelper output)
{
    [PrivilegedFact]
    public async Task Churn_WithEveryFaultKind_SettlesWithNoInvariantBreached()
    {
        var cycles = int.TryParse(Environment.GetEnvironmentVariable("PODNET_CHURN_CYCLES"), out var c) ? c : 50;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("PODNET_CHURN_SEED"), out var s) ? s : Random.Shared.Next();
        void Log(string line) => output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
        Log($"churn: {cycles} cycles, seed {seed}");
        var rootBefore = RootSnapshot.Take();
        using var lab = new ChurnLab("chn" + Guid.NewGuid().ToString("N")[..6], Path.GetDirectoryName(RepoPaths.Bin("podnet"))!, Log);
        lab.Up();
        var options = new ChurnOptions(cycles, Enum.GetValues<FaultKind>().Length, seed, TimeSpan.FromMinutes(3));
        var report = await new ChurnRun(lab, options, Log).RunAsync(rootBefore);
        output.WriteLine(report.Render());
        Assert.All(Enum.GetValues<FaultKind>(), k => Assert.Contains(report.Faults, f => f.Kind == k));
        // The memory bound (end at most 10 % over middle) is printed, not asserted: in 50 cycles
        // "middle" is a minute after start-up and the heaps are still growing to their working
        // size (an agent no fault hit grew 12 % in one run); bench/churn's long run asserts it.
        Assert.True(report.Breaches.Count == 0, $"seed {seed}: {report.Breaches.Count} invariant breaches:\n{string.Join('\n', report.Breaches)}");
    }
}
