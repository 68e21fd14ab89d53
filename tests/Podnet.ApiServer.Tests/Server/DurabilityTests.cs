using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Podnet.ApiServer.Tests.Server;

public sealed class DurabilityTests : IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("podnet-durable-").FullName;

    public void Dispose() => Directory.Delete(_state, recursive: true);

    [Fact]
    public async Task KillDashNine_DuringWritesFromFourClients_KeepsEveryAcknowledgedWrite()
    {
        var acknowledged = new ConcurrentBag<(string Name, long Rv)>();
        using (var server = ServerProcess.Start(_state))
        {
            using var stop = new CancellationTokenSource();
            var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
            {
                using var client = server.Client();
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    try
                    {
                        var cm = await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
                        {
                            Metadata = new V1ObjectMeta { Name = $"w{w}-{i}" },
                            Data = new Dictionary<string, string> { ["i"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                        }, "default");
                        acknowledged.Add((cm.Metadata.Name, long.Parse(cm.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture)));
                    }
                    catch (Exception e) when (e is HttpRequestException or k8s.Autorest.HttpOperationException or TaskCanceledException or IOException)
                    {
                        // After the kill every write fails; those were never acknowledged.
                        await Task.Delay(10);
                    }
                }
            })).ToList();
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (acknowledged.Count < 200 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
            server.KillHard();
            await stop.CancelAsync();
            await Task.WhenAll(writers);
        }
        Assert.True(acknowledged.Count >= 200, $"only {acknowledged.Count} writes acknowledged before the kill");

        using var restarted = ServerProcess.Start(_state);
        using var again = restarted.Client();
        var list = await again.CoreV1.ListNamespacedConfigMapAsync("default");
        var stored = list.Items.ToDictionary(i => i.Metadata.Name);
        var lost = acknowledged.Where(a => !stored.ContainsKey(a.Name)).Select(a => a.Name).ToList();
        Assert.True(lost.Count == 0, $"lost {lost.Count} of {acknowledged.Count} acknowledged writes: {string.Join(",", lost.Take(10))}");
        var maxAcknowledged = acknowledged.Max(a => a.Rv);
        Assert.True(long.Parse(list.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture) >= maxAcknowledged);

        var next = await again.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "after-restart" } }, "default");
        Assert.True(long.Parse(next.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture) > maxAcknowledged);

        using var http = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true }) { BaseAddress = new Uri(again.BaseUri.ToString()) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", File.ReadAllText(Path.Combine(_state, "pki", "token")).Trim());
        var old = await http.GetStringAsync($"api/v1/namespaces/default/configmaps?watch=true&resourceVersion={acknowledged.Min(a => a.Rv)}");
        var error = JsonNode.Parse(old.Trim())!;
        Assert.Equal(("ERROR", 410), ((string?)error["type"], (int)error["object"]!["code"]!));
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
