using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Podnet.ApiServer.Pki;

/// <summary>
/// The server's CA, serving certificate and bearer token, made at first start and kept in
/// STATE/pki so that kubeconfigs and in-cluster files stay valid across restarts. The
/// serving certificate is remade (by the same CA) when the addresses it must name change.
/// </summary>
internal sealed class Certificates
{
    private Certificates(string caPem, X509Certificate2 serving, string token)
    {
        CaPem = caPem;
        Serving = serving;
        Token = token;
    }

    public string CaPem { get; }

    public X509Certificate2 Serving { get; }

    public string Token { get; }

    public static Certificates LoadOrCreate(string directory, IReadOnlyList<IPAddress> addresses, IReadOnlyList<string> names)
    {
        Directory.CreateDirectory(directory);
        var caCert = Path.Combine(directory, "ca.crt");
        var caKey = Path.Combine(directory, "ca.key");
        if (!File.Exists(caCert) || !File.Exists(caKey))
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=podnet-ca", key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
            using var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(10));
            WriteSecret(caKey, key.ExportPkcs8PrivateKeyPem());
            WriteSecret(caCert, ca.ExportCertificatePem());
        }
        var caPem = File.ReadAllText(caCert);
        using var authority = X509Certificate2.CreateFromPem(caPem, File.ReadAllText(caKey));
        var servingCert = Path.Combine(directory, "server.crt");
        var servingKey = Path.Combine(directory, "server.key");
        var sans = Path.Combine(directory, "server.sans");
        var wanted = string.Join(",", addresses.Select(a => a.ToString()).Concat(names));
        if (!File.Exists(servingCert) || !File.Exists(servingKey) || !File.Exists(sans) || File.ReadAllText(sans) != wanted)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=kube-apiserver", key, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            foreach (var address in addresses)
            {
                san.AddIpAddress(address);
            }
            foreach (var name in names)
            {
                san.AddDnsName(name);
            }
            request.CertificateExtensions.Add(san.Build());
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
            var serial = RandomNumberGenerator.GetBytes(16);
            serial[0] &= 0x7f;
            using var issued = request.Create(authority, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(5), serial);
            WriteSecret(servingKey, key.ExportPkcs8PrivateKeyPem());
            WriteSecret(servingCert, issued.ExportCertificatePem() + "\n" + caPem);
            WriteSecret(sans, wanted);
        }
        var tokenFile = Path.Combine(directory, "token");
        if (!File.Exists(tokenFile))
        {
            WriteSecret(tokenFile, Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant());
        }
        var serving = X509Certificate2.CreateFromPem(File.ReadAllText(servingCert), File.ReadAllText(servingKey));
        return new Certificates(caPem, serving, File.ReadAllText(tokenFile).Trim());
    }

    /// <summary>Writes a file readable by its owner only, atomically (temp file, then rename).</summary>
    public static void WriteSecret(string path, string content)
    {
        var temp = path + ".tmp";
        File.Delete(temp);
        var mode = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            mode.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var writer = new StreamWriter(temp, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false), mode))
        {
            writer.Write(content);
            writer.Flush();
            ((FileStream)writer.BaseStream).Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }
}
