using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Podnet.Cni.Client;
using Podnet.Kernel;

// bench/cni: ADD then DEL of N pods, sequentially and by 4 "runtimes" in parallel, podnet-cni
// against Debian's bridge + host-local with the same addresses and cniVersion 1.0.0. Each round
// gives each plugin a fresh node namespace (pn-bench-*) and fresh pod namespaces, removed
// afterwards, and alternates the two plugins operation by operation, so a change of load on this
// shared machine hits both alike. The timed part is the plugin process only (start to exit),
// through the same executor for both.
//
// usage: dotnet run --project bench/cni -c Release [-- --podnet DIR --reference DIR --sizes 50,200]

var podnetDir = Arg("--podnet") ?? Path.Combine(FindRoot(), "bin");
var referenceDir = Arg("--reference") ?? "/usr/lib/cni";
var sizes = (Arg("--sizes") ?? "50,200").Split(',').Select(int.Parse).ToArray();
var runDir = Path.Combine(Path.GetTempPath(), "pn-bench-" + Environment.ProcessId);
Directory.CreateDirectory(runDir);

var plugins = new (string Name, string Type, string Ipam, string Dir)[]
{
    ("podnet-cni", "podnet-cni", "podnet-ipam", podnetDir),
    ("bridge+host-local", "bridge", "host-local", referenceDir),
};
Console.WriteLine($"load average at start: {File.ReadAllText("/proc/loadavg").Trim()}");
var rows = new List<(string Round, string Plugin, Stats Add, Stats Del)>();
try
{
    foreach (var n in sizes)
    {
        foreach (var parallel in new[] { 1, 4 })
        {
            var stats = Round(n, parallel);
            for (var p = 0; p < plugins.Length; p++)
            {
                rows.Add(($"N={n} {(parallel == 1 ? "sequential" : "4 parallel")}", plugins[p].Name, stats[p].Add, stats[p].Del));
            }
        }
    }
}
finally
{
    Directory.Delete(runDir, recursive: true);
}
Console.WriteLine($"load average at end:   {File.ReadAllText("/proc/loadavg").Trim()}");
Console.WriteLine();
Console.WriteLine($"{"round",-20} {"plugin",-18} {"ADD median",10} {"ADD p95",8} {"ADD cpu",8} {"DEL median",10} {"DEL p95",8} {"DEL cpu",8}   (ms)");
foreach (var r in rows)
{
    Console.WriteLine($"{r.Round,-20} {r.Plugin,-18} {r.Add.Median,10:F1} {r.Add.P95,8:F1} {Cpu(r.Add),8} {r.Del.Median,10:F1} {r.Del.P95,8:F1} {Cpu(r.Del),8}");
}
Console.WriteLine();
foreach (var group in rows.GroupBy(r => r.Round))
{
    var ours = group.First(r => r.Plugin == "podnet-cni");
    var theirs = group.First(r => r.Plugin != "podnet-cni");
    Console.WriteLine($"{group.Key,-20} podnet/reference  median: ADD {ours.Add.Median / theirs.Add.Median:P0}  DEL {ours.Del.Median / theirs.Del.Median:P0}" +
        (double.IsNaN(ours.Add.CpuPerOp) ? "" : $"   cpu: ADD {ours.Add.CpuPerOp / theirs.Add.CpuPerOp:P0}  DEL {ours.Del.CpuPerOp / theirs.Del.CpuPerOp:P0}"));
}
return 0;

// One round: both plugins, each with its own node namespace and N pods, their operations
// interleaved (podnet ADD 0, reference ADD 0, podnet ADD 1, …) so that both see the same load
// on this shared machine; then the DELs the same way.
(Stats Add, Stats Del)[] Round(int n, int parallel)
{
    var setups = plugins.Select(plugin => MakeSetup(plugin, n)).ToArray();
    try
    {
        var results = setups.Select(_ => new string[n]).ToArray();
        var adds = Timed(setups.Length, n, parallel, (p, i) =>
        {
            var s = setups[p];
            results[p][i] = s.Host.Run(() => Exec(s.Binary, s.Plugin.Dir, "ADD", i, Netns.PathOf(s.Pods[i]), s.Conf.ToJsonString()));
        });
        foreach (var s in setups)
        {
            s.RequireReservations(n, "ADDs");
        }
        var dels = Timed(setups.Length, n, parallel, (p, i) =>
        {
            var s = setups[p];
            var withPrev = (JsonObject)s.Conf.DeepClone();
            withPrev["prevResult"] = JsonNode.Parse(results[p][i]);
            s.Host.Run(() => Exec(s.Binary, s.Plugin.Dir, "DEL", i, Netns.PathOf(s.Pods[i]), withPrev.ToJsonString()));
        });
        foreach (var s in setups)
        {
            s.RequireReservations(0, "DELs");
        }
        for (var p = 0; p < setups.Length; p++)
        {
            Console.WriteLine($"  {setups[p].Plugin.Name,-18} N={n,-4} parallel={parallel}: ADD {adds[p]}  DEL {dels[p]}");
        }
        return adds.Zip(dels).ToArray();
    }
    finally
    {
        foreach (var s in setups)
        {
            s.Dispose();
        }
    }
}

