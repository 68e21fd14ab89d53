using System.Net;
using System.Text.Json.Nodes;
using Podnet.ApiServer.Tests.Server;
using Xunit.Abstractions;

namespace Podnet.ApiServer.Tests.Fuzz;

/// <summary>
/// A time-bounded random run over the body corpus against the real server process, in every CI
/// run: no crash, no hang (each request answered within the server's timeout and a margin), a
/// success or a clear 4xx Status each time, and every object stored still served by GET and
/// list afterwards, and again after a restart. PODNET_FUZZ_SEED replays a run (the seed is printed, and named in every
/// failure); PODNET_FUZZ_SECONDS sets its length (default 30, at most 60 by default).
/// </summary>
public sealed class BodyFuzzTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan ServerTimeout = TimeSpan.FromSeconds(10);

    private readonly string _state = Directory.CreateTempSubdirectory("podnet-fuzz-").FullName;

    public void Dispose() => Directory.Delete(_state, recursive: true);

    [Fact]
    public async Task MutatedBodies_AreAnsweredClearly_AndEveryStoredObjectStaysReadable()
    {
        var (seed, length) = FuzzRun.Settings(output, "fuzz", "PODNET_FUZZ_SECONDS", 30);
        var directory = Path.Combine(Testing.RepoPaths.Root, "tests", "fuzz", "corpus", "apiserver");
        var corpus = Directory.GetFiles(directory).Order(StringComparer.Ordinal).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToList();
        Assert.True(corpus.Count >= 20, $"the corpus in {directory} has {corpus.Count} bodies");
        var mutator = new BodyMutator(corpus);

        using var server = ServerProcess.Start(_state, 0, "none", "--request-timeout", "10s");
        using var http = server.Http();
        http.Timeout = ServerTimeout + TimeSpan.FromSeconds(20);
        await SeedAsync(http, corpus);

        var (requests, answers, failures) = await FuzzRun.RunAsync(seed, length, server, async (random, iteration) =>
        {
            var fuzz = mutator.Next(random, iteration);
            var (code, problem) = await SendAsync(http, fuzz);
            return (fuzz.ToString(), code, problem);
        });
        output.WriteLine($"fuzz: {requests} requests, answers {answers}");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        var stored = await AssertEverythingReadableAsync(http, seed);
        Assert.False(server.HasExited, server.Stderr);

        // And after a restart, which reads every object back from the database.
        Assert.Equal(0, server.Terminate(TimeSpan.FromSeconds(20)));
        using var restarted = ServerProcess.Start(_state, 0, "none");
        using var again = restarted.Http();
        Assert.Equal(stored, await AssertEverythingReadableAsync(again, seed));
    }

    /// <summary>The objects replaces and patches aim at: each resource's basic body, named "seed".</summary>
    private static async Task SeedAsync(HttpClient http, List<(string Name, byte[] Body)> corpus)
    {
        using (var ns = await http.PostAsync("api/v1/namespaces", new StringContent("""{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"fuzz"}}""", System.Text.Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.Created, ns.StatusCode);
        }
        // The widgets' CRD first (its name is fixed: plural.group), so that widgets are served.
        foreach (var resource in BodyMutator.Resources.Prepend("customresourcedefinitions"))
        {
            var (name, body) = corpus.First(c => c.Name.StartsWith(resource + ".basic.", StringComparison.Ordinal));
            var text = System.Text.Encoding.UTF8.GetString(body).Replace("NAME", "seed", StringComparison.Ordinal);
            using var created = await http.PostAsync(BodyMutator.Collection(resource), new StringContent(text, System.Text.Encoding.UTF8, name.EndsWith(".yaml", StringComparison.Ordinal) ? "application/yaml" : "application/json"));
            Assert.True(created.StatusCode == HttpStatusCode.Created, $"{name}: {await created.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>The code, and what is wrong with the answer (null when it is a success or a clear client error).</summary>
    private static async Task<(int Code, string? Problem)> SendAsync(HttpClient http, FuzzCase fuzz)
    {
        using var request = new HttpRequestMessage(new HttpMethod(fuzz.Method), fuzz.Path) { Content = new ByteArrayContent(fuzz.Body) };
        if (fuzz.ContentType.Length > 0)
        {
            request.Content.Headers.TryAddWithoutValidation("Content-Type", fuzz.ContentType);
        }
        HttpResponseMessage response;
        string text;
        try
        {
            response = await http.SendAsync(request);
            text = await response.Content.ReadAsStringAsync();
        }
        catch (TaskCanceledException)
        {
            return (0, "no answer within the timeout");
        }
        catch (HttpRequestException) when (fuzz.Body.Length > Http.RequestLimits.MaxRequestBodyBytes)
        {
            // A body over the limit is answered 413 before it is read; the client may still be sending it.
            return (413, null);
        }
        catch (HttpRequestException e)
        {
            return (0, $"the request failed: {e.Message} {e.InnerException?.Message}");
        }
        using (response)
        {
            var code = (int)response.StatusCode;
            JsonNode? answer = null;
            try
            {
                answer = JsonNode.Parse(text, documentOptions: Http.Bodies.StoredJson);
            }
            catch (System.Text.Json.JsonException)
            {
            }
            if (code >= 500 || code < 200 || code is >= 300 and < 400)
            {
                return (code, $"answered {code}: {text[..Math.Min(text.Length, 500)]}");
            }
            if (answer is not JsonObject)
            {
                return (code, $"answered {code} with a body that is no JSON object: {text[..Math.Min(text.Length, 200)]}");
            }
            if (code >= 400 && ((string?)answer["kind"] != "Status" || (int?)answer["code"] != code || string.IsNullOrEmpty((string?)answer["message"])))
            {
                return (code, $"answered {code} without a clear Status: {text[..Math.Min(text.Length, 300)]}");
            }
            return (code, null);
        }
    }

    /// <summary>Lists and gets every object of the fuzzed resources; returns their names.</summary>
    private static async Task<List<string>> AssertEverythingReadableAsync(HttpClient http, int seed)
    {
        var names = new List<string>();
        foreach (var resource in BodyMutator.Resources.Append("namespaces").Append("customresourcedefinitions"))
        {
            var collection = BodyMutator.Collection(resource);
            using var list = await http.GetAsync(collection);
            var text = await list.Content.ReadAsStringAsync();
            Assert.True(list.StatusCode == HttpStatusCode.OK, $"seed {seed}: list {collection}: {(int)list.StatusCode} {text}");
            var items = JsonNode.Parse(text, documentOptions: Http.Bodies.StoredJson)!["items"]!.AsArray();
            foreach (var item in items)
            {
                var name = (string)item!["metadata"]!["name"]!;
                var path = $"{collection}/{Uri.EscapeDataString(name)}";
                names.Add(path);
                using var get = await http.GetAsync(path);
                var body = await get.Content.ReadAsStringAsync();
                Assert.True(get.StatusCode == HttpStatusCode.OK && JsonNode.Parse(body, documentOptions: Http.Bodies.StoredJson) is JsonObject, $"seed {seed}: GET {path}: {(int)get.StatusCode} {body[..Math.Min(body.Length, 300)]}");
            }
        }
        return names;
    }
}
