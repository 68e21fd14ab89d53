using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Podnet.ApiServer.Tests.Server;

/// <summary>
/// Requests any token holder can send that used to take the server down (issue 23), sent over
/// HTTPS to the real NativeAOT process: each is refused with kube-apiserver's code while an
/// ordinary request is served, and the server, and what it stored, are still there afterwards.
/// </summary>
public sealed class HostileBodyTests : IDisposable
{
    private const string ConfigMaps = "api/v1/namespaces/default/configmaps";

    private readonly string _state = Directory.CreateTempSubdirectory("podnet-hostile-").FullName;

    public void Dispose() => Directory.Delete(_state, recursive: true);

    public static TheoryData<string, string, string> DeepBodies() => new()
    {
        { "POST", ConfigMaps, "application/yaml" },
        { "POST", "api/v1/namespaces/default/pods", "application/yaml" },
        { "POST", "apis/apps/v1/namespaces/default/deployments", "application/yaml" },
        { "POST", "api/v1/namespaces", "application/json" },
        { "PUT", $"{ConfigMaps}/kept", "application/yaml" },
        { "PATCH", $"{ConfigMaps}/kept?fieldManager=x", "application/apply-patch+yaml" },
        { "PATCH", $"{ConfigMaps}/kept", "application/merge-patch+json" },
    };

    [Theory]
    [MemberData(nameof(DeepBodies))]
    public async Task HundredThousandBrackets_Are400_WhileAnotherRequestIsServed(string method, string path, string contentType)
    {
        using var server = ServerProcess.Start(_state, controllers: "none");
        using var http = server.Http();
        await StoreKeptAsync(http);
        var hostile = SendAsync(http, method, path, new string('[', 100_000), contentType);
        var ordinary = http.GetAsync($"{ConfigMaps}/kept");
        var (code, status) = await hostile;
        Assert.Equal((HttpStatusCode.BadRequest, "BadRequest"), (code, (string?)status["reason"]));
        Assert.Contains($"depth of {Http.RequestLimits.MaxDepth}", (string?)status["message"], StringComparison.Ordinal);
        using var served = await ordinary;
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        await AssertAliveWithKeptAsync(server, http);
    }

