using System.Text;
using Podnet.ApiServer.Streaming.Spdy;
using static Podnet.ApiServer.Tests.Streaming.SpdyTestClient;

namespace Podnet.ApiServer.Tests.Streaming;

public sealed class SpdyConnectionTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task OpenedStream_IsRepliedTo_AndCarriesDataBothWays_WithHalfCloses()
    {
        await using var client = await ConnectAsync();
        await client.OpenAsync(1, StreamType("stdin").Add("port", "80"));
        var reply = await client.ExpectAsync<SynReplyFrame>();
        Assert.Equal(1u, reply.StreamId);
        var stream = await client.Server.Streams.ReadAsync().AsTask().WaitAsync(Wait);
        Assert.Equal(("stdin", "80"), (stream.Headers.Get("streamType"), stream.Headers.Get("port")));

        await client.SendDataAsync(1, Encoding.ASCII.GetBytes("hello"), fin: true);
        using var reader = new StreamReader(stream);
        Assert.Equal("hello", await reader.ReadToEndAsync().WaitAsync(Wait));

        await stream.WriteAsync(Encoding.ASCII.GetBytes("back"));
        await stream.CloseWriteAsync();
        var data = await client.ExpectAsync<DataFrame>();
        Assert.Equal(("back", false), (Encoding.ASCII.GetString(data.Data), data.Fin));
        var fin = await client.ExpectAsync<DataFrame>();
        Assert.True(fin.Fin);
        Assert.Empty(fin.Data);
        await Assert.ThrowsAsync<IOException>(() => stream.WriteAsync(new byte[1]).AsTask());
    }

    [Fact]
    public async Task Ping_FromTheClient_IsEchoed()
    {
        await using var client = await ConnectAsync();
        await client.SendRawAsync(SpdyFrameWriter.Ping(7));
        Assert.Equal(7u, (await client.ExpectAsync<PingFrame>()).Id);
    }

    [Fact]
    public async Task StreamsPastTheLimit_AreRefused_AndAClosedOneFreesItsPlace()
    {
        await using var client = await ConnectAsync(new SpdyLimits { MaxConcurrentStreams = 2 });
        await client.OpenAsync(1, StreamType("a"));
        await client.OpenAsync(3, StreamType("b"));
        await client.OpenAsync(5, StreamType("c"));
        var refused = await client.ExpectAsync<RstStreamFrame>();
        Assert.Equal((5u, (uint)SpdyRstStatus.RefusedStream), (refused.StreamId, refused.Status));

        var first = await client.Server.Streams.ReadAsync().AsTask().WaitAsync(Wait);
        await client.SendDataAsync(1, [], fin: true);
        await first.CloseWriteAsync();
        Assert.Equal(0, await first.ReadAsync(new byte[1]).AsTask().WaitAsync(Wait));
        await client.OpenAsync(7, StreamType("d"));
        Assert.Equal(7u, (await client.ExpectAsync<SynReplyFrame>(r => r.StreamId == 7)).StreamId);
    }

    [Fact]
    public async Task StreamIdGoingBackwards_EndsTheSessionWithGoAwayProtocolError()
    {
        await using var client = await ConnectAsync();
        await client.OpenAsync(5, StreamType("a"));
        await client.OpenAsync(3, StreamType("b"));
        var goAway = await client.ExpectAsync<GoAwayFrame>();
        Assert.Equal((5u, (uint)SpdyGoAwayStatus.ProtocolError), (goAway.LastGoodStreamId, goAway.Status));
        await client.ServerLoop.WaitAsync(Wait);
        Assert.Contains("not above the last one", client.Server.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HeaderBlockThatIsNotZlib_EndsTheSession()
    {
        await using var client = await ConnectAsync();
        var payload = new byte[10 + 6];
        payload[3] = 1;
        Encoding.ASCII.GetBytes("abcdef").CopyTo(payload, 10);
        await client.SendRawAsync(Control(1, 0, payload));
        Assert.Equal((uint)SpdyGoAwayStatus.ProtocolError, (await client.ExpectAsync<GoAwayFrame>()).Status);
        await client.ServerLoop.WaitAsync(Wait);
    }

    [Fact]
    public async Task ControlFrameTooLarge_EndsTheSession_WithoutWaitingForItsBytes()
    {
        await using var client = await ConnectAsync();
        // The header claims 16 MiB; none of it is sent.
        await client.SendRawAsync([0x80, 3, 0, 4, 0, 0xFF, 0xFF, 0xFF]);
        Assert.Equal((uint)SpdyGoAwayStatus.ProtocolError, (await client.ExpectAsync<GoAwayFrame>()).Status);
        await client.ServerLoop.WaitAsync(Wait);
        Assert.Contains("control frame of 16777215 bytes", client.Server.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DataForAStreamNeverOpened_IsAnsweredWithInvalidStream()
    {
        await using var client = await ConnectAsync();
        await client.SendDataAsync(9, [1, 2, 3]);
        var reset = await client.ExpectAsync<RstStreamFrame>();
        Assert.Equal((9u, (uint)SpdyRstStatus.InvalidStream), (reset.StreamId, reset.Status));
        await client.SendRawAsync(SpdyFrameWriter.Ping(1));
        await client.ExpectAsync<PingFrame>();
    }

    [Fact]
    public async Task ResetByTheClient_AbortsTheStream()
    {
        await using var client = await ConnectAsync();
        await client.OpenAsync(1, StreamType("data"));
        var stream = await client.Server.Streams.ReadAsync().AsTask().WaitAsync(Wait);
        await client.SendRawAsync(SpdyFrameWriter.RstStream(1, SpdyRstStatus.Cancel));
        await Task.Delay(Timeout.Infinite, stream.Aborted).ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(Wait);
        Assert.Equal(0, await stream.ReadAsync(new byte[1]).AsTask().WaitAsync(Wait));
        await Assert.ThrowsAsync<IOException>(() => stream.WriteAsync(new byte[1]).AsTask());
    }

    [Fact]
    public async Task DataTakenOffAStream_IsGivenBackWithWindowUpdates()
    {
        await using var client = await ConnectAsync();
        await client.OpenAsync(1, StreamType("stdin"));
        var stream = await client.Server.Streams.ReadAsync().AsTask().WaitAsync(Wait);
        await client.SendDataAsync(1, new byte[40_000]);
        var buffer = new byte[40_000];
        await stream.ReadExactlyAsync(buffer).AsTask().WaitAsync(Wait);
        // Given back past half a window (32 KiB), counted as the bytes entered the stream's buffer.
        var session = await client.ExpectAsync<WindowUpdateFrame>(u => u.StreamId == 0);
        var own = await client.ExpectAsync<WindowUpdateFrame>(u => u.StreamId == 1);
        Assert.InRange(session.Delta, 32_768u, 40_000u);
        Assert.InRange(own.Delta, 32_768u, 40_000u);
    }

    [Fact]
    public async Task PeerThatDoesFlowControl_GetsNoMoreThanItsWindow_UntilItReopensIt()
    {
        await using var client = await ConnectAsync(new SpdyLimits { MaxDataFrameBytes = 8192 });
        await client.OpenAsync(1, StreamType("stdout"));
        var stream = await client.Server.Streams.ReadAsync().AsTask().WaitAsync(Wait);
        // One byte more of stream window says: this client does flow control. The session
        // window stays at 64 KiB.
        await client.SendRawAsync(SpdyFrameWriter.WindowUpdate(1, 1));
        await client.SendRawAsync(SpdyFrameWriter.Ping(1));
        await client.ExpectAsync<PingFrame>();
        var writing = stream.WriteAsync(new byte[100_000]).AsTask();
        var received = 0;
        while (received < 65536)
        {
            received += (await client.ExpectAsync<DataFrame>()).Data.Length;
        }
        Assert.Equal(65536, received);
        Assert.False(writing.IsCompleted, "the server wrote past the session window");
        await client.SendRawAsync(SpdyFrameWriter.WindowUpdate(0, 40_000));
        // The session window is open again, the stream's holds one byte: one byte comes.
        Assert.Single((await client.ExpectAsync<DataFrame>()).Data);
        received++;
        await client.SendRawAsync(SpdyFrameWriter.WindowUpdate(1, 40_000));
        while (received < 100_000)
        {
            received += (await client.ExpectAsync<DataFrame>()).Data.Length;
        }
        await writing.WaitAsync(Wait);
        Assert.Equal(100_000, received);
    }

    [Fact]
    public async Task ClientClosingTheConnection_EndsTheSessionAndItsStreams()
    {
        await using var client = await ConnectAsync();
        await client.OpenAsync(1, StreamType("stdin"));
        var stream = await client.Server.Streams.ReadAsync().AsTask().WaitAsync(Wait);
        client.ShutdownSend();
        await client.ServerLoop.WaitAsync(Wait);
        Assert.True(client.Server.Closed.IsCancellationRequested);
        Assert.True(stream.Aborted.IsCancellationRequested);
        Assert.False(await client.Server.Streams.WaitToReadAsync());
        Assert.Null(client.Server.Failure);
    }
}
