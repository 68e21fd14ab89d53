using Microsoft.AspNetCore.Http;
using Podnet.ApiServer.Http;

namespace Podnet.ApiServer.Streaming;

/// <summary>
/// Exec and attach over WebSocket with the channel protocols (kubectl 1.30+ asks for
/// v5.channel.k8s.io, and v4 before it): the request's session is a
/// <see cref="WebSocketExecSession"/>, run by the backend until the process ends or the client goes.
/// </summary>
public sealed class WebSocketTransport : IStreamTransport
{
    public bool CanServe(HttpContext context) =>
        context.WebSockets.IsWebSocketRequest && ChannelProtocol.Choose(context.WebSockets.WebSocketRequestedProtocols) is not null;

    public async Task ServeExecAsync(HttpContext context, ExecRequest request, IStreamBackend backend)
    {
        var protocol = ChannelProtocol.Choose(context.WebSockets.WebSocketRequestedProtocols)!;
        using var socket = await context.WebSockets.AcceptWebSocketAsync(protocol).ConfigureAwait(false);
        var session = new WebSocketExecSession(socket, request);
        await using (session.ConfigureAwait(false))
        {
            try
            {
                await backend.ExecAsync(request, session, session.ClientGone).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await session.CompleteAsync(StreamStatus.Error(e.Message), CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// kubectl 1.31+ port-forward over WebSocket tunnels SPDY inside it
    /// (SPDY/3.1+portforward.k8s.io), which the SPDY transport serves; this one does not.
    /// </summary>
    public Task ServePortForwardAsync(HttpContext context, PortForwardRequest request, IStreamBackend backend) =>
        throw ApiException.BadRequest("port-forward over the channel WebSocket protocols is not supported; use SPDY or the SPDY/3.1+portforward.k8s.io tunnel");
}
