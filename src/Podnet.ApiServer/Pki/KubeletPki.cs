using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Podnet.ApiServer.Pki;

/// <summary>
/// The certificates of the API server's connections to kubelets, both issued by the cluster's
/// CA (STATE/pki/ca.crt and ca.key): the API server's client certificate
/// (CN <see cref="ApiServerClientName"/>, as kubeadm names it), and each kubelet's serving
/// certificate naming the node's addresses. A kubelet trusts a caller only with a client
/// certificate of that name from that CA; the API server trusts a kubelet only with a serving
/// certificate from that CA naming the address it dialled.
/// </summary>
public static class KubeletPki
{
    public const string ApiServerClientName = "kube-apiserver-kubelet-client";

    /// <summary>
    /// Loads DIR/NAME.crt and NAME.key, or issues them from the CA in <paramref name="caDirectory"/>
    /// when missing or made for other names (kept in DIR/NAME.sans).
    /// </summary>
    public static X509Certificate2 LoadOrIssue(string directory, string name, string caDirectory, string commonName, IReadOnlyList<IPAddress> addresses, IReadOnlyList<string> dnsNames, bool serverAuth)
    {
        Directory.CreateDirectory(directory);
        var certPath = Path.Combine(directory, name + ".crt");
        var keyPath = Path.Combine(directory, name + ".key");
        var sansPath = Path.Combine(directory, name + ".sans");
        var wanted = string.Join(",", addresses.Select(a => a.ToString()).Concat(dnsNames).Prepend(commonName));
        if (!File.Exists(certPath) || !File.Exists(keyPath) || !File.Exists(sansPath) || File.ReadAllText(sansPath) != wanted)
        {
            using var authority = LoadAuthority(caDirectory);
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest(serverAuth ? $"CN={commonName}" : $"CN={commonName}, O=system:masters", key, HashAlgorithmName.SHA256);
            if (addresses.Count + dnsNames.Count > 0)
            {
                var san = new SubjectAlternativeNameBuilder();
                foreach (var address in addresses)
                {
                    san.AddIpAddress(address);
                }
                foreach (var dns in dnsNames)
                {
                    san.AddDnsName(dns);
                }
                request.CertificateExtensions.Add(san.Build());
            }
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(serverAuth ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
            var serial = RandomNumberGenerator.GetBytes(16);
            serial[0] &= 0x7f;
            using var issued = request.Create(authority, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(5), serial);
            Certificates.WriteSecret(keyPath, key.ExportPkcs8PrivateKeyPem());
            Certificates.WriteSecret(certPath, issued.ExportCertificatePem());
            Certificates.WriteSecret(sansPath, wanted);
        }
        return X509Certificate2.CreateFromPem(File.ReadAllText(certPath), File.ReadAllText(keyPath));
    }

    /// <summary>The CA certificate alone (what callers verify against).</summary>
    public static X509Certificate2 LoadCaCertificate(string caDirectory) =>
        X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(caDirectory, "ca.crt")));

    /// <summary>
    /// Whether <paramref name="certificate"/> was issued by <paramref name="ca"/> (alone as the
    /// trust anchor, no system roots, no revocation lookups: the lab has no network beyond).
    /// </summary>
    public static bool IsIssuedBy(X509Certificate2 certificate, X509Certificate2 ca)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    private static X509Certificate2 LoadAuthority(string caDirectory)
    {
        var cert = Path.Combine(caDirectory, "ca.crt");
        var key = Path.Combine(caDirectory, "ca.key");
        if (!File.Exists(cert) || !File.Exists(key))
        {
            throw new FileNotFoundException($"the cluster CA is not in {caDirectory} (ca.crt and ca.key)");
        }
        return X509Certificate2.CreateFromPem(File.ReadAllText(cert), File.ReadAllText(key));
    }
}
