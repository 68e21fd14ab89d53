using System.Diagnostics;
using System.Globalization;
using Podnet.ApiServer.Streaming.Spdy;
using Xunit.Abstractions;

namespace Podnet.ApiServer.Tests.Fuzz;

/// <summary>
/// A time-bounded random run of the SPDY session over hostile bytes, in every test run: valid
/// client sessions (exec's five streams, port-forward pairs, pings, settings, windows, resets)
/// mutated — bytes flipped, cut, repeated, lengths made huge — and fed to a real
/// <see cref="SpdyConnection"/> with small limits and a user that reads and answers every
/// stream. Each run must end (the peer's bytes run out) without any exception but the session's
/// own protocol errors, and without the reader waiting for ever. PODNET_FUZZ_SEED replays a run;
/// PODNET_FUZZ_SECONDS sets its length (default 10).
/// </summary>
public sealed class SpdyFrameFuzzTests(ITestOutputHelper output)
{
    private static readonly SpdyLimits Limits = new()
    {
        MaxConcurrentStreams = 8,
        StreamBufferBytes = 4096,
        MaxControlFrameBytes = 4096,
        MaxHeaderBlockBytes = 4096,
        MaxHeaderCount = 16,
    };

    [Fact]
    public async Task MutatedSessions_EndCleanly_WithNoOtherException()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("PODNET_FUZZ_SEED"), CultureInfo.InvariantCulture, out var s) ? s : Random.Shared.Next();
        var seconds = int.TryParse(Environment.GetEnvironmentVariable("PODNET_FUZZ_SECONDS"), CultureInfo.InvariantCulture, out var t) ? t : 10;
        output.WriteLine($"spdy fuzz: seed {seed}, {seconds} s (replay: PODNET_FUZZ_SEED={seed})");
        var random = new Random(seed);
        var seeds = Seeds();
        var failures = new List<string>();
        var endings = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        var iteration = 0;
        for (; clock.Elapsed < TimeSpan.FromSeconds(seconds) && failures.Count < 5; iteration++)
        {
            var input = Mutate(random, seeds[random.Next(seeds.Count)]);
            try
            {
                var ending = await RunAsync(input);
                endings[ending] = endings.GetValueOrDefault(ending) + 1;
            }
            catch (Exception e)
            {
                failures.Add($"seed {seed} #{iteration}: {e.GetType().Name}: {e.Message} on {Convert.ToHexString(input)}");
            }
        }
        output.WriteLine($"spdy fuzz: {iteration} sessions; {string.Join(", ", endings.Select(e => $"{e.Key} ×{e.Value}"))}");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(endings.Count >= 2, "the mutations should both keep sessions valid and break them");
    }

    [Fact]
    public void RandomHeaderBlocks_AreParsedOrRefused_NeverAnotherException()
    {
        var random = new Random(19);
        using var inflater = new SpdyHeaderInflater();
        for (var i = 0; i < 200_000; i++)
        {
            var block = new byte[random.Next(0, 64)];
            random.NextBytes(block);
            if (block.Length >= 4 && random.Next(2) == 0)
            {
                block[0] = block[1] = 0;
                block[2] = (byte)random.Next(2);
            }
            try
            {
                SpdyHeaders.Parse(block, 16);
            }
            catch (SpdyProtocolException)
            {
            }
        }
    }

    /// <summary>One session over the bytes; returns how it ended (a protocol error's kind, or "clean").</summary>
    private static async Task<string> RunAsync(byte[] input)
    {
        await using var transport = new ReplayStream(input);
        await using var connection = new SpdyConnection(transport, Limits);
        var user = ServeStreamsAsync(connection);
        var run = connection.RunAsync(CancellationToken.None);
        await run.WaitAsync(TimeSpan.FromSeconds(10));
        await user.WaitAsync(TimeSpan.FromSeconds(10));
        return connection.Failure is { } failure ? string.Join(' ', System.Text.RegularExpressions.Regex.Replace(failure, @"[\d""]+", "N").Split(' ').Take(5)) : "clean";
    }

    /// <summary>Reads every stream to its end and answers on it, as exec and port-forward do.</summary>
    private static async Task ServeStreamsAsync(SpdyConnection connection)
    {
        var streams = new List<Task>();
        await foreach (var stream in connection.Streams.ReadAllAsync())
        {
            streams.Add(Task.Run(async () =>
            {
                var buffer = new byte[1024];
                try
                {
                    while (await stream.ReadAsync(buffer) > 0)
                    {
                    }
                    await stream.WriteAsync(new byte[100]);
                    await stream.CloseWriteAsync();
                }
                catch (IOException)
                {
                }
            }));
        }
        await Task.WhenAll(streams);
    }

    private static List<byte[]> Seeds()
    {
        var seeds = new List<byte[]>();
        foreach (var kind in new[] { "exec", "tty", "portforward", "control" })
        {
            using var deflater = new SpdyHeaderDeflater();
            var frames = new List<byte[]>();
            byte[] Syn(uint id, SpdyHeaders headers, bool fin = false) => SpdyFrameWriter.SynStream(id, SpdyFrameWriter.Compress(deflater, headers), fin);
            switch (kind)
            {
                case "exec":
                    frames.Add(Syn(1, new SpdyHeaders().Add("streamtype", "error")));
                    frames.Add(Syn(3, new SpdyHeaders().Add("streamtype", "stdin")));
                    frames.Add(Syn(5, new SpdyHeaders().Add("streamtype", "stdout")));
                    frames.Add(Syn(7, new SpdyHeaders().Add("streamtype", "stderr")));
                    frames.Add(SpdyFrameWriter.Data(3, "echo hello\n"u8, fin: false));
                    frames.Add(SpdyFrameWriter.Data(3, new byte[6000], fin: true));
                    break;
                case "tty":
                    frames.Add(Syn(1, new SpdyHeaders().Add("streamtype", "error")));
                    frames.Add(Syn(3, new SpdyHeaders().Add("streamtype", "stdin")));
                    frames.Add(Syn(5, new SpdyHeaders().Add("streamtype", "stdout")));
                    frames.Add(Syn(7, new SpdyHeaders().Add("streamtype", "resize")));
                    frames.Add(SpdyFrameWriter.Data(7, "{\"Width\":80,\"Height\":24}\n"u8, fin: false));
                    frames.Add(SpdyFrameWriter.Headers(5, SpdyFrameWriter.Compress(deflater, new SpdyHeaders().Add("x", "y")), fin: false));
                    frames.Add(SpdyFrameWriter.RstStream(3, SpdyRstStatus.Cancel));
                    break;
                case "portforward":
                    for (uint i = 0; i < 4; i++)
                    {
                        frames.Add(Syn((4 * i) + 1, new SpdyHeaders().Add("streamtype", "error").Add("port", "80").Add("requestid", $"{i}"), fin: true));
                        frames.Add(Syn((4 * i) + 3, new SpdyHeaders().Add("streamtype", "data").Add("port", "80").Add("requestid", $"{i}")));
                        frames.Add(SpdyFrameWriter.Data((4 * i) + 3, "GET / HTTP/1.1\r\n\r\n"u8, fin: true));
                    }
                    break;
                default:
                    frames.Add(SpdyFrameWriter.Settings((0, SettingsFrame.InitialWindowSize, 1 << 20), (0, 4, 100)));
                    frames.Add(SpdyFrameWriter.Ping(1));
                    frames.Add(Syn(1, new SpdyHeaders().Add("streamtype", "data")));
                    frames.Add(SpdyFrameWriter.WindowUpdate(0, 1000));
                    frames.Add(SpdyFrameWriter.WindowUpdate(1, 1000));
                    frames.Add(SpdyFrameWriter.Data(1, new byte[10_000], fin: false));
                    frames.Add(SpdyFrameWriter.GoAway(1, SpdyGoAwayStatus.Ok));
                    break;
            }
            seeds.Add([.. frames.SelectMany(f => f)]);
        }
        return seeds;
    }

    private static byte[] Mutate(Random random, byte[] seed)
    {
        var bytes = new List<byte>(seed);
        var mutations = random.Next(0, 5);
        for (var m = 0; m < mutations && bytes.Count > 0; m++)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(7))
            {
                case 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes[at] = random.Next(2) == 0 ? (byte)0xFF : (byte)0x00;
                    break;
                case 2:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 3:
                    var length = Math.Min(random.Next(1, 64), bytes.Count - at);
                    bytes.InsertRange(random.Next(bytes.Count), bytes.GetRange(at, length));
                    break;
                case 4:
                    var noise = new byte[random.Next(1, 16)];
                    random.NextBytes(noise);
                    bytes.InsertRange(at, noise);
                    break;
                case 5:
                    // A control frame header claiming a huge or odd length, of any type.
                    bytes.InsertRange(at, [0x80, 0x03, 0x00, (byte)random.Next(12), 0x00, (byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)]);
                    break;
                default:
                    // A data frame header for some stream, with its FIN set or not.
                    bytes.InsertRange(at, [0x00, 0x00, 0x00, (byte)random.Next(12), (byte)random.Next(2), 0x00, (byte)random.Next(4), (byte)random.Next(256)]);
                    break;
            }
        }
        return [.. bytes];
    }

    /// <summary>The peer: its bytes to read, then end of stream; what the server writes is dropped.</summary>
    private sealed class ReplayStream(byte[] input) : Stream
    {
        private readonly MemoryStream _input = new(input, writable: false);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => _input.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(_input.Read(buffer.Span));

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
    }
}
