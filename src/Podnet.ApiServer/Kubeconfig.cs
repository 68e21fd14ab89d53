using System.Text;
using Podnet.ApiServer.Pki;

namespace Podnet.ApiServer;

/// <summary>The admin kubeconfig: the CA inline, the bearer token, one context; mode 0600, written atomically.</summary>
internal static class Kubeconfig
{
    public static void Write(string path, Uri server, string caPem, string token)
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
                token: {token}
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
