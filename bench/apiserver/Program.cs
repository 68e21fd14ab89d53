using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using k8s;
using k8s.Models;
using Podnet.Bench.ApiServer;

// The API server benchmark: N ConfigMaps created by 4 concurrent HTTPS clients while 4
// watchers follow, against a `podnet server` process; then the same rows written straight
// into SQLite (one transaction each, as the server commits) as the storage floor.
int Flag(string name, int fallback) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
var objects = Flag("--objects", 10_000);
const int Writers = 4;
var Watchers = Flag("--watchers", 4);
var warmup = Flag("--warmup", 2_000);
// The reference figure is kube-apiserver's alone, so by default the server runs without the
// controllers (`--controllers all` measures them in the same process too).
var controllers = Array.IndexOf(args, "--controllers") is var c and >= 0 && c + 1 < args.Length ? args[c + 1] : "none";
var binaryPath = Array.IndexOf(args, "--podnet") is var b and >= 0 && b + 1 < args.Length ? args[b + 1] : null;
// Authorization off (AlwaysAllow, the system:masters token) and on (RBAC: every request by a
// ServiceAccount bound through a RoleBinding among 1,000 Roles and RoleBindings), one server each.
var off = await Run("AlwaysAllow");
var on = await Run("RBAC");
Console.WriteLine();
Console.WriteLine($"{"authorization",-28}{"off",16}{"on (RBAC)",16}{"ratio",10}");
Console.WriteLine($"{"creates/s",-28}{off.Rate,16:F0}{on.Rate,16:F0}{on.Rate / off.Rate,10:F2} (target >= 0.9)");
Console.WriteLine($"{"memory RSS peak (MB)",-28}{off.Peak / 1048576.0,16:F0}{on.Peak / 1048576.0,16:F0}{"",10} (added {(on.Peak - off.Peak) / 1048576.0:F1} MB, with the 1,000 roles and bindings)");