Setup MakeSetup((string Name, string Type, string Ipam, string Dir) plugin, int n)
{
    var tag = $"{(plugin.Type == "bridge" ? "r" : "p")}{n}";
    var dataDir = Path.Combine(runDir, tag);
    var conf = new JsonObject
    {
        ["cniVersion"] = "1.0.0",
        ["name"] = "bench",
        ["type"] = plugin.Type,
        ["bridge"] = "cnib0",
        ["isGateway"] = true,
        ["hairpinMode"] = true,
        ["ipMasq"] = false,
        ["ipam"] = new JsonObject
        {
            ["type"] = plugin.Ipam,
            ["ranges"] = JsonNode.Parse("""[[{"subnet":"10.244.77.0/24"}]]"""),
            ["dataDir"] = dataDir,
        },
    };
    var setup = new Setup(plugin, Path.Combine(plugin.Dir, plugin.Type), conf, Netns.Create($"pn-bench-{tag}-host"), Path.Combine(dataDir, "bench"));
    for (var i = 0; i < n; i++)
    {
        var name = $"pn-bench-{tag}-{i}";
        Netns.Create(name).Dispose();
        setup.Pods.Add(name);
    }
    return setup;
}

static string Cpu(Stats s) => double.IsNaN(s.CpuPerOp) ? "-" : s.CpuPerOp.ToString("F1", CultureInfo.InvariantCulture);

static string Exec(string binary, string cniPath, string command, int i, string netns, string stdin) =>
    PluginExecutor.Run(binary, new Dictionary<string, string?>
    {
        ["CNI_COMMAND"] = command,
        ["CNI_CONTAINERID"] = $"bench-{i}",
        ["CNI_NETNS"] = netns,
        ["CNI_IFNAME"] = "eth0",
        ["CNI_ARGS"] = "IgnoreUnknown=1",
        ["CNI_PATH"] = cniPath,
    }, stdin);

// Runs op(plugin, i) for every plugin and i < n, alternating plugins, with `parallel` workers.
// Sequentially, each operation's child CPU (the plugin and what it executes) is known exactly;
// in parallel the children's CPU cannot be told apart, so it is not reported (NaN).
static Stats[] Timed(int plugins, int n, int parallel, Action<int, int> op)
{
    var times = Enumerable.Range(0, plugins).Select(_ => new double[n]).ToArray();
    var cpu = new double[plugins];
    var next = -1;
    var workers = Enumerable.Range(0, parallel).Select(_ => new Thread(() =>
    {
        for (var k = Interlocked.Increment(ref next); k < plugins * n; k = Interlocked.Increment(ref next))
        {
            var (p, i) = (k % plugins, k / plugins);
            var before = parallel == 1 ? ChildrenCpuMs() : 0;
            var clock = Stopwatch.StartNew();
            op(p, i);
            times[p][i] = clock.Elapsed.TotalMilliseconds;
            if (parallel == 1)
            {
                cpu[p] += ChildrenCpuMs() - before;
            }
        }
    })).ToArray();
    foreach (var w in workers) w.Start();
    foreach (var w in workers) w.Join();
    return Enumerable.Range(0, plugins).Select(p => Stats.Of(times[p]) with { CpuPerOp = parallel == 1 ? cpu[p] / n : double.NaN }).ToArray();
}

// utime+stime of waited-for children (/proc/self/stat fields 16 and 17), in ms: the plugin's
// own CPU cost including its children (bridge's host-local), which load on a shared VM does not inflate.
static double ChildrenCpuMs()
{
    var stat = File.ReadAllText("/proc/self/stat");
    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    return (long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture)) * 1000.0 / 100;
}

string? Arg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

static string FindRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Podnet.slnx")))
        {
            return dir.FullName;
        }
    }
    return Directory.GetCurrentDirectory();
}

internal readonly record struct Stats(double Median, double P95, double CpuPerOp = 0)
{
    public static Stats Of(double[] times)
    {
        var sorted = times.Order().ToArray();
        return new Stats(sorted[sorted.Length / 2], sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(sorted.Length * 0.95) - 1)]);
    }

    public override string ToString() => double.IsNaN(CpuPerOp)
        ? string.Create(CultureInfo.InvariantCulture, $"median {Median:F1} ms, p95 {P95:F1} ms")
        : string.Create(CultureInfo.InvariantCulture, $"median {Median:F1} ms, p95 {P95:F1} ms, cpu {CpuPerOp:F1} ms/op");
}

/// <summary>One plugin's side of a round: its node namespace, pod namespaces and IPAM store.</summary>
internal sealed record Setup((string Name, string Type, string Ipam, string Dir) Plugin, string Binary, JsonObject Conf, Netns Host, string StoreDir) : IDisposable
{
    public List<string> Pods { get; } = [];

    public void RequireReservations(int expected, string after)
    {
        var reserved = Directory.Exists(StoreDir) ? Directory.GetFiles(StoreDir).Count(f => char.IsDigit(Path.GetFileName(f)[0])) : 0;
        if (reserved != expected)
        {
            throw new InvalidOperationException($"{Plugin.Name}: {reserved} reservations after {after}, {expected} expected");
        }
    }

    public void Dispose()
    {
        foreach (var p in Pods)
        {
            Netns.Delete(p);
        }
        var name = Host.Path;
        Host.Dispose();
        Netns.Delete(Path.GetFileName(name));
    }
}
