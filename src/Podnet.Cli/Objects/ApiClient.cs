using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using k8s;
using Podnet.Cli.Commands;

namespace Podnet.Cli.Objects;

/// <summary>
/// Plain HTTPS to the API server with the kubeconfig's CA and token, for the object commands,
/// which need what typed clients hide: Table responses, raw JSON, any resource.
/// </summary>
internal sealed class ApiClient : IDisposable
{
    public const string TableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

    private readonly HttpClient _http;

    public ApiClient(string kubeconfig)
    {
        var config = KubeconfigFile.Load(kubeconfig);
        var ca = config.SslCaCerts;
        var handler = new HttpClientHandler();
        if (ClientCertificate(config) is { } certificate)
        {
            handler.ClientCertificates.Add(certificate);
        }
        if (config.SkipTlsVerify)
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
        _http = new HttpClient(handler) { BaseAddress = new Uri(config.Host.TrimEnd('/') + "/") };
        if (config.AccessToken is { Length: > 0 } token)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    /// <summary>The kubeconfig user's client certificate (inline data or files), as the API server authenticates the admin.</summary>
    private static X509Certificate2? ClientCertificate(KubernetesClientConfiguration config)
    {
        static string Text(string? data, string? file) =>
            data is { Length: > 0 } ? System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(data)) : file is { Length: > 0 } ? File.ReadAllText(file) : "";
        var certificate = Text(config.ClientCertificateData, config.ClientCertificateFilePath);
        var key = Text(config.ClientCertificateKeyData, config.ClientKeyFilePath);
        return certificate.Length > 0 && key.Length > 0 ? X509Certificate2.CreateFromPem(certificate, key) : null;
    }

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
