using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Channels;

namespace Podnet.ApiServer.Streaming.Spdy;

/// <summary>
/// The server side of a SPDY/3.1 session over an upgraded connection: a read loop that takes
/// frames off the connection, and frame writers serialised by one lock. The peer opens streams
/// (SYN_STREAM), which this side answers with SYN_REPLY and hands out through <see cref="Streams"/>.
/// </summary>
/// <remarks>
/// Design note, flow control. SPDY/3.1 gives every stream and the session a 64 KiB window that
/// WINDOW_UPDATE reopens. kubectl's SPDY library (moby/spdystream) neither sends WINDOW_UPDATE
/// nor honours it, so a server that waited for windows would stall any output past 64 KiB.
/// This side therefore: keeps the accounts both ways; sends WINDOW_UPDATE for what has entered
/// a stream's buffer, past half a window (so a peer that does flow control never stalls); waits
/// for the peer's window only once the peer has shown it does flow control by sending a
/// WINDOW_UPDATE. Received data is never refused for exceeding a window (that would break
/// kubectl cp); memory is bounded instead by each stream's buffer: when one is full the read
/// loop stops taking frames, and TCP pushes back on the peer.
/// </remarks>
internal sealed class SpdyConnection : IAsyncDisposable
{
    private const long MaxWindow = int.MaxValue;

    private readonly Stream _transport;
    private readonly PipeReader _reader;
    private readonly SpdyLimits _limits;
    private readonly SpdyHeaderDeflater _deflater = new();
    private readonly SpdyHeaderInflater _inflater = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Lock _gate = new();
    private readonly Dictionary<uint, SpdyStream> _streams = [];
    private readonly Channel<SpdyStream> _accepted = Channel.CreateUnbounded<SpdyStream>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly CancellationTokenSource _closed = new();
    private uint _lastPeerStreamId;
    private bool _goAwaySent;
    private bool _peerGoneAway;
    private bool _peerFlowControl;
    private long _sessionSendWindow;
    private long _streamInitialSendWindow;
    private long _sessionReceivedUnacknowledged;
    private TaskCompletionSource _windowOpened = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    public SpdyConnection(Stream transport, SpdyLimits limits)
    {
        _transport = transport;
        _limits = limits;
        _reader = PipeReader.Create(transport, new StreamPipeReaderOptions(leaveOpen: true));
        _sessionSendWindow = limits.InitialWindowBytes;
        _streamInitialSendWindow = limits.InitialWindowBytes;
    }

    /// <summary>Streams the peer opened, already answered with SYN_REPLY; completes when the session ends.</summary>
    public ChannelReader<SpdyStream> Streams => _accepted.Reader;

    /// <summary>Fires when the session has ended (the peer closed, or a protocol error).</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>Why the session ended, when it was a protocol error.</summary>
    public string? Failure { get; private set; }

