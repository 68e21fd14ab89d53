using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace Podnet.Bench.ApiServer;

/// <summary>
/// A lean HTTPS client for the load itself (pre-serialized bodies, watch lines read as they
/// come), so that the two shared cores go to the server rather than to client-side object
/// mapping. It checks the server's certificate against the CA in the kubeconfig.
/// </summary>
internal sealed class LeanClient : IDisposable
{
    private readonly HttpClient _http;

    public LeanClient(Uri server, string caPem, string token)
    {
        var ca = X509Certificate2.CreateFromPem(caPem);
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return certificate is X509Certificate2 c && chain.Build(c);
        };
        _http = new HttpClient(handler) { BaseAddress = server, Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public async Task CreateAsync(string path, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await _http.PostAsync(path, content).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync().ConfigureAwait(false)}");
        }
    }

    /// <summary>Follows a watch, calling <paramref name="onAdded"/> with each ADDED object's name.</summary>
    public async Task WatchAsync(string path, Func<string, bool> onAdded, CancellationToken token)
    {
        using var response = await _http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, token).ConfigureAwait(false);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false), Encoding.UTF8);
        // The server writes each event as {"type":"…","object":{…,"metadata":{"name":"…",…: only
        // the type and the name are read, so that the load's own CPU stays small.
        while (await reader.ReadLineAsync(token).ConfigureAwait(false) is { } line)
        {
            if (line.StartsWith("{\"type\":\"ADDED\"", StringComparison.Ordinal) && onAdded(NameOf(line)))
            {
                return;
            }
        }
    }

    private static string NameOf(string line)
    {
        const string Marker = "\"metadata\":{\"name\":\"";
        var start = line.IndexOf(Marker, StringComparison.Ordinal);
        if (start < 0)
        {
            using var document = JsonDocument.Parse(line);
            return document.RootElement.GetProperty("object").GetProperty("metadata").GetProperty("name").GetString()!;
        }
        start += Marker.Length;
        return line[start..line.IndexOf('"', start)];
    }

    public void Dispose() => _http.Dispose();
}
