using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Podnet.ApiServer.Tests.Server;
using Xunit.Abstractions;

namespace Podnet.ApiServer.Tests.Fuzz;

/// <summary>
/// Headers, paths and query strings fuzzed against the real server process (issue 23), in every
/// test run (10 s): the requests of tests/fuzz/corpus/headers, mutated — header values with
/// bytes that are not UTF-8 (sent as Latin-1, so each char is one byte on the wire), huge values
/// (past the server's header limit too), the tokens that matter to media types and selectors,
/// headers dropped, doubled or added (impersonation, front-proxy, encodings), odd methods,
/// paths and query strings with bad percent escapes. Every request must be answered in time with
/// a success or a 4xx Status naming the problem — only a request the HTTP layer itself refuses
/// (400, 414, 431) may come without one, as Go's net/http answers those in plain text — and the
/// server must still be up and serving at the end. PODNET_FUZZ_SEED replays a run,
/// PODNET_HEADER_FUZZ_SECONDS sets its length.
/// </summary>
public sealed class HeaderFuzzTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string[] Tokens =
    [
        ";", ",", "=", "\"", "*", "/", "*/*", ";q=0", ";q=1.5", ";as=Table", ";as=PartialObjectMetadata", ";g=meta.k8s.io", ";v=v1", ";v=v1beta1", ";stream=watch",
        "application/json", "application/yaml", "application/vnd.kubernetes.protobuf", "application/cbor", "text/html", "%", "%ff", "\t", " ", "system:masters", "Bearer ",
    ];

    // Latin-1 chars: one byte each on the wire, none of them valid UTF-8 where they stand.
    private static readonly string[] NotUtf8 = ["\u00ff", "\u00c3(", "\u00ed\u00a0\u0080", "\u00f4\u0090\u0080\u0080", "\u00c0\u00af", "\u0080"];

    private static readonly string[] ExtraHeaders =
    [
        "Accept", "Content-Type", "Impersonate-User", "Impersonate-Group", "Impersonate-Uid", "Impersonate-Extra-\u00ff", "Impersonate-Extra-a%ZZ", "X-Remote-User",
        "Content-Encoding", "Accept-Encoding", "Audit-ID", "If-Match", "Expect", "Origin", "Range", "Upgrade", "X-Stream-Protocol-Version", "Warning", "Authorization",
    ];

    private static readonly string[] Methods = ["GET", "HEAD", "OPTIONS", "DELETE", "PUT", "PATCH", "POST", "PROPFIND", "TRACE", "CONNECT-ISH"];

    private static readonly string[] PathBits = ["%ff", "%c3%28", "%00", "%2F", "/../", "//", "%", "?watch=false&", "?labelSelector=%ff&", "?fieldSelector=a%3D%3D%3D&", "?limit=-1&", "?continue=%ff&", "?resourceVersion=%c3&", ";x"];

    private readonly string _state = Directory.CreateTempSubdirectory("podnet-hfuzz-").FullName;

    public void Dispose() => Directory.Delete(_state, recursive: true);

    [Fact]
    public async Task MutatedHeadersPathsAndQueries_AreAnsweredClearly_AndTheServerStaysUp()
    {
        var (seed, length) = FuzzRun.Settings(output, "header fuzz", "PODNET_HEADER_FUZZ_SECONDS", 10);
        var directory = Path.Combine(Testing.RepoPaths.Root, "tests", "fuzz", "corpus", "headers");
        var corpus = Directory.GetFiles(directory, "*.txt").Order(StringComparer.Ordinal).Select(f => Parse(Path.GetFileName(f), File.ReadAllText(f))).ToList();
        Assert.True(corpus.Count >= 10, $"the corpus in {directory} has {corpus.Count} requests");

        using var server = ServerProcess.Start(_state, 0, "none", "--request-timeout", "10s");
        using var admin = server.Http();
        var token = File.ReadAllText(Path.Combine(_state, "pki", "token")).Trim();
        foreach (var body in new[] { """{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"fuzz"}}""" })
        {
            using var created = await admin.PostAsync("api/v1/namespaces", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        using (var created = await admin.PostAsync("api/v1/namespaces/fuzz/configmaps", new StringContent("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"seed"}}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        using var http = RawClient(server);

        var unsendable = 0;
        var (requests, answers, failures) = await FuzzRun.RunAsync(seed, length, server, async (random, _) =>
        {
            var fuzz = Mutate(random, corpus[random.Next(corpus.Count)]);
            using var request = Build(fuzz, token, http.BaseAddress!);
            if (request is null)
            {
                unsendable++;
                return null;
            }
            var (code, problem) = await SendAsync(http, request);
            return (fuzz.ToString(), code, problem);
        });
        output.WriteLine($"header fuzz: {requests} requests ({unsendable} the client would not send), answers {answers}");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.False(server.HasExited, server.Stderr);
        using var after = await admin.GetAsync("api/v1/namespaces/fuzz/configmaps");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    private sealed record HeaderCase(string Origin, string Method, string Path, List<(string Name, string Value)> Headers, string? Body)
    {
        public override string ToString()
        {
            var headers = string.Join(" | ", Headers.Select(h => $"{h.Name}: {(h.Value.Length > 80 ? h.Value[..80] + $"…({h.Value.Length})" : h.Value)}"));
            return $"{Method} {(Path.Length > 200 ? Path[..200] + "…" : Path)} [{headers}] from {Origin}";
        }
    }

    private static HeaderCase Parse(string name, string text)
    {
        var parts = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", 2);
        var lines = parts[0].Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var start = lines[0].Split(' ', 2);
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).Select(p => (p[0].Trim(), p[1].Trim())).ToList();
        return new HeaderCase(name, start[0], start[1], headers, parts.Length > 1 ? parts[1] : null);
    }

    private static HeaderCase Mutate(Random random, HeaderCase seed)
    {
        var headers = seed.Headers.ToList();
        var (method, path) = (seed.Method, seed.Path);
        var mutations = random.Next(1, 5);
        for (var i = 0; i < mutations; i++)
        {
            switch (random.Next(100))
            {
                case < 25 when headers.Count > 0:
                    var at = random.Next(headers.Count);
                    headers[at] = (headers[at].Name, Insert(random, headers[at].Value, NotUtf8[random.Next(NotUtf8.Length)]));
                    break;
                case < 45 when headers.Count > 0:
                    at = random.Next(headers.Count);
                    headers[at] = (headers[at].Name, Insert(random, headers[at].Value, Tokens[random.Next(Tokens.Length)]));
                    break;
                case < 55:
                    // A huge value: mostly under Kestrel's 32 KiB of headers, sometimes far past it.
                    var length = random.Next(3) == 0 ? random.Next(32_000, 200_000) : random.Next(100, 8_000);
                    var name = headers.Count > 0 && random.Next(2) == 0 ? headers[random.Next(headers.Count)].Name : ExtraHeaders[random.Next(ExtraHeaders.Length)];
                    headers.Add((name, new string((char)random.Next('a', 'z' + 1), length)));
                    break;
                case < 65 when headers.Count > 0:
                    headers.RemoveAt(random.Next(headers.Count));
                    break;
                case < 72 when headers.Count > 0:
                    headers.Add(headers[random.Next(headers.Count)]);
                    break;
                case < 82:
                    var value = random.Next(3) switch
                    {
                        0 => NotUtf8[random.Next(NotUtf8.Length)],
                        1 => Tokens[random.Next(Tokens.Length)],
                        _ => "system:masters",
                    };
                    headers.Add((ExtraHeaders[random.Next(ExtraHeaders.Length)], value));
                    break;
                case < 87:
                    method = Methods[random.Next(Methods.Length)];
                    break;
                case < 95:
                    path = Insert(random, path, PathBits[random.Next(PathBits.Length)]);
                    break;
                default:
                    path += (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "labelSelector=" + new string('a', random.Next(1_000, 70_000));
                    break;
            }
        }
        return seed with { Method = method, Path = path, Headers = headers };
    }

    private static string Insert(Random random, string text, string what)
    {
        var at = random.Next(text.Length + 1);
        return random.Next(3) == 0 ? what : text[..at] + what + text[at..];
    }

    /// <summary>The request, or null when .NET's client itself refuses to send it (a method or header name that is no token).</summary>
    private static HttpRequestMessage? Build(HeaderCase fuzz, string token, Uri server)
    {
        HttpRequestMessage request;
        try
        {
            // Absolute, so that a path the mutations began with "//" stays a path, not a host.
            request = new HttpRequestMessage(new HttpMethod(fuzz.Method), new Uri(server.GetLeftPart(UriPartial.Authority) + "/" + fuzz.Path.TrimStart('/')));
        }
        catch (Exception e) when (e is FormatException or ArgumentException or UriFormatException)
        {
            return null;
        }
        if (fuzz.Body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(fuzz.Body));
        }
        if (!fuzz.Headers.Any(h => h.Name.Equals("Authorization", StringComparison.OrdinalIgnoreCase)))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        foreach (var (name, value) in fuzz.Headers)
        {
            var real = value.Replace("TOKEN", token, StringComparison.Ordinal);
            if (!request.Headers.TryAddWithoutValidation(name, real) && !(request.Content?.Headers.TryAddWithoutValidation(name, real) ?? false))
            {
                request.Dispose();
                return null;
            }
        }
        return request;
    }

    /// <summary>A client whose header values go out as Latin-1: a char of U+0080–U+00FF is that one byte on the wire.</summary>
    private static HttpClient RawClient(ServerProcess server)
    {
        var config = k8s.KubernetesClientConfiguration.BuildConfigFromConfigFile(server.Kubeconfig);
        var ca = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(server.State, "pki", "ca.crt")));
        var handler = new SocketsHttpHandler
        {
            RequestHeaderEncodingSelector = (_, _) => Encoding.Latin1,
            SslOptions =
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    using var chain = new System.Security.Cryptography.X509Certificates.X509Chain();
                    chain.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(ca);
                    chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
                    return certificate is System.Security.Cryptography.X509Certificates.X509Certificate2 c && chain.Build(c);
                },
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri(config.Host.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(30) };
    }

    private static bool ImpersonatesWithoutUser(HttpRequestMessage request) =>
        !request.Headers.Contains("Impersonate-User")
        && request.Headers.Any(h => h.Key.StartsWith("Impersonate-", StringComparison.OrdinalIgnoreCase));

    /// <summary>Past Kestrel's request line (8 KiB) or header (32 KiB) limits.</summary>
    private static bool Oversized(HttpRequestMessage request) =>
        request.RequestUri!.PathAndQuery.Length > 8 * 1024
        || request.Headers.Concat(request.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>()).Sum(h => h.Key.Length + h.Value.Sum(v => v.Length + 4)) > 32 * 1024;

    private static async Task<(int Code, string? Problem)> SendAsync(HttpClient http, HttpRequestMessage request)
    {
        HttpResponseMessage response;
        string text;
        try
        {
            // Headers first: a request that became a watch or an upgrade is judged by its status.
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        }
        catch (TaskCanceledException)
        {
            return (0, "no answer within the timeout");
        }
        catch (HttpRequestException) when (Oversized(request))
        {
            // Refused (414 or 431) before it was all sent: the server closed while the client wrote.
            return (431, null);
        }
        catch (HttpRequestException e)
        {
            return (0, $"the request failed: {e.Message} {e.InnerException?.Message}");
        }
        using (response)
        {
            var code = (int)response.StatusCode;
            if (code < 400)
            {
                return (code, code >= 500 || code < 200 ? $"answered {code}" : null);
            }
            using var read = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                text = await response.Content.ReadAsStringAsync(read.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException)
            {
                return (code, $"answered {code} but its body never ended: {e.Message}");
            }
            if (code == 500 && (text.Contains("Internal error occurred: requested impersonation without impersonating a user", StringComparison.Ordinal)
                || (request.Method == HttpMethod.Head && ImpersonatesWithoutUser(request))))
            {
                return (code, null); // upstream's answer to Impersonate-Group/-Extra/-Uid without Impersonate-User, word for word
            }
            if (code >= 500)
            {
                return (code, $"answered {code}: {text[..Math.Min(text.Length, 500)]}");
            }
            if (text.Length == 0 && code is 400 or 414 or 431 && request.Method != HttpMethod.Head)
            {
                return (code, null); // the HTTP layer's refusal of a malformed request
            }
            if (request.Method == HttpMethod.Head || (response.Content.Headers.ContentType?.MediaType == "application/vnd.kubernetes.protobuf" && text.StartsWith("k8s\0", StringComparison.Ordinal)))
            {
                return (code, null); // no body to judge, or a Status in protobuf (asked for)
            }
            JsonNode? answer = null;
            try
            {
                answer = JsonNode.Parse(text);
            }
            catch (System.Text.Json.JsonException)
            {
            }
            if (answer is not JsonObject || (string?)answer["kind"] != "Status" || (int?)answer["code"] != code || string.IsNullOrEmpty((string?)answer["message"]))
            {
                // A client that asked for YAML gets its Status in YAML: judged by its words.
                var yaml = text.Contains("kind: Status", StringComparison.Ordinal) && text.Contains($"code: {code}", StringComparison.Ordinal) && text.Contains("message:", StringComparison.Ordinal);
                if (!yaml)
                {
                    return (code, $"answered {code} without a clear Status: {text[..Math.Min(text.Length, 300)]}");
                }
            }
            return (code, null);
        }
    }
}
