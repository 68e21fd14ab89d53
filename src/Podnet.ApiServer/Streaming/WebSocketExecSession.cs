using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Threading.Channels;

namespace Podnet.ApiServer.Streaming;

/// <summary>
/// The server's side of an exec or attach over a channel-protocol WebSocket (v4/v5.channel.k8s.io),
/// as an <see cref="IExecSession"/>: the API server's transport and the kubelet API both serve
/// their clients with it.
/// </summary>
/// <remarks>
/// One receive loop demultiplexes the client's messages into stdin (a pipe, ended by v5's close
/// of channel 0 or by the client going away) and resize; sends are one at a time, as a WebSocket
/// allows, each write one message, so output reaches the client as the process writes it.
/// <see cref="ClientGone"/> fires when the client disconnects, so the process can be stopped.
/// </remarks>
public sealed class WebSocketExecSession : IExecSession, IAsyncDisposable
{
    private readonly WebSocket _socket;
    private readonly SemaphoreSlim _send = new(1, 1);
    private readonly Pipe _stdin = new();
    private readonly Channel<TerminalSize> _resize = Channel.CreateBounded<TerminalSize>(new BoundedChannelOptions(4) { FullMode = BoundedChannelFullMode.DropOldest });
    private readonly CancellationTokenSource _gone = new();
    private readonly Task _receiving;
    private int _completed;

    public WebSocketExecSession(WebSocket socket, ExecRequest request)
    {
        _socket = socket;
        Stdin = request.Stdin ? _stdin.Reader.AsStream() : null;
        Stdout = request.Stdout ? new ChannelWriteStream(this, ChannelProtocol.Stdout) : null;
        Stderr = request.Stderr && !request.Tty ? new ChannelWriteStream(this, ChannelProtocol.Stderr) : null;
        Resize = request.Tty ? _resize.Reader : null;
        _receiving = ReceiveAsync();
    }

    public Stream? Stdin { get; }

    public Stream? Stdout { get; }

    public Stream? Stderr { get; }

    public ChannelReader<TerminalSize>? Resize { get; }

    /// <summary>Cancelled when the client has gone (closed or broke the connection).</summary>
    public CancellationToken ClientGone => _gone.Token;

    public async ValueTask CompleteAsync(StreamStatus status, CancellationToken token)
    {
        if (Interlocked.Exchange(ref _completed, 1) == 1)
        {
            return;
        }
        try
        {
            await SendAsync(ChannelProtocol.Error, System.Text.Encoding.UTF8.GetBytes(status.ToJson().ToJsonString()), token).ConfigureAwait(false);
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            // the client is gone: nothing to tell it
        }
        await Task.WhenAny(_receiving, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None)).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _gone.CancelAsync().ConfigureAwait(false);
        _socket.Abort();
        await _receiving.ConfigureAwait(false);
        _gone.Dispose();
        _send.Dispose();
    }

    internal async ValueTask SendAsync(byte channel, ReadOnlyMemory<byte> data, CancellationToken token)
    {
        var frame = ChannelProtocol.Frame(channel, data.Span);
        await _send.WaitAsync(token).ConfigureAwait(false);
        try
        {
            await _socket.SendAsync(frame, WebSocketMessageType.Binary, endOfMessage: true, token).ConfigureAwait(false);
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
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer, _gone.Token).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
                message.Write(buffer, 0, result.Count);
                if (message.Length > ChannelProtocol.MaxMessageBytes)
                {
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.MessageTooBig, $"message over {ChannelProtocol.MaxMessageBytes} bytes", CancellationToken.None).ConfigureAwait(false);
                    break;
                }
                if (!result.EndOfMessage)
                {
                    continue;
                }
                var data = message.ToArray();
                message.SetLength(0);
                if (data.Length > 0)
                {
                    await DispatchAsync(data[0], data.AsMemory(1)).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
        }
        finally
        {
            await _stdin.Writer.CompleteAsync().ConfigureAwait(false);
            _resize.Writer.TryComplete();
            if (Volatile.Read(ref _completed) == 0)
            {
                await _gone.CancelAsync().ConfigureAwait(false); // gone before the end: stop the process
            }
        }
    }

    private async ValueTask DispatchAsync(byte channel, ReadOnlyMemory<byte> data)
    {
        switch (channel)
        {
            case ChannelProtocol.Stdin when Stdin is not null:
                await _stdin.Writer.WriteAsync(data, _gone.Token).ConfigureAwait(false);
                break;
            case ChannelProtocol.Resize when Resize is not null:
                try
                {
                    _resize.Writer.TryWrite(ChannelProtocol.ParseResize(data.Span));
                }
                catch (FormatException)
                {
                    // kubelet ignores a resize it cannot read; so does this
                }
                break;
            case ChannelProtocol.Close when data.Length > 0 && data.Span[0] == ChannelProtocol.Stdin:
                await _stdin.Writer.CompleteAsync().ConfigureAwait(false);
                break;
        }
    }

    /// <summary>Writes to one output channel: each write is one message.</summary>
    private sealed class ChannelWriteStream(WebSocketExecSession session, byte channel) : WriteOnlyStream
    {
        protected override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken) =>
            session.SendAsync(channel, buffer, cancellationToken);
    }
}
