using Podnet.Front;

namespace Podnet.Front.Tests;

/// <summary>The front's kubeconfig reader: the current context's server and credentials, or null for what it leaves to the full CLI.</summary>
public sealed class KubeconfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pn-front-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string text)
    {
        var path = Path.Combine(_dir, "kubeconfig");
        File.WriteAllText(path, text);
        return path;
    }

    private static string Config(string user, string current = "a", string cluster = "    server: https://127.0.0.1:6443\n    insecure-skip-tls-verify: true\n") =>
        "apiVersion: v1\nkind: Config\ncurrent-context: " + current + "\n" +
        "contexts:\n- name: b\n  context: {cluster: other, user: u}\n- name: a\n  context:\n    cluster: c\n    user: u\n" +
        "clusters:\n- name: other\n  cluster:\n    server: https://10.0.0.1\n- name: c\n  cluster:\n" + cluster +
        "users:\n- name: u\n  user:\n" + user;

    [Fact]
    public void Reads_the_current_contexts_server_and_token()
    {
        var endpoint = Kubeconfig.Load(Write(Config("    token: abc\n")));
        Assert.NotNull(endpoint);
        Assert.Equal(("https://127.0.0.1:6443", true, "abc"), (endpoint.Host, endpoint.SkipTlsVerify, endpoint.Token));
        Assert.Null(endpoint.ClientCertificate);
        Assert.Equal("https://127.0.0.1:6443", Kubeconfig.Server(Path.Combine(_dir, "kubeconfig")));
    }

    [Fact]
    public void Reads_a_ca_and_a_client_certificate_from_files_beside_the_kubeconfig()
    {
        using var key = System.Security.Cryptography.ECDsa.Create();
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=admin", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(Path.Combine(_dir, "ca.crt"), certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_dir, "admin.crt"), certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_dir, "admin.key"), key.ExportPkcs8PrivateKeyPem());
        var endpoint = Kubeconfig.Load(Write(Config("    client-certificate: admin.crt\n    client-key: admin.key\n", cluster: "    server: https://127.0.0.1:6443\n    certificate-authority: ca.crt\n")));
        Assert.NotNull(endpoint);
        Assert.Equal("CN=admin", endpoint.ClientCertificate?.Subject);
        Assert.True(endpoint.ClientCertificate?.HasPrivateKey);
        Assert.Single(endpoint.CaCertificates!);
        Assert.False(endpoint.SkipTlsVerify);
    }

    [Fact]
    public void Leaves_what_it_does_not_know_to_the_full_cli()
    {
        Assert.Null(Kubeconfig.Load(Write(Config("    exec:\n      command: aws\n"))));
        Assert.Null(Kubeconfig.Load(Write(Config("    tokenFile: /t\n"))));
        Assert.Null(Kubeconfig.Load(Write(Config("    token: abc\n", current: "missing"))));
        Assert.Null(Kubeconfig.Load(Write(Config("    token: abc\n", cluster: "    server: https://x\n    proxy-url: http://p\n"))));
        Assert.Null(Kubeconfig.Load(Write("{}")));
        Assert.Null(Kubeconfig.Load(Path.Combine(_dir, "none")));
    }
}