async Task<(double Rate, long Peak)> Run(string authorization)
{
var state = Directory.CreateTempSubdirectory("podnet-bench-").FullName;
try
{
    using var server = ServerUnderTest.Start(state, controllers, binaryPath, authorization);
    var clients = new List<Kubernetes> { server.Client() };
    var setup = clients[^1];
    string? token = null;
    if (authorization == "RBAC")
    {
        token = await RbacSetupAsync(setup);
    }
    var lean = Enumerable.Range(0, Writers + Watchers).Select(_ => server.Lean(token)).ToList();
    var payload = new string('x', 200);

    // One phase: `count` ConfigMaps created in namespace `ns` by the writers while the watchers
    // follow that namespace from its list's resourceVersion.
    async Task<(double Seconds, List<double> Delays, double ServerCpu, double ClientCpu)> Phase(string ns, int count, bool protobuf = false)
    {
        try
        {
            await setup.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
        }
        var startRv = (await setup.CoreV1.ListNamespacedConfigMapAsync(ns)).Metadata.ResourceVersion;
        var acked = new ConcurrentDictionary<string, long>();
        var seen = Enumerable.Range(0, Watchers).Select(_ => new ConcurrentDictionary<string, long>()).ToArray();
        using var stopWatching = new CancellationTokenSource();
        var watchers = Enumerable.Range(0, Watchers).Select(w => Task.Run(async () =>
        {
            try
            {
                var path = $"api/v1/namespaces/{ns}/configmaps?watch=true&resourceVersion={startRv}";
                bool OnAdded(string name)
                {
                    seen[w][name] = Stopwatch.GetTimestamp();
                    return seen[w].Count == count;
                }
                await (protobuf ? lean[Writers + w].WatchProtobufAsync(path, OnAdded, stopWatching.Token) : lean[Writers + w].WatchAsync(path, OnAdded, stopWatching.Token));
            }
            catch (OperationCanceledException)
            {
            }
        })).ToList();

        var bodies = Enumerable.Range(0, count).Select(i => protobuf
            ? ProtobufBodies.ConfigMap($"cm-{i:D6}", new Dictionary<string, string> { ["bench"] = "true" }, new Dictionary<string, string> { ["value"] = payload })
            : System.Text.Encoding.UTF8.GetBytes(
                $"{{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{{\"name\":\"cm-{i:D6}\",\"labels\":{{\"bench\":\"true\"}}}},\"data\":{{\"value\":\"{payload}\"}}}}")).ToArray();
        var cpuBefore = server.CpuSeconds();
        var clientCpuBefore = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        var clock = Stopwatch.StartNew();
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            for (var i = w; i < count; i += Writers)
            {
                var name = $"cm-{i:D6}";
                await lean[w].CreateAsync($"api/v1/namespaces/{ns}/configmaps", bodies[i], protobuf);
                acked[name] = Stopwatch.GetTimestamp();
            }
        })).ToList();
        await Task.WhenAll(writers);
        var seconds = clock.Elapsed.TotalSeconds;
        var serverCpu = server.CpuSeconds() - cpuBefore;
        var clientCpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - clientCpuBefore;
        var allSeen = Task.WhenAll(watchers);
        if (await Task.WhenAny(allSeen, Task.Delay(TimeSpan.FromSeconds(60))) != allSeen)
        {
            Console.Error.WriteLine($"bench: watchers did not see every object of {ns} within 60 s");
        }
        await stopWatching.CancelAsync();
        var delays = seen.SelectMany(s => s.Select(p => Stopwatch.GetElapsedTime(acked[p.Key], Math.Max(acked[p.Key], p.Value)).TotalMilliseconds)).Order().ToList();
        return (seconds, delays, serverCpu, clientCpu);
    }

    // A fresh .NET server first runs precompiled (ReadyToRun) code and re-compiles its hot
    // paths while it works; the warm-up phase lets that happen before the measured phase, as
    // for a server that has been up a while (the objects stay: memory is for both phases).
    var cold = warmup > 0 ? await Phase("warmup", warmup) : default;
    var (writeSeconds, delays, serverCpu, clientCpu) = await Phase("bench", objects);
    // The same load in protobuf (bodies, answers and watches), as client-go sends it by default.
    var proto = await Phase("bench-protobuf", objects, protobuf: true);
    var (rss, peak, anon) = server.Memory();
    var serverRate = objects / writeSeconds;

    var floorSeconds = Floor.Run(Path.Combine(state, "floor.db"), objects, payload);
    var floorRate = objects / floorSeconds;

    Console.WriteLine($"authorization {authorization}: objects {objects} after a warm-up of {warmup}, {Writers} writers over HTTPS, {Watchers} watchers, server controllers: {controllers}");
    Console.WriteLine($"{"",-28}{"podnet server",16}{"SQLite floor",16}{"ratio",10}");
    Console.WriteLine($"{"creates/s",-28}{serverRate,16:F0}{floorRate,16:F0}{serverRate / floorRate,10:F2}");
    if (warmup > 0)
    {
        Console.WriteLine($"{"creates/s, cold (warm-up)",-28}{warmup / cold.Seconds,16:F0}{"",16}{"",10} (first {warmup} after start; server CPU {cold.ServerCpu:F1} s)");
    }
    Console.WriteLine($"{"creates/s, protobuf",-28}{objects / proto.Seconds,16:F0}{"",16}{objects / proto.Seconds / floorRate,10:F2} (bodies, answers and watches in protobuf)");
    Console.WriteLine($"{"server CPU per create (µs)",-28}{serverCpu / objects * 1e6,16:F0} JSON, {proto.ServerCpu / objects * 1e6:F0} protobuf (with the 4 watchers' events)");
    Console.WriteLine($"{"watch delay p50 (ms)",-28}{Percentile(delays, 0.50),16:F1}");
    Console.WriteLine($"{"watch delay p99 (ms)",-28}{Percentile(delays, 0.99),16:F1}");
    Console.WriteLine($"{"watch delay p50/p99, protobuf",-28}{Percentile(proto.Delays, 0.50),16:F1}{Percentile(proto.Delays, 0.99),16:F1}");
    Console.WriteLine($"{"events seen",-28}{delays.Count,16} of {objects * Watchers} ({proto.Delays.Count} in protobuf)");
    Console.WriteLine($"{"memory RSS now / peak (MB)",-28}{rss / 1048576.0,16:F0}{peak / 1048576.0,16:F0} (peak)");
    Console.WriteLine($"{"memory RSS anonymous (MB)",-28}{anon / 1048576.0,16:F0} (the rest: file pages of the binary and its libraries)");
    Console.WriteLine($"{"server CPU during writes (s)",-28}{serverCpu,16:F1} of {writeSeconds:F1} s wall (2 cores shared with the clients); protobuf {proto.ServerCpu:F1} of {proto.Seconds:F1} s");
    Console.WriteLine($"{"client CPU during writes (s)",-28}{clientCpu,16:F1} (the 4 writers and 4 watchers, this process)");
    Console.WriteLine("reference: kube-apiserver 1.36.2 + etcd 3.5.30, ~900 creates/s, ~350 MB; target >= 1800/s, p99 < 100 ms, <= 88 MB");
    foreach (var client in clients)
    {
        client.Dispose();
    }
    foreach (var client in lean)
    {
        client.Dispose();
    }
    return (serverRate, peak);
}
finally
{
    Directory.Delete(state, recursive: true);
}
}

// 1,000 Roles and RoleBindings in each benchmark namespace (the protobuf phase's too), one of which lets the ServiceAccount
// bench/writer write and watch ConfigMaps there; returns a token of that account.
async Task<string> RbacSetupAsync(Kubernetes setup)
{
    foreach (var ns in new[] { "warmup", "bench", "bench-protobuf" })
    {
        await setup.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
        await setup.CoreV1.CreateNamespacedServiceAccountAsync(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = "writer" } }, ns);
        for (var i = 0; i < 1000; i++)
        {
            var writer = i == 500;
            await setup.RbacAuthorizationV1.CreateNamespacedRoleAsync(new V1Role
            {
                Metadata = new V1ObjectMeta { Name = $"role-{i:D4}" },
                Rules = [new V1PolicyRule { ApiGroups = [""], Resources = [writer ? "configmaps" : $"widgets{i}"], Verbs = ["create", "get", "list", "watch"] }],
            }, ns);
            await setup.RbacAuthorizationV1.CreateNamespacedRoleBindingAsync(new V1RoleBinding
            {
                Metadata = new V1ObjectMeta { Name = $"binding-{i:D4}" },
                RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "Role", Name = $"role-{i:D4}" },
                Subjects = [writer ? new Rbacv1Subject { Kind = "ServiceAccount", Name = "writer", NamespaceProperty = "bench" } : new Rbacv1Subject { Kind = "User", Name = $"user-{i}", ApiGroup = "rbac.authorization.k8s.io" }],
            }, ns);
        }
    }
    // The token names bench/writer; the binding in warmup names that same account.
    var answer = await setup.CoreV1.CreateNamespacedServiceAccountTokenAsync(new Authenticationv1TokenRequest { Spec = new V1TokenRequestSpec { ExpirationSeconds = 3600 } }, "writer", "bench");
    return answer.Status.Token;
}


static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];
