using Podnet.Churn;
using Podnet.Testing;

// bench/churn: a 3-node lab under churn and faults, then the invariants and the memory bound (README.md).
//   dotnet run -c Release --project bench/churn -- [CYCLES=1000] [FAULTS=CYCLES/10] [SEED=random]
var cycles = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 1000;
var faults = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : Math.Max(cycles / 10, Enum.GetValues<FaultKind>().Length);
var seed = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : Random.Shared.Next();
void Log(string line) => Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {line}");
Log($"churn: {cycles} cycles, {faults} faults, seed {seed} (replay: same arguments), load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
var rootBefore = RootSnapshot.Take();
using var lab = new ChurnLab("churn" + Random.Shared.Next(1000, 9999), Path.GetDirectoryName(RepoPaths.Bin("podnet"))!, Log);
try
{
    lab.Up();
    var report = await new ChurnRun(lab, new ChurnOptions(cycles, faults, seed, TimeSpan.FromMinutes(5)), Log).RunAsync(rootBefore);
    Console.Write(report.Render());
    Log($"load average at the end {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
    // The memory bound is judged here, not in the E2E tier's 50 cycles: there "middle" is a
    // minute into the run, while the processes' heaps are still warming up (README "Results").
    return report.Breaches.Count == 0 && report.MemoryGrowth().Count == 0 ? 0 : 1;
}
finally
{
    lab.Dispose();
}
