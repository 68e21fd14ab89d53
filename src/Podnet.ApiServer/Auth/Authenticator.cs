using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http;
using Podnet.ApiServer.Http;

namespace Podnet.ApiServer.Auth;

/// <summary>
/// Who sent a request, as kube-apiserver's union of authenticators: a client certificate issued
/// by the cluster CA for client authentication (user = CN, groups = O), a bearer token (the
/// lab's legacy token, or a ServiceAccount JWT), else anonymous (system:anonymous in
/// system:unauthenticated). The first authenticator that succeeds wins; a request whose
/// credentials all fail is 401 Unauthorized, never anonymous (as upstream).
/// </summary>
/// <remarks>
/// The static token (STATE/pki/token, readable by root only, as a --token-auth-file entry) is
/// carried by no kubeconfig and used by no lab component; it authenticates as
/// <see cref="LegacyTokenUser"/> in system:masters. Certificates are checked once per certificate
/// (a connection presents the same one for all its requests); the check is kept, bounded.
/// </remarks>
internal sealed class Authenticator(X509Certificate2 ca, string legacyToken)
{
    public const string LegacyTokenUser = "podnet:legacy-token";

    private const int MaxRemembered = 1024;
    private const string ClientAuth = "1.3.6.1.5.5.7.3.2";

    private readonly ConcurrentDictionary<string, UserInfo?> _certificates = new(StringComparer.Ordinal);

    /// <summary>Service-account tokens (TokenAuthenticator); null until they are served.</summary>
    public Func<string, UserInfo?>? Tokens { get; init; }

    /// <summary>The user, or null when credentials were given and none of them is valid (401).</summary>
    public UserInfo? Authenticate(HttpContext context)
    {
        var tried = false;
        if (context.Connection.ClientCertificate is { } certificate)
        {
            tried = true;
            if (FromCertificate(certificate) is { } user)
            {
                return user;
            }
        }
        var header = context.Request.Headers.Authorization.ToString();
        if (header.Length > 0)
        {
            tried = true;
            if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && header[7..].Trim() is { Length: > 0 } token)
            {
                if (System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(System.Text.Encoding.UTF8.GetBytes(token), System.Text.Encoding.UTF8.GetBytes(legacyToken)))
                {
                    return UserInfo.Authenticated(LegacyTokenUser, [UserInfo.Masters]);
                }
                if (Tokens?.Invoke(token) is { } account)
                {
                    return account;
                }
            }
        }
        return tried ? null : UserInfo.AnonymousUser;
    }

    /// <summary>The answer to a request whose credentials are all invalid, as upstream's.</summary>
    public static ApiException Unauthorized() => new(401, "Unauthorized", "Unauthorized");

    private UserInfo? FromCertificate(X509Certificate2 certificate)
    {
        if (_certificates.TryGetValue(certificate.Thumbprint, out var known))
        {
            return known;
        }
        UserInfo? user = null;
        if (Pki.KubeletPki.IsIssuedBy(certificate, ca) && AllowsClientAuth(certificate) && DateTime.Now < certificate.NotAfter && DateTime.Now > certificate.NotBefore)
        {
            var name = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
            var groups = Organizations(certificate.SubjectName);
            user = string.IsNullOrEmpty(name) ? null : UserInfo.Authenticated(name, groups);
        }
        if (_certificates.Count >= MaxRemembered)
        {
            _certificates.Clear();
        }
        _certificates[certificate.Thumbprint] = user;
        return user;
    }

    private static bool AllowsClientAuth(X509Certificate2 certificate)
    {
        var usage = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        return usage is null || usage.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Any(o => o.Value == ClientAuth);
    }

    /// <summary>Every O= of the subject, in order (a certificate may carry several groups).</summary>
    private static List<string> Organizations(X500DistinguishedName subject)
    {
        var groups = new List<string>();
        foreach (var rdn in subject.EnumerateRelativeDistinguishedNames())
        {
            if (rdn.GetSingleElementType().Value == "2.5.4.10" && rdn.GetSingleElementValue() is { } value)
            {
                groups.Add(value);
            }
        }
        return groups;
    }
}
