using System.Runtime.InteropServices;
using Podnet.Cli.Objects;

namespace Podnet.Front;

/// <summary>
/// Keeps .NET from reading the system's certificate store when the kubeconfig names the CA.
/// </summary>
/// <remarks>
/// On Linux the first TLS connection loads OpenSSL's default store into .NET's chain builder —
/// /etc/ssl/certs/ca-certificates.crt and every file of /etc/ssl/certs, about 1,000 opens and
/// 60-70 ms of CPU — even when the server is checked against the kubeconfig's own CA alone
/// (ApiClient: CustomRootTrust) and the client certificate comes whole from the kubeconfig. That
/// was most of `podnet get`'s CPU (bench/cli: user 70 ms with the store, under 10 ms without).
/// kubectl, too, trusts only the kubeconfig's CA when it names one. So, then, OpenSSL is pointed
/// at an empty store through its own variables (setenv: native code reads them with getenv).
/// They stay set only in this process: the front hands off or execs nothing after connecting.
/// With no CA in the kubeconfig the system store is the trust, and is left alone.
/// </remarks>
internal static partial class TrustStore
{
    public static void OnlyTheKubeconfigs(ApiEndpoint endpoint)
    {
        if (endpoint.SkipTlsVerify || endpoint.CaCertificates is { Count: > 0 })
        {
            setenv("SSL_CERT_FILE", "/dev/null", 1);
            setenv("SSL_CERT_DIR", "/nonexistent/podnet-no-system-store", 1);
        }
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);
}
