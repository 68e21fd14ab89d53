using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Podnet.ApiServer.Streaming.Spdy;

namespace Podnet.ApiServer.Tests.Streaming;

/// <summary>
/// The client end of a SPDY session for tests, over a loopback socket pair whose other end is a
/// <see cref="SpdyConnection"/>: writes frames (raw bytes too) with its own compression context
/// and reads the server's frames back, decoded.
/// </summary>
internal sealed class SpdyTestClient : IAsyncDisposable
{
    private readonly Socket _client;
    private readonly NetworkStream _stream;
    private readonly SpdyHeaderDeflater _deflater = new();
    private readonly SpdyHeaderInflater _inflater = new();

    private SpdyTestClient(Socket client, Socket server, SpdyLimits limits)
    {
        _client = client;
        _stream = new NetworkStream(client, ownsSocket: true);
        ServerTransport = new NetworkStream(server, ownsSocket: true);
        Server = new SpdyConnection(ServerTransport, limits);
        ServerLoop = Server.RunAsync(CancellationToken.None);
    }

    public NetworkStream ServerTransport { get; }

    public SpdyConnection Server { get; }

    public Task ServerLoop { get; }

    public static async Task<SpdyTestClient> ConnectAsync(SpdyLimits? limits = null)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        var server = await listener.AcceptAsync();
        return new SpdyTestClient(client, server, limits ?? new SpdyLimits());
    }

    public Task SendRawAsync(byte[] bytes) => _stream.WriteAsync(bytes).AsTask();

    public Task OpenAsync(uint id, SpdyHeaders headers, bool fin = false) =>
        SendRawAsync(SpdyFrameWriter.SynStream(id, SpdyFrameWriter.Compress(_deflater, headers), fin));

    public Task SendDataAsync(uint id, byte[] data, bool fin = false) => SendRawAsync(SpdyFrameWriter.Data(id, data, fin));

    public void ShutdownSend() => _client.Shutdown(SocketShutdown.Send);

    /// <summary>The next frame from the server: a decoded control frame, or a data frame's (stream, flags, bytes); null at the end.</summary>
    public async Task<object?> ReadAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        var head = new byte[SpdyFrameHeader.Size];
        if (!await FillAsync(head, cts.Token))
        {
            return null;
        }
        var header = SpdyFrameHeader.Parse(head);
        var payload = new byte[header.Length];
        if (!await FillAsync(payload, cts.Token))
        {
            throw new EndOfStreamException("the server's frame was cut short");
        }
        return header.IsControl
            ? SpdyControlParser.Parse(header, payload, _inflater, new SpdyLimits())
            : new DataFrame(header.StreamId, header.Flags, payload);
    }

    /// <summary>Reads frames until one of type <typeparamref name="T"/>, skipping others (WINDOW_UPDATE, say).</summary>
    public async Task<T> ExpectAsync<T>(Func<T, bool>? match = null)
    {
        while (true)
        {
            var frame = await ReadAsync() ?? throw new EndOfStreamException($"the server closed before a {typeof(T).Name}");
            if (frame is T wanted && (match is null || match(wanted)))
            {
                return wanted;
            }
        }
    }

    private async Task<bool> FillAsync(byte[] buffer, CancellationToken token)
    {
        var at = 0;
        while (at < buffer.Length)
        {
            var read = await _stream.ReadAsync(buffer.AsMemory(at), token);
            if (read == 0)
            {
                return false;
            }
            at += read;
        }
        return true;
    }

    public static SpdyHeaders StreamType(string type) => new SpdyHeaders().Add("streamtype", type);

    public static byte[] Control(ushort type, byte flags, byte[] payload, ushort version = 3)
    {
        var frame = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, 0x80000000u | ((uint)version << 16) | type);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), ((uint)flags << 24) | (uint)payload.Length);
        payload.CopyTo(frame, 8);
        return frame;
    }

    public async ValueTask DisposeAsync()
    {
        _stream.Dispose();
        await ServerLoop.WaitAsync(TimeSpan.FromSeconds(20));
        await Server.DisposeAsync();
        ServerTransport.Dispose();
        _deflater.Dispose();
        _inflater.Dispose();
    }

    internal sealed record DataFrame(uint StreamId, byte Flags, byte[] Data)
    {
        public bool Fin => (Flags & SpdyFrameHeader.FlagFin) != 0;
    }
}
