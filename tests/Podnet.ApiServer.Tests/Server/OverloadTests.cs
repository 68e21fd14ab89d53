using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Podnet.ApiServer.Tests.Server;

/// <summary>
/// Issue 23's overload: 50 clients hammering list and watch of 200 pods on the real server
/// process, whose read-only in-flight limit is set low enough (10) that they contend for it.
/// Every answer is the list, or kube-apiserver's 429 with Retry-After (which the clients honour,
/// as client-go does); every client is served in the end; a node agent's watch opened before
/// the storm stays live (each pod bound to its node meanwhile reaches it); the server does not
/// crash, and its memory stays bounded (the in-flight limit bounds how many lists it renders
/// at once; watches are in no limit and cost only their queue).
/// </summary>
[Collection(OverloadTests.Alone)]
public sealed class OverloadTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    /// <summary>
    /// The storm takes both cores: run alone, not beside other test classes (a fuzz run beside
    /// it got 9 answers in 10 s and timed out in a fresh-clone run).
    /// </summary>
    public const string Alone = "alone: overload";

    private const string Pods = "api/v1/namespaces/default/pods";
    private const int Clients = 50;
    private const int PodCount = 200;
    private readonly string _state = Directory.CreateTempSubdirectory("podnet-overload-").FullName;

    public void Dispose() => Directory.Delete(_state, recursive: true);

    [Fact]
    public async Task FiftyClients_ListingAndWatchingTwoHundredPods_GetAnswersOr429_AndAnAgentsWatchStaysLive()
    {
        using var server = ServerProcess.Start(_state, 0, "none", "--max-requests-inflight", "10");
        // Writes and the agent's reads during the storm may wait: the contract is an answer, not
        // its speed (a fresh-clone run saw a create take over 30 s there; see the note).
        using var admin = server.Http();
        admin.Timeout = TimeSpan.FromSeconds(120);
        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var i = w; i < PodCount; i += 4)
            {
                await CreatePodAsync(admin, $"p{i}", $"n{i % 3}");
            }
        })));

        // The agent of node n1, as Podnet's agent watches: its pods, from the list's version.
        using var agent = server.Http();
        agent.Timeout = TimeSpan.FromSeconds(120);
        using var agentList = await agent.GetAsync($"{Pods}?fieldSelector=spec.nodeName%3Dn1");
        var agentRv = (string)JsonNode.Parse(await agentList.Content.ReadAsStringAsync())!["metadata"]!["resourceVersion"]!;
        using var agentWatch = await agent.GetAsync($"{Pods}?watch=true&fieldSelector=spec.nodeName%3Dn1&resourceVersion={agentRv}", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, agentWatch.StatusCode);
        var agentSaw = new ConcurrentDictionary<string, bool>();
        var agentReading = Task.Run(async () =>
        {
            using var reader = new StreamReader(await agentWatch.Content.ReadAsStreamAsync());
            while (await reader.ReadLineAsync() is { } line)
            {
                agentSaw[(string)JsonNode.Parse(line)!["object"]!["metadata"]!["name"]!] = true;
            }
        });

        var baseline = server.PeakResidentBytes();
        var answers = new ConcurrentDictionary<HttpStatusCode, int>();
        var odd = new ConcurrentBag<string>();
        var served = new int[Clients];
        var reconnects = 0;
        // As client-go does for a GET: a connection cut (EOF, reset) before an answer is tried
        // again, a few times; counted and printed.
        async Task<HttpResponseMessage> GetAsync(HttpClient http, string uri, HttpCompletionOption option)
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    return await http.GetAsync(uri, option);
                }
                catch (HttpRequestException) when (attempt < 5)
                {
                    Interlocked.Increment(ref reconnects);
                    await Task.Delay(TimeSpan.FromSeconds(1));
                }
            }
        }
        var storm = Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
        {
            using var http = server.Http();
            http.Timeout = TimeSpan.FromSeconds(120);
            for (var round = 0; round < 4; round++)
            {
                // A list, again after each 429 as long as the server says to wait.
                while (true)
                {
                    using var response = await GetAsync(http, Pods, HttpCompletionOption.ResponseContentRead);
                    answers.AddOrUpdate(response.StatusCode, 1, (_, n) => n + 1);
                    var body = await response.Content.ReadAsStringAsync();
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        var count = JsonNode.Parse(body)!["items"]!.AsArray().Count;
                        if (count < PodCount)
                        {
                            odd.Add($"client {c}: a list of {count} pods");
                        }
                        served[c]++;
                        break;
                    }
                    var status = JsonNode.Parse(body)!;
                    if (response.StatusCode != HttpStatusCode.TooManyRequests || (string?)status["reason"] != "TooManyRequests"
                        || !response.Headers.TryGetValues("Retry-After", out var after) || after.Single() != "1")
                    {
                        odd.Add($"client {c}: {(int)response.StatusCode} {body}");
                        break;
                    }
                    await Task.Delay(TimeSpan.FromSeconds(1));
                }
                // A watch from 0 (every pod as ADDED), read to its 200th event, then closed.
                using var watch = await GetAsync(http, $"{Pods}?watch=true&resourceVersion=0", HttpCompletionOption.ResponseHeadersRead);
                answers.AddOrUpdate(watch.StatusCode, 1, (_, n) => n + 1);
                if (watch.StatusCode != HttpStatusCode.OK)
                {
                    odd.Add($"client {c}: a watch answered {(int)watch.StatusCode}");
                    continue;
                }
                using var events = new StreamReader(await watch.Content.ReadAsStreamAsync());
                for (var e = 0; e < PodCount; e++)
                {
                    if (await events.ReadLineAsync() is null)
                    {
                        odd.Add($"client {c}: a watch ended after {e} events");
                        break;
                    }
                }
            }
        })).ToList();

        // Meanwhile pods are bound to n1: the agent's watch must bring every one.
        var bound = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            await CreatePodAsync(admin, $"late{i}", "n1");
            bound.Add($"late{i}");
        }
        await Task.WhenAll(storm);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (bound.Any(b => !agentSaw.ContainsKey(b)) && DateTime.UtcNow < deadline && !agentReading.IsCompleted)
        {
            await Task.Delay(50);
        }
        var peak = server.PeakResidentBytes();

        Assert.False(server.HasExited, server.Stderr);
        var tally = string.Join(", ", answers.OrderBy(a => a.Key).Select(a => $"{(int)a.Key}: {a.Value}"));
        output.WriteLine($"answers {tally}; {reconnects} GETs tried again after a cut connection; peak RSS {peak >> 20} MiB, {baseline >> 20} MiB before the storm");
        Assert.True(odd.IsEmpty, $"answers {tally}; odd ones:\n{string.Join("\n", odd.Take(10))}");
        Assert.All(served, s => Assert.Equal(4, s));
        // Only its own node's new pods, every one of them (the list before the watch had the rest).
        Assert.Equal(bound.Order(StringComparer.Ordinal), agentSaw.Keys.Order(StringComparer.Ordinal));
        // The server starts near 60 MB and 10 lists at once of ~400 kB each are a few MB more;
        // a bound far above that, far below what 50 unbounded lists and their copies would take.
        Assert.True(peak < 300L * 1024 * 1024, $"peak RSS {peak >> 20} MiB (before the storm {baseline >> 20} MiB); answers {tally}");
        using var health = await admin.GetAsync("readyz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    private static async Task CreatePodAsync(HttpClient http, string name, string node)
    {
        var pod = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { ["app"] = "overload" } },
            ["spec"] = new JsonObject
            {
                ["nodeName"] = node,
                ["containers"] = new JsonArray(new JsonObject
                {
                    ["name"] = "c",
                    ["image"] = "registry.k8s.io/e2e-test-images/agnhost:2.53",
                    ["args"] = new JsonArray("netexec", "--http-port=8080"),
                    ["ports"] = new JsonArray(new JsonObject { ["containerPort"] = 8080 }),
                }),
            },
        };
        using var response = await http.PostAsync(Pods, new StringContent(pod.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"creating pod {name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}

/// <summary>Tests in this collection run with no other test class beside them.</summary>
[CollectionDefinition(OverloadTests.Alone, DisableParallelization = true)]
public sealed class OverloadAloneCollection;
