using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;
using Podnet.ApiServer.Http;

namespace Podnet.ApiServer.Streaming.Spdy;

/// <summary>
/// The HTTP/1.1 upgrade to SPDY/3.1 as kube-apiserver and kubelet answer it: the client offers
/// `Connection: Upgrade`, `Upgrade: SPDY/3.1` and its sub-protocols in `X-Stream-Protocol-Version`
/// (most preferred first); the first of them this server speaks is chosen and the answer is
/// 101 Switching Protocols with the same three headers. No common sub-protocol is 403 with the
/// server's list in `X-Accepted-Stream-Protocol-Versions`.
/// </summary>
internal static class SpdyHandshake
{
    public const string Upgrade = "SPDY/3.1";
    public const string ProtocolHeader = "X-Stream-Protocol-Version";
    public const string AcceptedHeader = "X-Accepted-Stream-Protocol-Versions";

    /// <summary>Remote command sub-protocols, newest first.</summary>
    public static readonly string[] RemoteCommandProtocols = ["v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"];

    public static readonly string[] PortForwardProtocols = ["portforward.k8s.io"];

    /// <summary>Whether the request asks for SPDY/3.1 through an HTTP/1.1 upgrade.</summary>
    public static bool IsSpdyUpgrade(HttpRequest request) =>
        Tokens(request.Headers.Upgrade).Contains(Upgrade, StringComparer.OrdinalIgnoreCase)
        && Tokens(request.Headers.Connection).Contains("Upgrade", StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Negotiates and switches protocols. Returns the upgraded connection and the sub-protocol,
    /// or null after answering the request with an error Status.
    /// </summary>
    public static async Task<(Stream Transport, string Protocol)?> AcceptAsync(HttpContext context, string[] serverProtocols)
    {
        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        if (upgrade is null || !upgrade.IsUpgradableRequest)
        {
            await FailAsync(context, 400, "BadRequest", "unable to upgrade: SPDY/3.1 needs an HTTP/1.1 request with Connection: Upgrade and no body").ConfigureAwait(false);
            return null;
        }
        var offered = Tokens(context.Request.Headers[ProtocolHeader]).ToList();
        if (offered.Count == 0)
        {
            await FailAsync(context, 400, "BadRequest", $"unable to upgrade: {ProtocolHeader} is required").ConfigureAwait(false);
            return null;
        }
        var chosen = offered.FirstOrDefault(p => serverProtocols.Contains(p, StringComparer.Ordinal));
        if (chosen is null)
        {
            context.Response.Headers[AcceptedHeader] = new StringValues(serverProtocols);
            await FailAsync(context, 403, "Forbidden",
                $"unable to upgrade: unable to negotiate protocol: client supports [{string.Join(" ", offered)}], server accepts [{string.Join(" ", serverProtocols)}]").ConfigureAwait(false);
            return null;
        }
        context.Response.Headers.Connection = "Upgrade";
        context.Response.Headers.Upgrade = Upgrade;
        context.Response.Headers[ProtocolHeader] = chosen;
        var transport = await upgrade.UpgradeAsync().ConfigureAwait(false);
        return (transport, chosen);
    }

    private static IEnumerable<string> Tokens(StringValues values) =>
        values.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));

    private static Task FailAsync(HttpContext context, int code, string reason, string message) =>
        Bodies.WriteAsync(context.Response, code, ApiException.Status(code, reason, message, null));
}
