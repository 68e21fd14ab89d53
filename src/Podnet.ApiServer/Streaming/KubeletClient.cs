using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;

namespace Podnet.ApiServer.Streaming;

/// <summary>
/// The API server's connections to kubelet APIs: HTTPS with the API server's client certificate
/// (<see cref="Pki.KubeletPki"/>), trusting only serving certificates of the cluster CA that name
/// the address dialled, over sockets from <see cref="ApiServerOptions.KubeletSocket"/> (in the
/// lab, made inside the control-plane namespace where the nodes are).
/// </summary>
public sealed class KubeletClient : IDisposable
{
    private readonly SocketsHttpHandler _handler;
    private readonly X509Certificate2 _ca;

    public KubeletClient(X509Certificate2 clientCertificate, X509Certificate2 ca, Func<AddressFamily, Socket>? socket)
    {
        _ca = ca;
        _handler = new SocketsHttpHandler
        {
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [clientCertificate],
                // Always this one, whatever issuers the kubelet lists (or none).
                LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate,
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                    (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None
                    && certificate is X509Certificate2 served && Pki.KubeletPki.IsIssuedBy(served, _ca),
            },
            ConnectCallback = async (context, token) =>
            {
                var endpoint = context.DnsEndPoint;
                var address = IPAddress.Parse(endpoint.Host);
                var s = socket?.Invoke(address.AddressFamily) ?? new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    s.NoDelay = true;
                    await s.ConnectAsync(new IPEndPoint(address, endpoint.Port), token).ConfigureAwait(false);
                    return new NetworkStream(s, ownsSocket: true);
                }
                catch
                {
                    s.Dispose();
                    throw;
                }
            },
        };
        Http = new HttpClient(_handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public HttpClient Http { get; }

    /// <summary>Opens a channel-protocol WebSocket (v5) to a kubelet URL.</summary>
    public async Task<ClientWebSocket> ConnectWebSocketAsync(Uri url, string protocol, CancellationToken token)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(protocol);
        socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(30);
        try
        {
            using var invoker = new HttpMessageInvoker(_handler, disposeHandler: false);
            await socket.ConnectAsync(url, invoker, token).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Http.Dispose();
        _handler.Dispose();
        _ca.Dispose();
    }
}