    /// <summary>Reads frames until the peer closes the connection, sends GOAWAY, or breaks the protocol.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var result = await _reader.ReadAtLeastAsync(SpdyFrameHeader.Size, cancellationToken).ConfigureAwait(false);
                if (result.Buffer.Length < SpdyFrameHeader.Size)
                {
                    _reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                    break;
                }
                var header = ParseHeader(result.Buffer);
                _reader.AdvanceTo(result.Buffer.GetPosition(SpdyFrameHeader.Size));
                if (header.IsControl)
                {
                    if (!await ReadControlAsync(header, cancellationToken).ConfigureAwait(false))
                    {
                        break;
                    }
                }
                else if (!await ReadDataAsync(header, cancellationToken).ConfigureAwait(false))
                {
                    break;
                }
            }
        }
        catch (SpdyProtocolException e)
        {
            Failure = e.Message;
            await TryGoAwayAsync(SpdyGoAwayStatus.ProtocolError).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
        finally
        {
            Shutdown();
        }
    }

    /// <summary>
    /// Ends the session from this side: GOAWAY, then waits (at most <paramref name="linger"/>)
    /// for the peer to close, so that nothing it still sends meets a closed socket and a reset
    /// that could discard what this side sent last.
    /// </summary>
    public async Task CloseAsync(Task readLoop, TimeSpan linger)
    {
        await TryGoAwayAsync(SpdyGoAwayStatus.Ok).ConfigureAwait(false);
        await Task.WhenAny(readLoop, Task.Delay(linger)).ConfigureAwait(false);
    }

    private static SpdyFrameHeader ParseHeader(ReadOnlySequence<byte> buffer)
    {
        Span<byte> bytes = stackalloc byte[SpdyFrameHeader.Size];
        buffer.Slice(0, SpdyFrameHeader.Size).CopyTo(bytes);
        return SpdyFrameHeader.Parse(bytes);
    }

    private async Task<bool> ReadControlAsync(SpdyFrameHeader header, CancellationToken cancellationToken)
    {
        if (header.Length > _limits.MaxControlFrameBytes)
        {
            throw new SpdyProtocolException($"a control frame of {header.Length} bytes (at most {_limits.MaxControlFrameBytes})");
        }
        byte[] payload;
        if (header.Length == 0)
        {
            payload = [];
        }
        else
        {
            var result = await _reader.ReadAtLeastAsync(header.Length, cancellationToken).ConfigureAwait(false);
            if (result.Buffer.Length < header.Length)
            {
                _reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                return false;
            }
            payload = result.Buffer.Slice(0, header.Length).ToArray();
            _reader.AdvanceTo(result.Buffer.GetPosition(header.Length));
        }
        var frame = SpdyControlParser.Parse(header, payload, _inflater, _limits);
        return await HandleControlAsync(frame).ConfigureAwait(false);
    }

    private async Task<bool> HandleControlAsync(SpdyControlFrame frame)
    {
        switch (frame)
        {
            case SynStreamFrame syn:
                await OpenAsync(syn).ConfigureAwait(false);
                break;
            case SynReplyFrame reply:
                // This side opens no streams, so there is nothing a SYN_REPLY could answer.
                await SendResetAsync(reply.StreamId, SpdyRstStatus.InvalidStream).ConfigureAwait(false);
                break;
            case HeadersFrame headers:
                if (Find(headers.StreamId) is { } target)
                {
                    if (headers.Fin)
                    {
                        target.RemoteFinished();
                    }
                }
                else
                {
                    await ResetUnknownAsync(headers.StreamId).ConfigureAwait(false);
                }
                break;
            case RstStreamFrame rst:
                if (Find(rst.StreamId) is { } reset)
                {
                    reset.Abort();
                    StreamStateChanged(reset);
                }
                break;
            case SettingsFrame settings:
                ApplySettings(settings);
                break;
            case PingFrame ping:
                // Odd ids are the client's pings, to be echoed; even ones would answer ours.
                if ((ping.Id & 1) == 1)
                {
                    await WriteAsync(SpdyFrameWriter.Ping(ping.Id), CancellationToken.None).ConfigureAwait(false);
                }
                break;
            case GoAwayFrame:
                lock (_gate)
                {
                    _peerGoneAway = true;
                }
                _accepted.Writer.TryComplete();
                break;
            case WindowUpdateFrame update:
                await WindowUpdateAsync(update).ConfigureAwait(false);
                break;
        }
        return true;
    }

    private async Task OpenAsync(SynStreamFrame syn)
    {
        SpdyStream stream;
        lock (_gate)
        {
            if (syn.StreamId == 0 || (syn.StreamId & 1) == 0)
            {
                throw new SpdyProtocolException($"SYN_STREAM with stream id {syn.StreamId}: a client's streams have odd ids");
            }
            if (syn.StreamId <= _lastPeerStreamId)
            {
                throw new SpdyProtocolException($"SYN_STREAM with stream id {syn.StreamId}, not above the last one ({_lastPeerStreamId})");
            }
            _lastPeerStreamId = syn.StreamId;
            if (_goAwaySent || _peerGoneAway)
            {
                return;
            }
            if (_streams.Count >= _limits.MaxConcurrentStreams)
            {
                stream = null!;
            }
            else
            {
                stream = new SpdyStream(this, syn.StreamId, syn.Headers, _limits, _streamInitialSendWindow);
                _streams.Add(syn.StreamId, stream);
            }
        }
        if (stream is null)
        {
            await SendResetAsync(syn.StreamId, SpdyRstStatus.RefusedStream).ConfigureAwait(false);
            return;
        }
        await WriteHeadersAsync((id, compressed) => SpdyFrameWriter.SynReply(id, compressed, fin: false), syn.StreamId, new SpdyHeaders()).ConfigureAwait(false);
        if (syn.Fin)
        {
            stream.RemoteFinished();
        }
        if ((syn.Flags & SpdyFrameHeader.FlagUnidirectional) != 0)
        {
            // A unidirectional stream carries nothing from this side.
            await stream.CloseWriteAsync().ConfigureAwait(false);
        }
        _accepted.Writer.TryWrite(stream);
    }

    private async Task<bool> ReadDataAsync(SpdyFrameHeader header, CancellationToken cancellationToken)
    {
        var stream = Find(header.StreamId);
        if (stream is null || stream.RemoteClosed)
        {
            // Data for a stream never opened, or after the peer's FIN, is an error the stream
            // answers; data in flight after a reset or a close of this side's is dropped quietly.
            if (header.StreamId > _lastPeerStreamId || stream is not null)
            {
                await SendResetAsync(header.StreamId, stream is null ? SpdyRstStatus.InvalidStream : SpdyRstStatus.StreamAlreadyClosed).ConfigureAwait(false);
            }
            stream = null;
        }
        var remaining = header.Length;
        while (remaining > 0)
        {
            var result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (result.Buffer.IsEmpty && result.IsCompleted)
            {
                return false;
            }
            var piece = result.Buffer.Slice(0, Math.Min(remaining, result.Buffer.Length));
            var length = (int)piece.Length;
            if (stream is not null && !await stream.DeliverAsync(piece, cancellationToken).ConfigureAwait(false))
            {
                stream = null;
            }
            _reader.AdvanceTo(piece.End);
            remaining -= length;
            await AcknowledgeAsync(stream, length).ConfigureAwait(false);
        }
        if (stream is not null && (header.Flags & SpdyFrameHeader.FlagFin) != 0)
        {
            stream.RemoteFinished();
        }
        return true;
    }

    /// <summary>Credits received bytes; past half a window, WINDOW_UPDATE gives them back to the peer.</summary>
    private async Task AcknowledgeAsync(SpdyStream? stream, int length)
    {
        long streamDelta = 0, sessionDelta = 0;
        lock (_gate)
        {
            _sessionReceivedUnacknowledged += length;
            if (_sessionReceivedUnacknowledged >= _limits.InitialWindowBytes / 2)
            {
                sessionDelta = _sessionReceivedUnacknowledged;
                _sessionReceivedUnacknowledged = 0;
            }
            if (stream is not null && !stream.RemoteClosed)
            {
                stream.ReceivedUnacknowledged += length;
                if (stream.ReceivedUnacknowledged >= _limits.InitialWindowBytes / 2)
                {
                    streamDelta = stream.ReceivedUnacknowledged;
                    stream.ReceivedUnacknowledged = 0;
                }
            }
        }
        if (sessionDelta > 0)
        {
            await WriteAsync(SpdyFrameWriter.WindowUpdate(0, (uint)sessionDelta), CancellationToken.None).ConfigureAwait(false);
        }
        if (streamDelta > 0)
        {
            await WriteAsync(SpdyFrameWriter.WindowUpdate(stream!.Id, (uint)streamDelta), CancellationToken.None).ConfigureAwait(false);
        }
    }

    private void ApplySettings(SettingsFrame settings)
    {
        foreach (var (_, id, value) in settings.Entries)
        {
            if (id != SettingsFrame.InitialWindowSize)
            {
                continue;
            }
            if (value > MaxWindow)
            {
                throw new SpdyProtocolException($"SETTINGS INITIAL_WINDOW_SIZE {value} is past 2^31-1");
            }
            lock (_gate)
            {
                var delta = value - _streamInitialSendWindow;
                _streamInitialSendWindow = value;
                foreach (var stream in _streams.Values)
                {
                    stream.SendWindow += delta;
                }
            }
            SignalWindow();
        }
    }

    private async Task WindowUpdateAsync(WindowUpdateFrame update)
    {
        SpdyRstStatus? reset = null;
        lock (_gate)
        {
            _peerFlowControl = true;
            if (update.StreamId == 0)
            {
                _sessionSendWindow += update.Delta;
                if (_sessionSendWindow > MaxWindow)
                {
                    throw new SpdyProtocolException("WINDOW_UPDATE opens the session window past 2^31-1");
                }
            }
            else if (_streams.TryGetValue(update.StreamId, out var stream))
            {
                stream.SendWindow += update.Delta;
                if (stream.SendWindow > MaxWindow)
                {
                    reset = SpdyRstStatus.FlowControlError;
                }
            }
        }
        SignalWindow();
        if (reset is { } status && Find(update.StreamId) is { } overflowed)
        {
            await overflowed.ResetAsync(status).ConfigureAwait(false);
        }
    }

    private void SignalWindow()
    {
        TaskCompletionSource opened;
        lock (_gate)
        {
            opened = _windowOpened;
            _windowOpened = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        opened.TrySetResult();
    }

    /// <summary>Sends <paramref name="data"/> as data frames of at most the configured size, FIN on the last if asked.</summary>
    internal async Task SendDataAsync(SpdyStream stream, ReadOnlyMemory<byte> data, bool fin, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closed.Token, stream.Aborted);
        try
        {
            do
            {
                var length = await ReserveAsync(stream, Math.Min(data.Length, _limits.MaxDataFrameBytes), linked.Token).ConfigureAwait(false);
                var last = length == data.Length;
                await WriteAsync(SpdyFrameWriter.Data(stream.Id, data.Span[..length], fin && last), linked.Token).ConfigureAwait(false);
                data = data[length..];
            }
            while (!data.IsEmpty);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"SPDY stream {stream.Id} was reset or its connection closed");
        }
    }

    /// <summary>Takes up to <paramref name="wanted"/> bytes of window; waits for one only when the peer does flow control.</summary>
    private async Task<int> ReserveAsync(SpdyStream stream, int wanted, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task opened;
            lock (_gate)
            {
                var available = Math.Min(_sessionSendWindow, stream.SendWindow);
                if (wanted == 0 || !_peerFlowControl || available > 0)
                {
                    var take = _peerFlowControl ? (int)Math.Min(wanted, available) : wanted;
                    _sessionSendWindow -= take;
                    stream.SendWindow -= take;
                    return take;
                }
                opened = _windowOpened.Task;
            }
            await opened.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Compresses a header block and writes the frame built around it, both under the write
    /// lock: the compression context must see blocks in the order they go out.</summary>
    private async Task WriteHeadersAsync(Func<uint, byte[], byte[]> build, uint streamId, SpdyHeaders headers)
    {
        await _writeLock.WaitAsync(_closed.Token).ConfigureAwait(false);
        try
        {
            var compressed = SpdyFrameWriter.Compress(_deflater, headers);
            await _transport.WriteAsync(build(streamId, compressed), _closed.Token).ConfigureAwait(false);
            await _transport.FlushAsync(_closed.Token).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task WriteAsync(byte[] frame, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _transport.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
            await _transport.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    internal async Task SendResetAsync(uint streamId, SpdyRstStatus status)
    {
        try
        {
            await WriteAsync(SpdyFrameWriter.RstStream(streamId, status), _closed.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
    }

    private async Task ResetUnknownAsync(uint streamId)
    {
        if (streamId > _lastPeerStreamId)
        {
            await SendResetAsync(streamId, SpdyRstStatus.InvalidStream).ConfigureAwait(false);
        }
    }

    private async Task TryGoAwayAsync(SpdyGoAwayStatus status)
    {
        uint last;
        lock (_gate)
        {
            if (_goAwaySent)
            {
                return;
            }
            _goAwaySent = true;
            last = _lastPeerStreamId;
        }
        try
        {
            await WriteAsync(SpdyFrameWriter.GoAway(last, status), _closed.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
    }

    private SpdyStream? Find(uint id)
    {
        lock (_gate)
        {
            return _streams.GetValueOrDefault(id);
        }
    }

    /// <summary>Forgets a stream once both sides are closed, freeing its place under the stream limit.</summary>
    internal void StreamStateChanged(SpdyStream stream)
    {
        if (stream.LocalClosed && stream.RemoteClosed)
        {
            lock (_gate)
            {
                if (_streams.TryGetValue(stream.Id, out var known) && ReferenceEquals(known, stream))
                {
                    _streams.Remove(stream.Id);
                }
            }
        }
    }

    private void Shutdown()
    {
        List<SpdyStream> open;
        lock (_gate)
        {
            open = [.. _streams.Values];
            _streams.Clear();
        }
        foreach (var stream in open)
        {
            stream.Abort();
        }
        _accepted.Writer.TryComplete();
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
        SignalWindow();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        Shutdown();
        await _reader.CompleteAsync().ConfigureAwait(false);
        await _writeLock.WaitAsync().ConfigureAwait(false);
        _deflater.Dispose();
        _inflater.Dispose();
        _writeLock.Release();
    }
}
