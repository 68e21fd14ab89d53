using System.Text;
using Podnet.ApiServer.Pki;

namespace Podnet.ApiServer;

/// <summary>The admin kubeconfig: the CA inline, the bearer token, one context; mode 0600, written atomically.</summary>
internal static class Kubeconfig
{
    public static void Write(string path, Uri server, string caPem, string token) => WriteUser(path, server, caPem, $"token: {token}");

    /// <summary>A kubeconfig whose user authenticates with a client certificate of the cluster CA.</summary>
    public static void WriteWithCertificate(string path, Uri server, string caPem, string certificatePem, string keyPem) =>
        WriteUser(path, server, caPem, $"client-certificate-data: {Base64(certificatePem)}\n    client-key-data: {Base64(keyPem)}");

    private static string Base64(string pem) => Convert.ToBase64String(Encoding.UTF8.GetBytes(pem));

    private static void WriteUser(string path, Uri server, string caPem, string credential)
    {
        var ca = Convert.ToBase64String(Encoding.UTF8.GetBytes(caPem));
        var text = $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: podnet
              cluster:
                server: {server.GetLeftPart(UriPartial.Authority)}
                certificate-authority-data: {ca}
            users:
            - name: podnet-admin
              user:
                {credential}
            contexts:
            - name: podnet
              context:
                cluster: podnet
                user: podnet-admin
                namespace: default
            current-context: podnet

            """;
        Certificates.WriteSecret(path, text);
    }
}
