using System.Buffers;
using System.IO.Pipelines;

namespace Podnet.ApiServer.Streaming.Spdy;

/// <summary>
/// One stream of a <see cref="SpdyConnection"/>, opened by the peer: its SYN_STREAM headers, and
/// a duplex <see cref="Stream"/> over it. Reading returns what the peer sent, 0 once it sent FIN;
/// writing sends data frames; <see cref="CloseWriteAsync"/> (or disposing) sends FIN, which is a
/// half-close: the peer may still send. <see cref="Aborted"/> fires when the peer resets the
/// stream or the connection ends.
/// </summary>
internal sealed class SpdyStream : Stream
{
    private readonly SpdyConnection _connection;
    private readonly Pipe _inbound;
    private readonly Stream _input;
    private readonly CancellationTokenSource _aborted = new();
    private int _localClosed;
    private int _remoteClosed;
    private int _inputDiscarded;

    internal SpdyStream(SpdyConnection connection, uint id, SpdyHeaders headers, SpdyLimits limits, long sendWindow)
    {
        _connection = connection;
        Id = id;
        Headers = headers;
        SendWindow = sendWindow;
        _inbound = new Pipe(new PipeOptions(
            pauseWriterThreshold: limits.StreamBufferBytes,
            resumeWriterThreshold: limits.StreamBufferBytes / 2,
            useSynchronizationContext: false));
        _input = _inbound.Reader.AsStream();
    }

    public uint Id { get; }

    public SpdyHeaders Headers { get; }

    public CancellationToken Aborted => _aborted.Token;

    internal bool LocalClosed => Volatile.Read(ref _localClosed) != 0;

    internal bool RemoteClosed => Volatile.Read(ref _remoteClosed) != 0;

    /// <summary>Bytes this side may still send before the peer's window is spent (guarded by the connection's lock).</summary>
    internal long SendWindow { get; set; }

    /// <summary>Bytes taken in since the last WINDOW_UPDATE this side sent (guarded by the connection's lock).</summary>
    internal long ReceivedUnacknowledged { get; set; }

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => _input.Read(buffer, offset, count);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _input.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _input.ReadAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (LocalClosed)
        {
            throw new IOException($"SPDY stream {Id} is closed for writing");
        }
        if (buffer.Length > 0)
        {
            await _connection.SendDataAsync(this, buffer, fin: false, cancellationToken).ConfigureAwait(false);
        }
    }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Sends FIN (once): this side sends nothing more on the stream.</summary>
    public async Task CloseWriteAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _localClosed, 1) == 0)
        {
            try
            {
                await _connection.SendDataAsync(this, ReadOnlyMemory<byte>.Empty, fin: true, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _connection.StreamStateChanged(this);
            }
        }
    }

    /// <summary>Ends the stream both ways with RST_STREAM.</summary>
    public async Task ResetAsync(SpdyRstStatus status)
    {
        var wasOpen = Interlocked.Exchange(ref _localClosed, 1) == 0 | Interlocked.Exchange(ref _remoteClosed, 1) == 0;
        // The reader side, not the writer: only the connection's read loop writes the pipe.
        DiscardInput();
        if (wasOpen)
        {
            await _connection.SendResetAsync(Id, status).ConfigureAwait(false);
        }
        _connection.StreamStateChanged(this);
    }

    /// <summary>This side will not read the stream: whatever the peer still sends is dropped, so
    /// that an unread stream never holds the connection's reader back.</summary>
    public void DiscardInput()
    {
        Interlocked.Exchange(ref _inputDiscarded, 1);
        _inbound.Reader.Complete();
    }

    /// <summary>Takes in one piece of a data frame; false when this side no longer reads the stream.</summary>
    internal async ValueTask<bool> DeliverAsync(ReadOnlySequence<byte> data, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _inputDiscarded) != 0 || RemoteClosed)
        {
            return false;
        }
        foreach (var segment in data)
        {
            _inbound.Writer.Write(segment.Span);
        }
        try
        {
            var flushed = await _inbound.Writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            return !flushed.IsCompleted;
        }
        catch (InvalidOperationException)
        {
            // The writer was completed by a reset meanwhile.
            return false;
        }
    }

    /// <summary>The peer sent FIN.</summary>
    internal void RemoteFinished()
    {
        Interlocked.Exchange(ref _remoteClosed, 1);
        _inbound.Writer.Complete();
        _connection.StreamStateChanged(this);
    }

    /// <summary>The peer reset the stream, or the connection ended: both sides are closed.</summary>
    internal void Abort()
    {
        Interlocked.Exchange(ref _localClosed, 1);
        Interlocked.Exchange(ref _remoteClosed, 1);
        _inbound.Writer.Complete();
        try
        {
            _aborted.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        try
        {
            await CloseWriteAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
        }
        catch (OperationCanceledException)
        {
        }
        DiscardInput();
        GC.SuppressFinalize(this);
    }
}
