using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Podnet.ApiServer.Http;

namespace Podnet.ApiServer.Streaming.Spdy;

/// <summary>
/// pods/exec, pods/attach and pods/portforward over SPDY/3.1, the only transport of kubectl
/// 1.27–1.29 exec and 1.27–1.30 port-forward (and the fallback of the later ones): the upgrade
/// (<see cref="SpdyHandshake"/>), the session (<see cref="SpdyConnection"/>), then the remote
/// command (<see cref="SpdyExecSession"/>) or port-forward (<see cref="SpdyPortForward"/>)
/// protocol over its streams, with the backend doing the rest. kubectl 1.31+ port-forward
/// tunnels the same SPDY session through a WebSocket (sub-protocol
/// SPDY/3.1+portforward.k8s.io, SPDY's bytes in binary messages, no inner handshake), which
/// this transport serves too.
/// </summary>
public sealed class SpdyTransport : IStreamTransport
{
    /// <summary>How long the client has to open the streams a request needs (kubelet's default).</summary>
    public TimeSpan StreamCreationTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a finished session waits for the client to close the connection after GOAWAY.</summary>
    public TimeSpan CloseLinger { get; init; } = TimeSpan.FromSeconds(5);

    internal SpdyLimits Limits { get; init; } = new();

    /// <summary>The WebSocket sub-protocol of SPDY tunnelled for port-forward.</summary>
    public const string PortForwardTunnel = "SPDY/3.1+portforward.k8s.io";

    public bool CanServe(HttpContext context) => SpdyHandshake.IsSpdyUpgrade(context.Request) || IsTunnel(context);

    private static bool IsTunnel(HttpContext context) =>
        context.WebSockets.IsWebSocketRequest && context.WebSockets.WebSocketRequestedProtocols.Contains(PortForwardTunnel, StringComparer.Ordinal);

    public async Task ServeExecAsync(HttpContext context, ExecRequest request, IStreamBackend backend)
    {
        if (!SpdyHandshake.IsSpdyUpgrade(context.Request))
        {
            throw ApiException.BadRequest($"the {PortForwardTunnel} WebSocket tunnel carries port-forward only");
        }
        if (await SpdyHandshake.AcceptAsync(context, SpdyHandshake.RemoteCommandProtocols).ConfigureAwait(false) is not { } upgraded)
        {
            return;
        }
        await using var connection = new SpdyConnection(upgraded.Transport, Limits);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var readLoop = connection.RunAsync(stop.Token);
        try
        {
            SpdyExecSession? session;
            using (var creation = CancellationTokenSource.CreateLinkedTokenSource(stop.Token))
            {
                creation.CancelAfter(StreamCreationTimeout);
                session = await SpdyExecSession.AcceptAsync(connection, request, upgraded.Protocol, creation.Token).ConfigureAwait(false);
            }
            if (session is null)
            {
                return;
            }
            var extra = RefuseFurtherStreamsAsync(connection, stop.Token);
            using (var running = CancellationTokenSource.CreateLinkedTokenSource(stop.Token, connection.Closed))
            {
                try
                {
                    await backend.ExecAsync(request, session, running.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException || !running.IsCancellationRequested)
                {
                    await session.CompleteAsync(StreamStatus.Error(e.Message), running.Token).ConfigureAwait(false);
                }
                if (!session.Completed)
                {
                    await session.CompleteAsync(StreamStatus.Error("the session ended without a status"), running.Token).ConfigureAwait(false);
                }
            }
            await connection.CloseAsync(readLoop, CloseLinger).ConfigureAwait(false);
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(extra, session.ResizeReading).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await readLoop.ConfigureAwait(false);
        }
    }

    public async Task ServePortForwardAsync(HttpContext context, PortForwardRequest request, IStreamBackend backend)
    {
        Stream transport;
        if (IsTunnel(context) && !SpdyHandshake.IsSpdyUpgrade(context.Request))
        {
            // .NET refuses a sub-protocol with a '/' (not an RFC 6455 token) when it makes the
            // WebSocket, after the 101 is out; so the header is set here and the WebSocket made
            // without one.
            context.Response.Headers.SecWebSocketProtocol = PortForwardTunnel;
            var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext()).ConfigureAwait(false);
            transport = WebSocketStream.Create(socket, WebSocketMessageType.Binary, ownsWebSocket: true);
        }
        else if (await SpdyHandshake.AcceptAsync(context, SpdyHandshake.PortForwardProtocols).ConfigureAwait(false) is { } upgraded)
        {
            transport = upgraded.Transport;
        }
        else
        {
            return;
        }
        await using var tunnel = transport.ConfigureAwait(false);
        await using var connection = new SpdyConnection(transport, Limits);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var readLoop = connection.RunAsync(stop.Token);
        try
        {
            // Streams keep coming until the client closes the connection, which ends the channel.
            await new SpdyPortForward(connection, request, backend, StreamCreationTimeout).RunAsync(stop.Token).ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await readLoop.ConfigureAwait(false);
        }
    }

    /// <summary>Streams opened after the session started have no place in it.</summary>
    private static async Task RefuseFurtherStreamsAsync(SpdyConnection connection, CancellationToken token)
    {
        try
        {
            await foreach (var stream in connection.Streams.ReadAllAsync(token).ConfigureAwait(false))
            {
                await stream.ResetAsync(SpdyRstStatus.RefusedStream).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
