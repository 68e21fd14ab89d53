using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Podnet.ApiServer.Auth;

/// <summary>
/// Client certificates of the cluster CA, as kubeadm issues them: the subject's CN is the user
/// and each O a group (the admin kubeconfig's is CN=kubernetes-admin, O=system:masters). Kept in
/// STATE/pki/NAME.crt and NAME.key and issued again when the subject wanted changes or the
/// certificate is within a month of its end.
/// </summary>
public static class ClientCertificates
{
    /// <summary>The admin kubeconfig's user, in system:masters.</summary>
    public const string AdminUser = "kubernetes-admin";

    /// <summary>The controllers' user, bound by upstream's bootstrap policy (and podnet:controllers).</summary>
    public const string ControllersUser = "system:kube-controller-manager";

    /// <summary>The PEM certificate and key of DIR/NAME, issued by the CA in <paramref name="caDirectory"/> if missing or for another subject.</summary>
    public static (string CertificatePem, string KeyPem) LoadOrIssue(string directory, string name, string caDirectory, string user, IReadOnlyList<string> groups)
    {
        Directory.CreateDirectory(directory);
        var certPath = Path.Combine(directory, name + ".crt");
        var keyPath = Path.Combine(directory, name + ".key");
        var subject = new X500DistinguishedNameBuilder();
        foreach (var group in groups)
        {
            subject.AddOrganizationName(group);
        }
        subject.AddCommonName(user);
        var wanted = subject.Build();
        if (File.Exists(certPath) && File.Exists(keyPath))
        {
            using var existing = X509Certificate2.CreateFromPem(File.ReadAllText(certPath));
            if (existing.SubjectName.RawData.AsSpan().SequenceEqual(wanted.RawData) && existing.NotAfter > DateTime.Now.AddDays(30))
            {
                return (File.ReadAllText(certPath), File.ReadAllText(keyPath));
            }
        }
        using var authority = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(caDirectory, "ca.crt")), File.ReadAllText(Path.Combine(caDirectory, "ca.key")));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(wanted, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var issued = request.Create(authority, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(1), serial);
        var keyPem = key.ExportPkcs8PrivateKeyPem();
        var certPem = issued.ExportCertificatePem();
        Pki.Certificates.WriteSecret(keyPath, keyPem);
        Pki.Certificates.WriteSecret(certPath, certPem);
        return (certPem, keyPem);
    }

    /// <summary>
    /// TLS that asks for a client certificate without requiring one (anonymous and bearer-token
    /// callers have none); the Authenticator checks it against the CA, so TLS accepts any here.
    /// The handshake may take 32 s, kube-apiserver's ReadHeaderTimeout, within which Go's server
    /// reads a handshake; Kestrel's own default is 10 s, and 50 clients connecting at once on two
    /// busy cores saw handshakes cut (OverloadTests).
    /// </summary>
    public static HttpsConnectionAdapterOptions Https(X509Certificate2 serving) => new()
    {
        ServerCertificate = serving,
        HandshakeTimeout = TimeSpan.FromSeconds(32),
        ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.AllowCertificate,
        ClientCertificateValidation = (_, _, _) => true,
        CheckCertificateRevocation = false,
    };
}
