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

    /// <summary>A create; with <paramref name="protobuf"/> the body is protobuf and so is the answer (Accept), as client-go's default.</summary>
    public async Task CreateAsync(string path, byte[] body, bool protobuf = false)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(protobuf ? ProtobufBodies.MediaType : "application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.Accept.ParseAdd(protobuf ? ProtobufBodies.MediaType + ", application/json" : "application/json");
        using var response = await _http.SendAsync(request).ConfigureAwait(false);
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

    /// <summary>Follows a protobuf watch (4-byte big-endian length, WatchEvent envelope), calling <paramref name="onAdded"/> with each ADDED object's name.</summary>
    public async Task WatchProtobufAsync(string path, Func<string, bool> onAdded, CancellationToken token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd(ProtobufBodies.MediaType);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token).ConfigureAwait(false);
        using var stream = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
        var length = new byte[4];
        while (true)
        {
            await stream.ReadExactlyAsync(length, token).ConfigureAwait(false);
            var frame = new byte[System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(length)];
            await stream.ReadExactlyAsync(frame, token).ConfigureAwait(false);
            var (type, name) = ProtobufBodies.Event(frame);
            if (type == "ADDED" && onAdded(name))
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
