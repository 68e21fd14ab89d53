using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Podnet.ApiServer.Streaming.Spdy;

/// <summary>
/// The remote command protocol over SPDY streams (client-go's remotecommand, kubelet's
/// server side): the client opens one stream per channel, each with a `streamType` header —
/// error, stdin, stdout, stderr, resize — and the session starts once the set the request asked
/// for is there. How the command ended goes on the error stream: a Status as JSON in
/// v4.channel.k8s.io (Success too), the failure's message as text in the older versions.
/// </summary>
internal sealed class SpdyExecSession : IExecSession
{
    private const int MaxResizeLine = 4096;

    private readonly string _protocol;
    private readonly SpdyStream _error;
    private readonly SpdyStream? _stdin;
    private readonly SpdyStream? _stdout;
    private readonly SpdyStream? _stderr;
    private readonly Channel<TerminalSize>? _resize;
    private int _completed;

    private SpdyExecSession(string protocol, Dictionary<string, SpdyStream> streams)
    {
        _protocol = protocol;
        _error = streams["error"];
        _stdin = streams.GetValueOrDefault("stdin");
        _stdout = streams.GetValueOrDefault("stdout");
        _stderr = streams.GetValueOrDefault("stderr");
        _error.DiscardInput();
        _stdout?.DiscardInput();
        _stderr?.DiscardInput();
        if (streams.GetValueOrDefault("resize") is { } resize)
        {
            // The latest sizes matter, not every one: a slow reader loses the oldest.
            _resize = Channel.CreateBounded<TerminalSize>(new BoundedChannelOptions(8) { FullMode = BoundedChannelFullMode.DropOldest, SingleWriter = true });
            ResizeReading = ReadResizesAsync(resize, _resize.Writer);
        }
    }

    public Stream? Stdin => _stdin;

    public Stream? Stdout => _stdout;

    public Stream? Stderr => _stderr;

    public ChannelReader<TerminalSize>? Resize => _resize?.Reader;

    public bool Completed => Volatile.Read(ref _completed) != 0;

    internal Task ResizeReading { get; } = Task.CompletedTask;

    /// <summary>The stream types the client opens for this request in this sub-protocol version.</summary>
    public static HashSet<string> ExpectedStreams(ExecRequest request, string protocol)
    {
        var expected = new HashSet<string>(StringComparer.Ordinal) { "error" };
        var v1 = protocol == "channel.k8s.io";
        var resizable = protocol is "v3.channel.k8s.io" or "v4.channel.k8s.io";
        if (request.Stdin)
        {
            expected.Add("stdin");
        }
        if (request.Stdout)
        {
            expected.Add("stdout");
        }
        // From v2 on a TTY's output is all on stdout, and the client opens no stderr.
        if (request.Stderr && (v1 || !request.Tty))
        {
            expected.Add("stderr");
        }
        if (request.Tty && resizable)
        {
            expected.Add("resize");
        }
        return expected;
    }

    /// <summary>
    /// Takes the client's streams until the expected set is there. Null when the connection
    /// ended or <paramref name="token"/> fired first (kubelet's stream creation timeout).
    /// Streams of an unknown or repeated type are reset.
    /// </summary>
    public static async Task<SpdyExecSession?> AcceptAsync(SpdyConnection connection, ExecRequest request, string protocol, CancellationToken token)
    {
        var expected = ExpectedStreams(request, protocol);
        var streams = new Dictionary<string, SpdyStream>(StringComparer.Ordinal);
        try
        {
            while (streams.Count < expected.Count)
            {
                if (!await connection.Streams.WaitToReadAsync(token).ConfigureAwait(false))
                {
                    return null;
                }
                while (streams.Count < expected.Count && connection.Streams.TryRead(out var stream))
                {
                    var type = stream.Headers.Get("streamType") ?? "";
                    if (expected.Contains(type) && !streams.ContainsKey(type))
                    {
                        streams[type] = stream;
                    }
                    else
                    {
                        await stream.ResetAsync(SpdyRstStatus.RefusedStream).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        return new SpdyExecSession(protocol, streams);
    }

    public async ValueTask CompleteAsync(StreamStatus status, CancellationToken token)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return;
        }
        try
        {
            var text = _protocol == "v4.channel.k8s.io"
                ? status.ToJson().ToJsonString()
                : status.Success ? "" : status.Message ?? "error executing remote command";
            if (text.Length > 0)
            {
                await _error.WriteAsync(Encoding.UTF8.GetBytes(text), token).ConfigureAwait(false);
            }
            await _error.CloseWriteAsync(token).ConfigureAwait(false);
            if (_stdout is not null)
            {
                await _stdout.CloseWriteAsync(token).ConfigureAwait(false);
            }
            if (_stderr is not null)
            {
                await _stderr.CloseWriteAsync(token).ConfigureAwait(false);
            }
            if (_stdin is not null)
            {
                await _stdin.CloseWriteAsync(token).ConfigureAwait(false);
            }
        }
        catch (IOException)
        {
            // The client went away; there is no one left to tell.
        }
    }

    /// <summary>Reads {"Width":W,"Height":H} objects, one a line as client-go writes them; a line
    /// past the bound or not such an object ends the reading (the session goes on).</summary>
    private static async Task ReadResizesAsync(SpdyStream stream, ChannelWriter<TerminalSize> sizes)
    {
        var line = new MemoryStream();
        var buffer = new byte[512];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                for (var i = 0; i < read; i++)
                {
                    if (buffer[i] != (byte)'\n')
                    {
                        if (line.Length >= MaxResizeLine)
                        {
                            return;
                        }
                        line.WriteByte(buffer[i]);
                        continue;
                    }
                    if (ParseSize(line.ToArray()) is not { } size)
                    {
                        return;
                    }
                    sizes.TryWrite(size);
                    line.SetLength(0);
                }
            }
        }
        catch (IOException)
        {
        }
        finally
        {
            stream.DiscardInput();
            sizes.TryComplete();
        }
    }

    internal static TerminalSize? ParseSize(byte[] json)
    {
        try
        {
            if (JsonNode.Parse(json) is JsonObject size
                && size["Width"] is JsonValue width && width.TryGetValue<int>(out var w) && w is >= 0 and <= ushort.MaxValue
                && size["Height"] is JsonValue height && height.TryGetValue<int>(out var h) && h is >= 0 and <= ushort.MaxValue)
            {
                return new TerminalSize((ushort)w, (ushort)h);
            }
        }
        catch (JsonException)
        {
        }
        return null;
    }
}
