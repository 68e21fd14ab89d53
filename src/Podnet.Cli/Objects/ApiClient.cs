using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;

namespace Podnet.Cli.Objects;

/// <summary>
/// Plain HTTPS to the API server with the kubeconfig's CA and token, for the object commands,
/// which need what typed clients hide: Table responses, raw JSON, any resource. Shared with the
/// NativeAOT front (src/Podnet.Front), which reads the kubeconfig its own way; the full CLI's
/// kubeconfig loading is in ApiClient.Kubeconfig.cs.
/// </summary>
internal sealed partial class ApiClient : IDisposable
{
    public const string TableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

    private readonly HttpClient _http;

    /// <summary>A client of the server <paramref name="endpoint"/> names, with its CA, client certificate and token.</summary>
    public ApiClient(ApiEndpoint endpoint)
    {
        var ca = endpoint.CaCertificates;
        var handler = new HttpClientHandler();
        if (endpoint.ClientCertificate is { } certificate)
        {
            handler.ClientCertificates.Add(certificate);
        }
        if (endpoint.SkipTlsVerify)
        {
            handler.ServerCertificateCustomValidationCallback = (_, _, _, _) => true;
        }
        else if (ca is { Count: > 0 })
        {
            handler.ServerCertificateCustomValidationCallback = (_, certificate, chain, errors) =>
            {
                if (certificate is null || chain is null)
                {
                    return false;
                }
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(new X509Certificate2(certificate));
            };
        }
        _http = new HttpClient(handler) { BaseAddress = new Uri(endpoint.Host.TrimEnd('/') + "/") };
        if (endpoint.Token is { Length: > 0 } token)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    /// <summary>kubectl's words for a refused connection, else "error: " and what failed.</summary>
    public static string Unreachable(HttpRequestException e) =>
        e.InnerException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused }
            && e.Message.LastIndexOf('(') is > 0 and var at && e.Message.EndsWith(')')
            ? $"The connection to the server {e.Message[(at + 1)..^1]} was refused - did you specify the right host or port?"
            : $"error: {e.Message}";

    /// <summary>GETs <paramref name="path"/>; returns the status code and the body as JSON (null when not JSON).</summary>
    public async Task<(int Status, JsonNode? Body)> GetAsync(string path, string accept = "application/json", CancellationToken token = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path.TrimStart('/'));
        request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await _http.SendAsync(request, token);
        var text = await response.Content.ReadAsStringAsync(token);
        JsonNode? body = null;
        try
        {
            body = text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
        }
        return ((int)response.StatusCode, body);
    }

    /// <summary>Sends <paramref name="body"/> with <paramref name="method"/>; returns the status and the answer as JSON.</summary>
    public async Task<(int Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, JsonNode? body, string contentType = "application/json", CancellationToken token = default)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        request.Headers.TryAddWithoutValidation("Accept", "application/json");
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }
        using var response = await _http.SendAsync(request, token);
        var text = await response.Content.ReadAsStringAsync(token);
        JsonNode? answer = null;
        try
        {
            answer = text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
        }
        return ((int)response.StatusCode, answer);
    }

    /// <summary>The events of a watch on <paramref name="path"/> (which carries ?watch=true…), one JSON object a line, until the server ends it.</summary>
    public async IAsyncEnumerable<JsonNode> WatchAsync(string path, string accept, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken token = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path.TrimStart('/'));
        request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(token));
        while (await reader.ReadLineAsync(token) is { } line)
        {
            if (line.Length > 0 && JsonNode.Parse(line) is { } node)
            {
                yield return node;
            }
        }
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>Where the API server is and how to authenticate to it, as a kubeconfig's current context says.</summary>
internal sealed record ApiEndpoint(string Host, X509Certificate2Collection? CaCertificates, X509Certificate2? ClientCertificate, bool SkipTlsVerify, string? Token);