    [Fact]
    public async Task BillionLaughs_Is400_InBoundedMemory_AndSigtermStillStopsTheServer()
    {
        using var server = ServerProcess.Start(_state, controllers: "none");
        using var http = server.Http();
        await StoreKeptAsync(http);
        var laughs = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: laughs\ndata:\n" + Unit.YamlToJsonTests.Laughs(levels: 9, fanout: 9, indent: "  ");
        var hostile = Enumerable.Range(0, 4).Select(_ => SendAsync(http, "POST", ConfigMaps, laughs, "application/yaml")).ToList();
        using (var served = await http.GetAsync($"{ConfigMaps}/kept"))
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }
        foreach (var (code, status) in await Task.WhenAll(hostile))
        {
            Assert.Equal(HttpStatusCode.BadRequest, code);
            Assert.Contains("yaml: document contains excessive aliasing", (string?)status["message"], StringComparison.Ordinal);
        }
        await AssertAliveWithKeptAsync(server, http);
        // Before the fix the server grew to 12 GB; a server is under 100 MB.
        Assert.True(server.PeakResidentBytes() < 400L * 1024 * 1024, $"peak RSS {server.PeakResidentBytes() / (1024 * 1024)} MB");
        // SIGTERM while such requests are arriving still stops it.
        var more = Enumerable.Range(0, 4).Select(_ => SendAsync(http, "POST", ConfigMaps, laughs, "application/yaml").ContinueWith(t => t.Exception, TaskScheduler.Default)).ToList();
        Assert.Equal(0, server.Terminate(TimeSpan.FromSeconds(20)));
        await Task.WhenAll(more);
    }

    [Fact]
    public async Task BodiesOverThreeMebibytes_Are413_AndObjectsOverStorageLimit_Too()
    {
        using var server = ServerProcess.Start(_state, controllers: "none");
        using var http = server.Http();
        await StoreKeptAsync(http);
        var body = ConfigMap("big", new string('x', 3 * 1024 * 1024));
        // HTTP/2, as client-go speaks to the server: the answer arrives while the body is still
        // being sent (over HTTP/1.1 the server closes the connection after answering, as Go's does).
        foreach (var declared in new[] { true, false })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, ConfigMaps) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
            request.Content = declared ? new StringContent(body, Encoding.UTF8, "application/json") : new HeldContent(body, Task.CompletedTask, declareLength: false);
            var (code, status) = await ReadAsync(await http.SendAsync(request));
            Assert.Equal((HttpStatusCode.RequestEntityTooLarge, "RequestEntityTooLarge", "Request entity too large: limit is 3145728"), (code, (string?)status["reason"], (string?)status["message"]));
        }
        // Under the body limit, over what an object may be in storage (etcd's 1.5 MiB).
        var (tooBig, why) = await SendAsync(http, "POST", ConfigMaps, ConfigMap("big", new string('x', 2 * 1024 * 1024)), "application/json");
        Assert.Equal((HttpStatusCode.RequestEntityTooLarge, "RequestEntityTooLarge"), (tooBig, (string?)why["reason"]));
        var (fits, _) = await SendAsync(http, "POST", ConfigMaps, ConfigMap("fits", new string('x', 1024 * 1024)), "application/json");
        Assert.Equal(HttpStatusCode.Created, fits);
        await AssertAliveWithKeptAsync(server, http);
    }

    [Fact]
    public async Task WritesOverTheInFlightLimit_Are429WithRetryAfter_ReadsAndWatchesAreNot()
    {
        using var server = ServerProcess.Start(_state, 0, "none", "--max-mutating-requests-inflight", "1", "--max-requests-inflight", "1");
        using var http = server.Http();
        await StoreKeptAsync(http);
        // A watch is long-running: it holds no read-only slot.
        using var watch = await http.GetAsync($"{ConfigMaps}?watch=true", HttpCompletionOption.ResponseHeadersRead);
        var release = new TaskCompletionSource();
        Task<HttpResponseMessage> Hold() => http.SendAsync(new HttpRequestMessage(HttpMethod.Post, ConfigMaps) { Content = new HeldContent(ConfigMap("held", "v"), release.Task) });
        var held = Hold();
        try
        {
            // The held write takes its slot once its headers arrive; until then another write may
            // pass — and may hold the one slot at the moment the held write arrives, which is then
            // refused itself: it is sent again.
            HttpResponseMessage refused;
            var attempt = 0;
            while ((refused = await http.PostAsync(ConfigMaps, Json(ConfigMap($"try{attempt++}", "v")))).StatusCode != HttpStatusCode.TooManyRequests)
            {
                Assert.Equal(HttpStatusCode.Created, refused.StatusCode);
                refused.Dispose();
                if (held.IsCompleted)
                {
                    if (held.IsCompletedSuccessfully)
                    {
                        using var early = await held;
                        Assert.Equal(HttpStatusCode.TooManyRequests, early.StatusCode);
                    }
                    held = Hold(); // refused (429), or its send cut short by that answer
                }
                Assert.True(attempt < 10_000, "the held write never took its slot");
            }
            var (_, status) = await ReadAsync(refused);
            Assert.Equal(["1"], refused.Headers.GetValues("Retry-After"));
            Assert.Equal(("TooManyRequests", "Too many requests, please try again later.", 1), ((string?)status["reason"], (string?)status["message"], (int?)status["details"]?["retryAfterSeconds"]));
            using var read = await http.GetAsync($"{ConfigMaps}/kept");
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }
        finally
        {
            release.SetResult();
        }
        using (var done = await held)
        {
            Assert.Equal(HttpStatusCode.Created, done.StatusCode);
        }
        using var after = await http.PostAsync(ConfigMaps, Json(ConfigMap("after", "v")));
        Assert.Equal(HttpStatusCode.Created, after.StatusCode);
        await AssertAliveWithKeptAsync(server, http);
    }

    [Fact]
    public async Task ARequestPastTheTimeout_Is504_AndAWatchIsNotCut()
    {
        using var server = ServerProcess.Start(_state, 0, "none", "--request-timeout", "1s", "--max-mutating-requests-inflight", "1");
        using var http = server.Http();
        http.Timeout = TimeSpan.FromSeconds(60);
        await StoreKeptAsync(http);
        using var watch = await http.GetAsync($"{ConfigMaps}?watch=true&resourceVersion=0", HttpCompletionOption.ResponseHeadersRead);
        using var events = new StreamReader(await watch.Content.ReadAsStreamAsync());
        Assert.Contains("\"kept\"", await events.ReadLineAsync(), StringComparison.Ordinal);
        // A body that never ends: the request outlives its second (HTTP/2, so the answer can come before the body ends).
        var never = new TaskCompletionSource();
        using var request = new HttpRequestMessage(HttpMethod.Post, ConfigMaps) { Content = new HeldContent(ConfigMap("slow", "v"), never.Task), Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        var (code, status) = await ReadAsync(await http.SendAsync(request));
        never.SetResult();
        Assert.Equal((HttpStatusCode.GatewayTimeout, "Timeout", "Timeout: request did not complete within the allotted timeout"), (code, (string?)status["reason"], (string?)status["message"]));
        // Its slot is free again (the limit is 1), and the watch, older than the timeout, still streams.
        using var created = await http.PostAsync(ConfigMaps, Json(ConfigMap("later", "v")));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        string? line;
        while ((line = await events.ReadLineAsync()) is not null && !line.Contains("\"later\"", StringComparison.Ordinal))
        {
        }
        Assert.NotNull(line);
        await AssertAliveWithKeptAsync(server, http);
    }

    private static string ConfigMap(string name, string value) =>
        new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ConfigMap", ["metadata"] = new JsonObject { ["name"] = name }, ["data"] = new JsonObject { ["v"] = value } }.ToJsonString();

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task StoreKeptAsync(HttpClient http)
    {
        using var created = await http.PostAsync(ConfigMaps, Json(ConfigMap("kept", "precious")));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    private static async Task AssertAliveWithKeptAsync(ServerProcess server, HttpClient http)
    {
        Assert.False(server.HasExited, server.Stderr);
        using var kept = await http.GetAsync($"{ConfigMaps}/kept");
        Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
        Assert.Equal("precious", (string?)JsonNode.Parse(await kept.Content.ReadAsStringAsync())!["data"]!["v"]);
    }

    private static async Task<(HttpStatusCode Code, JsonNode Status)> SendAsync(HttpClient http, string method, string path, string body, string contentType)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        return await ReadAsync(await http.SendAsync(request));
    }

    private static async Task<(HttpStatusCode Code, JsonNode Status)> ReadAsync(HttpResponseMessage response)
    {
        using (response)
        {
            return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
        }
    }

    /// <summary>A JSON body of which all but the last byte is sent at once, the last once the release task completes.</summary>
    private sealed class HeldContent : HttpContent
    {
        private readonly byte[] _body;
        private readonly Task _release;

        private readonly bool _declareLength;

        public HeldContent(string body, Task release, bool declareLength = true)
        {
            _body = Encoding.UTF8.GetBytes(body);
            _release = release;
            _declareLength = declareLength;
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(_body.AsMemory(0, _body.Length - 1));
            await stream.FlushAsync();
            await _release;
            await stream.WriteAsync(_body.AsMemory(_body.Length - 1));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _body.Length;
            return _declareLength;
        }
    }
}
