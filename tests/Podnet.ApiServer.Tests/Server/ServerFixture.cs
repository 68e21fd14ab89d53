using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using k8s;

namespace Podnet.ApiServer.Tests.Server;

/// <summary>
/// A real server on 127.0.0.1 with a free port and a temporary state directory, stopped and
/// removed when the test class is done (also when its tests fail).
/// </summary>
public class ServerFixture : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("podnet-api-").FullName;

    public ApiServerHost Host { get; private set; } = null!;

    public Kubernetes Client { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    protected virtual int WatchWindow => 100_000;

    public async Task InitializeAsync()
    {
        Host = await ApiServerHost.StartAsync(new ApiServerOptions
        {
            StateDirectory = _directory,
            Port = 0,
            BindAddresses = [IPAddress.Loopback],
            WatchWindow = WatchWindow,
            BookmarkInterval = TimeSpan.FromMilliseconds(500),
        });
        Client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(Host.KubeconfigPath));
        Http = CreateHttpClient(Host);
    }

    public static HttpClient CreateHttpClient(ApiServerHost host) => CreateHttpClient(host.Url, host.CaPem, host.Token);

    /// <summary>A client that trusts only the server's CA and sends its token.</summary>
    public static HttpClient CreateHttpClient(Uri url, string caPem, string token, X509Certificate2? clientCertificate = null)
    {
        var ca = X509Certificate2.CreateFromPem(caPem);
        var handler = new HttpClientHandler
        {
            ClientCertificateOptions = ClientCertificateOption.Manual,
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
            {
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return certificate is not null && chain.Build(certificate);
            },
        };
        if (clientCertificate is not null)
        {
            handler.ClientCertificates.Add(clientCertificate);
        }
        var http = new HttpClient(handler) { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        Http?.Dispose();
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }
        Directory.Delete(_directory, recursive: true);
    }
}

/// <summary>A server whose watch window holds only a few changes, to reach 410 Expired quickly.</summary>
public sealed class SmallWindowFixture : ServerFixture
{
    protected override int WatchWindow => 5;
}
