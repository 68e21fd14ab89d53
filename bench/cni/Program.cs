using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Podnet.Cni.Client;
using Podnet.Kernel;

// bench/cni: ADD then DEL of N pods, sequentially and by 4 "runtimes" in parallel, podnet-cni
// against Debian's bridge + host-local with the same addresses and cniVersion 1.0.0. Each round
// gets a fresh node namespace (pn-bench-*) and fresh pod namespaces, removed afterwards. The
// timed part is the plugin process only (start to exit), through the same executor for both.
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
            foreach (var plugin in plugins)
            {
                var (add, del) = Round(plugin, n, parallel);
                rows.Add(($"N={n} {(parallel == 1 ? "sequential" : "4 parallel")}", plugin.Name, add, del));
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
    Console.WriteLine($"{r.Round,-20} {r.Plugin,-18} {r.Add.Median,10:F1} {r.Add.P95,8:F1} {r.Add.CpuPerOp,8:F1} {r.Del.Median,10:F1} {r.Del.P95,8:F1} {r.Del.CpuPerOp,8:F1}");
}
Console.WriteLine();
foreach (var group in rows.GroupBy(r => r.Round))
{
    var ours = group.First(r => r.Plugin == "podnet-cni");
    var theirs = group.First(r => r.Plugin != "podnet-cni");
    Console.WriteLine($"{group.Key,-20} podnet/reference  median: ADD {ours.Add.Median / theirs.Add.Median:P0}  DEL {ours.Del.Median / theirs.Del.Median:P0}" +
        $"   cpu: ADD {ours.Add.CpuPerOp / theirs.Add.CpuPerOp:P0}  DEL {ours.Del.CpuPerOp / theirs.Del.CpuPerOp:P0}");
}
return 0;

(Stats Add, Stats Del) Round((string Name, string Type, string Ipam, string Dir) plugin, int n, int parallel)
{
    var tag = $"{(plugin.Type == "bridge" ? "r" : "p")}{n}x{parallel}";
    var hostName = $"pn-bench-{tag}-host";
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
    var pods = new List<string>();
    using var host = Netns.Create(hostName);
    try
    {
        for (var i = 0; i < n; i++)
        {
            var name = $"pn-bench-{tag}-{i}";
            Netns.Create(name).Dispose();
            pods.Add(name);
        }
        var binary = Path.Combine(plugin.Dir, plugin.Type);
        var results = new string[n];
        var add = Timed(n, parallel, i => results[i] = host.Run(() => Exec(binary, plugin.Dir, "ADD", i, Netns.PathOf(pods[i]), conf.ToJsonString())));
        var reserved = Directory.GetFiles(Path.Combine(dataDir, "bench")).Count(f => char.IsDigit(Path.GetFileName(f)[0]));
        if (reserved != n)
        {
            throw new InvalidOperationException($"{plugin.Name}: {reserved} reservations after {n} ADDs");
        }
        var del = Timed(n, parallel, i =>
        {
            var withPrev = (JsonObject)conf.DeepClone();
            withPrev["prevResult"] = JsonNode.Parse(results[i]);
            host.Run(() => Exec(binary, plugin.Dir, "DEL", i, Netns.PathOf(pods[i]), withPrev.ToJsonString()));
        });
        var left = Directory.GetFiles(Path.Combine(dataDir, "bench")).Count(f => char.IsDigit(Path.GetFileName(f)[0]));
        if (left != 0)
        {
            throw new InvalidOperationException($"{plugin.Name}: {left} reservations left after DEL");
        }
        Console.WriteLine($"  {plugin.Name,-18} N={n,-4} parallel={parallel}: ADD {add}  DEL {del}");
        return (add, del);
    }
    finally
    {
        foreach (var p in pods)
        {
            Netns.Delete(p);
        }
        Netns.Delete(hostName);
    }
}

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

static Stats Timed(int n, int parallel, Action<int> op)
{
    var cpuBefore = ChildrenCpuMs();
    var times = new double[n];
    var next = -1;
    var workers = Enumerable.Range(0, parallel).Select(_ => new Thread(() =>
    {
        for (var i = Interlocked.Increment(ref next); i < n; i = Interlocked.Increment(ref next))
        {
            var clock = Stopwatch.StartNew();
            op(i);
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
    })).ToArray();
    foreach (var w in workers) w.Start();
    foreach (var w in workers) w.Join();
    return Stats.Of(times) with { CpuPerOp = (ChildrenCpuMs() - cpuBefore) / n };
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

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"median {Median:F1} ms, p95 {P95:F1} ms, cpu {CpuPerOp:F1} ms/op");
}
