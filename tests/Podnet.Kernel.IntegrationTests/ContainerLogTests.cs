using System.Text;
using Podnet.Kernel;

namespace Podnet.Kernel.IntegrationTests;

/// <summary>The CRI log format, its rotation and its reader (no root needed: plain files).</summary>
public sealed class ContainerLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("podnet-kubelet-logs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly DateTime T0 = new(2026, 12, 7, 14, 44, 35, DateTimeKind.Utc);

    [Fact]
    public void Format_IsCriWithNineFractionalDigits_AndParsesBack()
    {
        var output = new List<byte>();
        ContainerLogFormat.Append(output, T0.AddTicks(1234567), LogStream.Stderr, false, "hello world"u8);
        var text = Encoding.ASCII.GetString(output.ToArray());
        Assert.Equal("2026-12-07T14:44:35.123456700Z stderr F hello world\n", text);
        Assert.True(ContainerLogFormat.TryParse(output.ToArray().AsSpan(0, output.Count - 1), out var line));
        Assert.Equal((T0.AddTicks(1234567), LogStream.Stderr, false, "hello world"), (line.Time, line.Stream, line.Partial, Encoding.ASCII.GetString(line.Content)));
        Assert.True(ContainerLogFormat.TryParse("2026-12-07T14:44:35.1Z stdout P x"u8, out line));
        Assert.True(line.Partial);
        Assert.False(ContainerLogFormat.TryParse("garbage"u8, out _));
        Assert.False(ContainerLogFormat.TryParse("2026-12-07T14:44:35Z stdin F x"u8, out _));
        Assert.False(ContainerLogFormat.TryParse("2026-12-07T14:44:35Z stdout X x"u8, out _));
    }

    [Fact]
    public void Splitter_CutsAtNewlines_AndLongLinesIntoPartials()
    {
        var splitter = new LogLineSplitter(LogStream.Stdout);
        Assert.Empty(splitter.Push("par"u8));
        var lines = splitter.Push("tial\nnext\nrest"u8).ToList();
        Assert.Equal(["partial", "next"], lines.Select(l => Encoding.ASCII.GetString(l.Content)));
        Assert.All(lines, l => Assert.False(l.Partial));
        Assert.Equal("rest", Encoding.ASCII.GetString(splitter.Flush()!));
        Assert.Null(splitter.Flush());
        var longLine = splitter.Push(new byte[ContainerLogFormat.MaxLineBytes * 2 + 10].Append((byte)'\n').ToArray()).ToList();
        Assert.Equal([true, true, false], longLine.Select(l => l.Partial));
        Assert.Equal(ContainerLogFormat.MaxLineBytes * 2 + 10, longLine.Sum(l => l.Content.Length));
    }

    [Fact]
    public void Writer_RotatesBySize_KeepsAtMostMaxFiles_ReaderSeesTheNewestLinesInOrder()
    {
        var path = Path.Combine(_dir, "0.log");
        var tick = 0;
        using (var writer = new ContainerLogWriter(path, 1024, 3, () => T0.AddSeconds(tick++)))
        {
            for (var i = 0; i < 100; i++)
            {
                writer.Write(i % 2 == 0 ? LogStream.Stdout : LogStream.Stderr, Encoding.ASCII.GetBytes($"line {i:D3}\n"));
            }
        }
        var files = ContainerLogReader.FilesOf(path);
        Assert.Equal([path + ".2", path + ".1", path], files);
        Assert.All(files, f => Assert.True(new FileInfo(f).Length <= 1024));
        var lines = ContainerLogReader.ReadAll(path).Select(l => Encoding.ASCII.GetString(l.Content)).ToList();
        Assert.Equal("line 099", lines[^1]);
        Assert.True(lines.Count < 100);
        Assert.Equal(Enumerable.Range(100 - lines.Count, lines.Count).Select(i => $"line {i:D3}"), lines); // nothing lost between the kept files
    }

    [Fact]
    public void Selection_TailCountsWholeLines_SinceFilters_RenderAddsTimestamps()
    {
        LogLine Line(int second, string text, bool partial = false) => new(T0.AddSeconds(second), LogStream.Stdout, partial, Encoding.ASCII.GetBytes(text));
        var lines = new[] { Line(0, "a"), Line(1, "b1", true), Line(1, "b2"), Line(2, "c") };
        string Show(IEnumerable<LogLine> selected) => string.Concat(selected.Select(l => Encoding.ASCII.GetString(LogSelection.Render(l, false))));
        Assert.Equal("a\nb1b2\nc\n", Show(LogSelection.Select(lines, new LogQuery())));
        Assert.Equal("b1b2\nc\n", Show(LogSelection.Select(lines, new LogQuery(TailLines: 2))));
        Assert.Equal("", Show(LogSelection.Select(lines, new LogQuery(TailLines: 0))));
        Assert.Equal("c\n", Show(LogSelection.Select(lines, new LogQuery(Since: T0.AddSeconds(2)))));
        Assert.Equal("2026-12-07T14:44:35.000000000Z a\n", Encoding.ASCII.GetString(LogSelection.Render(lines[0], true)));
    }

    [Fact]
    public async Task Copy_LimitsBytes_AndFollowSeesLinesWrittenLater_UntilTheContainerStops()
    {
        var path = Path.Combine(_dir, "1.log");
        using var writer = new ContainerLogWriter(path, 4096, 2);
        writer.Write(LogStream.Stdout, "first\nsecond\n"u8);
        var limited = new MemoryStream();
        await ContainerLogReader.CopyAsync(path, new LogQuery(LimitBytes: 8), limited, () => false, default);
        Assert.Equal("first\nse", Encoding.ASCII.GetString(limited.ToArray()));

        var running = true;
        var followed = new FollowStream();
        var follow = ContainerLogReader.CopyAsync(path, new LogQuery(TailLines: 1, Follow: true), followed, () => Volatile.Read(ref running), default);
        await followed.WaitForAsync("second\n");
        for (var i = 0; i < 40; i++)
        {
            writer.Write(LogStream.Stderr, Encoding.ASCII.GetBytes($"later {i:D2} {new string('x', 100)}\n")); // past 4096 bytes: rotates under the reader
        }
        await followed.WaitForAsync($"later 39 {new string('x', 100)}\n");
        Volatile.Write(ref running, false);
        await follow.WaitAsync(TimeSpan.FromSeconds(10));
        var text = followed.Text;
        Assert.StartsWith("second\nlater 00", text);
        Assert.Equal(41, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    /// <summary>Collects what is written and lets a test wait until some text has arrived.</summary>
    private sealed class FollowStream : MemoryStream
    {
        private readonly SemaphoreSlim _written = new(0);

        public string Text
        {
            get
            {
                lock (this)
                {
                    return Encoding.ASCII.GetString(ToArray());
                }
            }
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            lock (this)
            {
                Write(buffer.Span);
            }
            _written.Release();
            return ValueTask.CompletedTask;
        }

        public async Task WaitForAsync(string expected)
        {
            while (!Text.Contains(expected, StringComparison.Ordinal))
            {
                Assert.True(await _written.WaitAsync(TimeSpan.FromSeconds(10)), $"'{expected}' was not written; have: {Text}");
            }
        }
    }
}
