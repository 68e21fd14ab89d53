using System.Security.Cryptography.X509Certificates;
using k8s;
using Podnet.Cli.Commands;

namespace Podnet.Cli.Objects;

/// <summary>The full CLI's way to an <see cref="ApiEndpoint"/>: KubernetesClient's kubeconfig model.</summary>
internal sealed partial class ApiClient
{
    public ApiClient(string kubeconfig)
        : this(Endpoint(KubeconfigFile.Load(kubeconfig)))
    {
    }

    private static ApiEndpoint Endpoint(KubernetesClientConfiguration config) =>
        new(config.Host, config.SslCaCerts, ClientCertificate(config), config.SkipTlsVerify, config.AccessToken);

    /// <summary>The kubeconfig user's client certificate (inline data or files), as the API server authenticates the admin.</summary>
    private static X509Certificate2? ClientCertificate(KubernetesClientConfiguration config)
    {
        static string Text(string? data, string? file) =>
            data is { Length: > 0 } ? System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(data)) : file is { Length: > 0 } ? File.ReadAllText(file) : "";
        var certificate = Text(config.ClientCertificateData, config.ClientCertificateFilePath);
        var key = Text(config.ClientCertificateKeyData, config.ClientKeyFilePath);
        return certificate.Length > 0 && key.Length > 0 ? X509Certificate2.CreateFromPem(certificate, key) : null;
    }
}
