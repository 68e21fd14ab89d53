using System.IO.Pipelines;
using System.Net.WebSockets;

namespace Podnet.ApiServer.Streaming;

/// <summary>The kubelet's WebSocket port-forward protocol (one port per WebSocket here): channel 0 data, 1 error, each opened by the port in two bytes.</summary>
public static class PortForwardProtocol
{
    public const string Name = "portforward.k8s.io";
    public const byte Data = 0;
    public const byte Error = 1;
}

/// <summary>
/// One client connection forwarded through a kubelet's /portForward WebSocket: a receive loop
/// feeds <see cref="FromPod"/> from channel 0 and <see cref="Error"/> from channel 1 (each
/// after its two-byte port header); writes to <see cref="ToPod"/> are channel 0 messages, and
/// disposing it sends [255, 0], the half-close the kubelet side understands.
/// </summary>
internal sealed class KubeletPortForwardConnection : IPortForwardConnection
{
    private readonly ClientWebSocket _socket;
    private readonly Pipe _fromPod = new();
    private readonly TaskCompletionSource<string?> _error = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _send = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiving;

    public KubeletPortForwardConnection(ClientWebSocket socket, int port)
    {
        _socket = socket;
        Port = port;
        FromPod = _fromPod.Reader.AsStream();
        ToPod = new ToPodStream(this);
        _receiving = ReceiveAsync();
    }

    public int Port { get; }

    public Stream FromPod { get; }

    public Stream ToPod { get; }

    public Task<string?> Error => _error.Task;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket.Abort();
        await _receiving.ConfigureAwait(false);
        _socket.Dispose();
        _stop.Dispose();
    }

    private async ValueTask SendAsync(byte[] frame, CancellationToken token)
    {
        await _send.WaitAsync(token).ConfigureAwait(false);
        try
        {
            await _socket.SendAsync(frame, WebSocketMessageType.Binary, true, token).ConfigureAwait(false);
        }
        finally
        {
            _send.Release();
        }
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        var headerSeen = new bool[2];
        var errorText = new MemoryStream();
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer, _stop.Token).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
                message.Write(buffer, 0, result.Count);
                if (message.Length > ChannelProtocol.MaxMessageBytes)
                {
                    break;
                }
                if (!result.EndOfMessage)
                {
                    continue;
                }
                var data = message.ToArray();
                message.SetLength(0);
                if (data.Length == 0 || data[0] > PortForwardProtocol.Error)
                {
                    continue;
                }
                ReadOnlyMemory<byte> payload = data.AsMemory(1);
                if (!headerSeen[data[0]])
                {
                    headerSeen[data[0]] = true;
                    payload = payload.Length >= 2 ? payload[2..] : ReadOnlyMemory<byte>.Empty;
                }
                if (data[0] == PortForwardProtocol.Data)
                {
                    await _fromPod.Writer.WriteAsync(payload, _stop.Token).ConfigureAwait(false);
                }
                else if (errorText.Length < 64 * 1024)
                {
                    errorText.Write(payload.Span);
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
        }
        finally
        {
            await _fromPod.Writer.CompleteAsync().ConfigureAwait(false);
            _error.TrySetResult(errorText.Length > 0 ? System.Text.Encoding.UTF8.GetString(errorText.ToArray()) : null);
        }
    }

    private sealed class ToPodStream(KubeletPortForwardConnection connection) : WriteOnlyStream
    {
        private int _closed;

        protected override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken) =>
            connection.SendAsync(ChannelProtocol.Frame(PortForwardProtocol.Data, buffer.Span), cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing && Interlocked.Exchange(ref _closed, 1) == 0)
            {
                try
                {
                    connection.SendAsync([ChannelProtocol.Close, PortForwardProtocol.Data], CancellationToken.None).AsTask().GetAwaiter().GetResult();
                }
                catch (Exception e) when (e is WebSocketException or ObjectDisposedException or InvalidOperationException)
                {
                }
            }
            base.Dispose(disposing);
        }
    }
}
