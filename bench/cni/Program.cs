using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Podnet.Cni.Client;
using Podnet.Kernel;
using Podnet.Kernel.Netlink;

// bench/cni: ADD then DEL of N pods, sequentially and by 4 "runtimes" in parallel, podnet-cni
// against Debian's bridge + host-local with the same addresses and cniVersion 1.0.0. Each round
// gives each plugin a fresh node namespace (pn-bench-*) and fresh pod namespaces, removed
// afterwards, and alternates the two plugins operation by operation, so a change of load on this
// shared machine hits both alike. The timed part is the plugin process only (start to exit),
// through the same executor for both. A third row, "kernel: veth delete", is the floor of any
// DEL that removes the pair before it exits: RTM_DELLINK of an equal veth pair (host end on a
// bridge port, pod end up in a pod namespace) sent from this process, no plugin at all,
// alternating with the two plugins' DELs.
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
const string Floor = "kernel: veth delete";
var rows = new List<(string Round, string Plugin, Stats? Add, Stats Del)>();
try
{
    foreach (var n in sizes)
    {
        foreach (var parallel in new[] { 1, 4 })
        {
            var (stats, floor) = Round(n, parallel);
            var round = $"N={n} {(parallel == 1 ? "sequential" : "4 parallel")}";
            for (var p = 0; p < plugins.Length; p++)
            {
                rows.Add((round, plugins[p].Name, stats[p].Add, stats[p].Del));
            }
            rows.Add((round, Floor, null, floor));
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
    var add = r.Add is { } a ? $"{a.Median,10:F1} {a.P95,8:F1} {Cpu(a),8}" : $"{"-",10} {"-",8} {"-",8}";
    Console.WriteLine($"{r.Round,-20} {r.Plugin,-19} {add} {r.Del.Median,10:F1} {r.Del.P95,8:F1} {Cpu(r.Del),8}");
}
Console.WriteLine();
foreach (var group in rows.GroupBy(r => r.Round))
{
    var ours = group.First(r => r.Plugin == plugins[0].Name);
    var theirs = group.First(r => r.Plugin == plugins[1].Name);
    var floor = group.First(r => r.Plugin == Floor).Del;
    Console.WriteLine($"{group.Key,-20} podnet/reference  median: ADD {ours.Add!.Value.Median / theirs.Add!.Value.Median:P0}  DEL {ours.Del.Median / theirs.Del.Median:P0}" +
        (double.IsNaN(ours.Add.Value.CpuPerOp) ? "" : $"   cpu: ADD {ours.Add.Value.CpuPerOp / theirs.Add.Value.CpuPerOp:P0}  DEL {ours.Del.CpuPerOp / theirs.Del.CpuPerOp:P0}") +
        $"   kernel veth delete alone/reference DEL: {floor.Median / theirs.Del.Median:P0}");
}
return 0;

// One round: both plugins, each with its own node namespace and N pods, their operations
// interleaved (podnet ADD 0, reference ADD 0, podnet ADD 1, …) so that both see the same load
// on this shared machine; then the DELs the same way, with the kernel-only veth delete as a
// third party in the rotation.
((Stats Add, Stats Del)[] Plugins, Stats Floor) Round(int n, int parallel)
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
        var floor = MakeFloor(setups[0], n);
        var dels = Timed(setups.Length + 1, n, parallel, (p, i) =>
        {
            if (p == setups.Length)
            {
                // The socket stays in the host namespace it was opened in: no thread to enter it.
                floor.DeleteLink(FloorVeth(i));
                return;
            }
            var s = setups[p];
            var withPrev = (JsonObject)s.Conf.DeepClone();
            withPrev["prevResult"] = JsonNode.Parse(results[p][i]);
            s.Host.Run(() => Exec(s.Binary, s.Plugin.Dir, "DEL", i, Netns.PathOf(s.Pods[i]), withPrev.ToJsonString()));
        });
        floor.Dispose();
        foreach (var s in setups)
        {
            s.RequireReservations(0, "DELs");
        }
        for (var p = 0; p < setups.Length; p++)
        {
            Console.WriteLine($"  {setups[p].Plugin.Name,-18} N={n,-4} parallel={parallel}: ADD {adds[p]}  DEL {dels[p]}");
        }
        Console.WriteLine($"  {Floor,-18} N={n,-4} parallel={parallel}: DEL {dels[^1] with { CpuPerOp = double.NaN }}");
        return (adds.Zip(dels).ToArray(), dels[^1] with { CpuPerOp = double.NaN });
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

// The floor's veth pairs, made untimed before the DELs: like podnet-cni's, the host end an up
// port of the round's bridge, the pod end ("floor0") up in the pod's namespace. The returned
// rtnetlink handle (in the host namespace) deletes them.
static RtNetlink MakeFloor(Setup s, int n)
{
    var host = s.Host.Run(RtNetlink.OpenInCurrentNamespace);
    var bridge = host.GetLink("cnib0");
    for (var i = 0; i < n; i++)
    {
        using var pod = Netns.Open(s.Pods[i]);
        host.CreateVeth(FloorVeth(i), "floor0", pod, masterIndex: bridge.Index, up: true);
        using var inPod = RtNetlink.Open(pod);
        inPod.SetUp("floor0");
    }
    return host;
}

static string FloorVeth(int i) => $"pnfloor{i}";

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
