using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Podnet.ApiServer.Tests.Server;

public sealed class DurabilityTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("podnet-durable-").FullName;

    public void Dispose() => Directory.Delete(_state, recursive: true);

    private const string ConfigMaps = "api/v1/namespaces/default/configmaps";

    /// <summary>
    /// Issue 23: the server SIGKILLed 20 times under four clients' write load (each time once
    /// 40 more writes are acknowledged, with more in flight). After every restart each write
    /// ever acknowledged is there, resourceVersions go on above every acknowledged one, and a
    /// watcher that was following the writes resumes from the resourceVersion it last saw or
    /// gets 410 Gone and relists — and in the end knows every acknowledged write. Then SQLite's
    /// integrity_check passes.
    /// </summary>
    [Fact]
    public async Task KillDashNine_TwentyTimes_DuringWritesFromFourClients_KeepsEveryAcknowledgedWrite()
    {
        const int Rounds = 20;
        const int PerRound = 40;
        var acknowledged = new ConcurrentDictionary<string, long>();
        var watcher = new Watcher();
        long maxBefore = 0;
        for (var round = 0; round <= Rounds; round++)
        {
            using var server = ServerProcess.Start(_state, controllers: "none");
            using var http = server.Http();
            var (stored, listRv) = await ListAsync(http);
            var lost = acknowledged.Keys.Where(a => !stored.Contains(a)).Order(StringComparer.Ordinal).ToList();
            Assert.True(lost.Count == 0, $"after kill {round}: lost {lost.Count} of {acknowledged.Count} acknowledged writes: {string.Join(",", lost.Take(10))}");
            Assert.True(listRv >= maxBefore, $"after kill {round}: the list's resourceVersion {listRv} is below an acknowledged write's {maxBefore}");
            using var stop = new CancellationTokenSource();
            var watching = watcher.RunAsync(http, stop.Token);
            if (round == Rounds)
            {
                // The last restart: no more load; the watcher catches up with every write.
                var deadline = DateTime.UtcNow.AddSeconds(60);
                while (acknowledged.Keys.Any(a => !watcher.Knows(a)) && DateTime.UtcNow < deadline && !watching.IsCompleted)
                {
                    await Task.Delay(50);
                }
                await stop.CancelAsync();
                await watching;
                var missing = acknowledged.Keys.Where(a => !watcher.Knows(a)).ToList();
                Assert.True(missing.Count == 0, $"the watcher never saw {missing.Count} acknowledged writes: {string.Join(",", missing.Take(10))}");
                Assert.Equal(0, server.Terminate(TimeSpan.FromSeconds(20)));
                break;
            }
            var before = acknowledged.Count;
            var thisRound = new ConcurrentBag<long>();
            var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
            {
                using var client = server.Client();
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    try
                    {
                        var cm = await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
                        {
                            Metadata = new V1ObjectMeta { Name = $"r{round}-w{w}-{i}" },
                            Data = new Dictionary<string, string> { ["i"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                        }, "default");
                        var rv = long.Parse(cm.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture);
                        acknowledged[cm.Metadata.Name] = rv;
                        thisRound.Add(rv);
                    }
                    catch (Exception e) when (e is HttpRequestException or k8s.Autorest.HttpOperationException or TaskCanceledException or IOException)
                    {
                        // After the kill every write fails; those were never acknowledged.
                        await Task.Delay(10);
                    }
                }
            })).ToList();
            var until = DateTime.UtcNow.AddSeconds(60);
            while (acknowledged.Count < before + PerRound && DateTime.UtcNow < until)
            {
                await Task.Delay(10);
            }
            server.KillHard();
            await stop.CancelAsync();
            await Task.WhenAll(writers);
            await watching;
            Assert.True(acknowledged.Count >= before + PerRound, $"round {round}: only {acknowledged.Count - before} writes acknowledged before the kill");
            Assert.True(thisRound.Min() > maxBefore, $"round {round}: a write got resourceVersion {thisRound.Min()}, not above the {maxBefore} acknowledged before the last kill");
            maxBefore = thisRound.Max();
        }
        output.WriteLine($"{Rounds} kills, {acknowledged.Count} writes acknowledged; the watcher resumed {watcher.Resumed} times, relisted after 410 {watcher.Relisted} times");
        Assert.True(watcher.Resumed + watcher.Relisted >= Rounds, $"the watcher resumed {watcher.Resumed} times and relisted after 410 {watcher.Relisted} times in {Rounds} restarts");

        var check = Podnet.Kernel.ProcessRunner.Run(null, "sqlite3", ["-readonly", Path.Combine(_state, "state.db"), "PRAGMA integrity_check;"], timeout: TimeSpan.FromSeconds(60));
        Assert.Equal("ok", (check.StandardOutput + check.StandardError).Trim());
    }

    private static async Task<(HashSet<string> Names, long ResourceVersion)> ListAsync(HttpClient http, CancellationToken cancellationToken = default)
    {
        using var response = await http.GetAsync(ConfigMaps, cancellationToken);
        response.EnsureSuccessStatusCode();
        var list = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))!;
        return (list["items"]!.AsArray().Select(i => (string)i!["metadata"]!["name"]!).ToHashSet(StringComparer.Ordinal),
            long.Parse((string)list["metadata"]!["resourceVersion"]!, System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// An informer's view of the ConfigMaps, kept across the server's kills: it watches from the
    /// resourceVersion it last saw; on 410 Gone it relists and watches from the list's.
    /// </summary>
    private sealed class Watcher
    {
        private readonly HashSet<string> _known = new(StringComparer.Ordinal);
        private long? _rv;

        public int Resumed { get; private set; }

        public int Relisted { get; private set; }

        public bool Knows(string name)
        {
            lock (_known)
            {
                return _known.Contains(name);
            }
        }

        /// <summary>Follows the server until <paramref name="stop"/> or until the server goes away.</summary>
        public async Task RunAsync(HttpClient http, CancellationToken stop)
        {
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    if (_rv is null)
                    {
                        var (names, listRv) = await ListAsync(http, stop);
                        lock (_known)
                        {
                            _known.Clear();
                            _known.UnionWith(names);
                        }
                        _rv = listRv;
                    }
                    using var response = await http.GetAsync($"{ConfigMaps}?watch=true&resourceVersion={_rv}", HttpCompletionOption.ResponseHeadersRead, stop);
                    if (response.StatusCode == HttpStatusCode.Gone)
                    {
                        Relisted++;
                        _rv = null;
                        continue;
                    }
                    response.EnsureSuccessStatusCode();
                    using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(stop));
                    var first = true;
                    while (await reader.ReadLineAsync(stop) is { } line)
                    {
                        var e = JsonNode.Parse(line)!;
                        var type = (string?)e["type"];
                        if (type == "ERROR")
                        {
                            Assert.Equal(410, (int?)e["object"]!["code"]);
                            Relisted++;
                            _rv = null;
                            break;
                        }
                        if (first)
                        {
                            Resumed++;
                            first = false;
                        }
                        var meta = e["object"]!["metadata"]!;
                        var rv = long.Parse((string)meta["resourceVersion"]!, System.Globalization.CultureInfo.InvariantCulture);
                        Assert.True(rv > _rv, $"a watch from {_rv} sent an event of {rv}");
                        lock (_known)
                        {
                            if (type == "DELETED")
                            {
                                _known.Remove((string)meta["name"]!);
                            }
                            else
                            {
                                _known.Add((string)meta["name"]!);
                            }
                        }
                        _rv = rv;
                    }
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
            {
                // Killed or stopped: the next round resumes from _rv.
            }
        }
    }

    [Fact]
    public async Task Sigterm_StopsCleanly_AndWatchesResumeAfterRestart()
    {
        string rv;
        using (var server = ServerProcess.Start(_state))
        {
            using var client = server.Client();
            await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "before" } }, "default");
            rv = (await client.CoreV1.ListNamespacedConfigMapAsync("default")).Metadata.ResourceVersion;
            Assert.Equal(0, server.Terminate(TimeSpan.FromSeconds(15)));
            Assert.Contains("podnet server: stopped", server.Stderr);
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(server.Kubeconfig));
            }
            foreach (var file in new[] { server.Kubeconfig, Path.Combine(_state, "pki", "token"), Path.Combine(_state, "pki", "ca.crt") })
            {
                Assert.NotEqual(0xEF, File.ReadAllBytes(file)[0]);
            }
        }
        using var restarted = ServerProcess.Start(_state);
        using var again = restarted.Client();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var watching = Task.Run(async () =>
        {
            await foreach (var (type, cm) in again.CoreV1.WatchListNamespacedConfigMapAsync("default", resourceVersion: rv, cancellationToken: cts.Token))
            {
                return (type, cm.Metadata.Name);
            }
            return (WatchEventType.Error, "");
        });
        await Task.Delay(300);
        await again.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "after" } }, "default");
        Assert.Equal((WatchEventType.Added, "after"), await watching);
    }
}
