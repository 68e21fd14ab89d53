using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using Podnet.ApiServer.Streaming;
using Podnet.Kernel;

namespace Podnet.Agent.Kubelet;

/// <summary>
/// The kubelet's /portForward/NS/POD over WebSocket (subprotocol portforward.k8s.io), one
/// connection to one port per WebSocket: channel 0 carries data, channel 1 errors, and each
/// channel's first message is the port (two bytes, little-endian), as kubelet's WebSocket
/// port-forward sends it. The connection is made from inside the pod's network namespace to
/// localhost:PORT, as kubelet does. A message [255, 0] from the caller closes our sending side
/// to the port (a half-close, as the v5 channel protocol closes stdin).
/// </summary>
public static class PortForwarder
{
    public static async Task ServeAsync(WebSocket socket, string netns, int port, CancellationToken token)
    {
        var gate = new SemaphoreSlim(1, 1);
        async Task SendAsync(byte channel, ReadOnlyMemory<byte> data)
        {
            await gate.WaitAsync(token).ConfigureAwait(false);
            try
            {
                await socket.SendAsync(ChannelProtocol.Frame(channel, data.Span), WebSocketMessageType.Binary, true, token).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        }
        var prefix = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(prefix, (ushort)port);
        await SendAsync(PortForwardProtocol.Data, prefix).ConfigureAwait(false);
        await SendAsync(PortForwardProtocol.Error, prefix).ConfigureAwait(false);
        Socket target;
        try
        {
            using var ns = Netns.Open(netns);
            target = ns.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
            await target.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or KernelException)
        {
            await SendAsync(PortForwardProtocol.Error, System.Text.Encoding.UTF8.GetBytes($"failed to connect to localhost:{port} inside the pod's network namespace: {e.Message}")).ConfigureAwait(false);
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, token).ConfigureAwait(false);
            return;
        }
        using (target)
        {
            var fromPod = Task.Run(async () =>
            {
                var buffer = new byte[32 * 1024];
                try
                {
                    int n;
                    while ((n = await target.ReceiveAsync(buffer, token).ConfigureAwait(false)) > 0)
                    {
                        await SendAsync(PortForwardProtocol.Data, buffer.AsMemory(0, n)).ConfigureAwait(false);
                    }
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException or WebSocketException)
                {
                }
                try
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is WebSocketException or OperationCanceledException or InvalidOperationException)
                {
                }
            }, CancellationToken.None);
            var message = new MemoryStream();
            var receive = new byte[64 * 1024];
            try
            {
                while (true)
                {
                    var result = await socket.ReceiveAsync(receive, token).ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }
                    message.Write(receive, 0, result.Count);
                    if (message.Length > ChannelProtocol.MaxMessageBytes)
                    {
                        break;
                    }
                    if (!result.EndOfMessage)
                    {
                        continue;
                    }
                    var data = message.GetBuffer().AsMemory(0, (int)message.Length);
                    if (data.Length > 1 && data.Span[0] == PortForwardProtocol.Data)
                    {
                        await target.SendAsync(data[1..], token).ConfigureAwait(false);
                    }
                    else if (data.Length > 1 && data.Span[0] == ChannelProtocol.Close && data.Span[1] == PortForwardProtocol.Data)
                    {
                        target.Shutdown(SocketShutdown.Send);
                    }
                    message.SetLength(0);
                }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or WebSocketException)
            {
            }
            try
            {
                target.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
            }
            await fromPod.ConfigureAwait(false);
        }
    }
}
