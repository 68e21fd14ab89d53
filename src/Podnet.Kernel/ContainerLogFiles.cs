namespace Podnet.Kernel;

/// <summary>
/// Writes a container's stdout and stderr to a CRI-format log file, rotating it by size:
/// PATH is written, PATH.1 is the previous file, PATH.2 the one before, up to
/// <c>maxFiles</c> files in all, so one container instance never keeps more than
/// maxBytes × maxFiles bytes. Thread-safe: both streams' readers call <see cref="Write"/>.
/// </summary>
public sealed class ContainerLogWriter : IDisposable
{
    private readonly string _path;
    private readonly long _maxBytes;
    private readonly int _maxFiles;
    private readonly Func<DateTime> _clock;
    private readonly LogLineSplitter[] _splitters = [new(LogStream.Stdout), new(LogStream.Stderr)];
    private readonly Lock _lock = new();
    private FileStream _file;

    public ContainerLogWriter(string path, long maxBytes, int maxFiles, Func<DateTime>? clock = null)
    {
        if (maxBytes < 1024 || maxFiles < 1)
        {
            throw new ArgumentException($"container log limits too small: {maxBytes} bytes, {maxFiles} files (at least 1024 bytes and 1 file)");
        }
        _path = path;
        _maxBytes = maxBytes;
        _maxFiles = maxFiles;
        _clock = clock ?? (() => DateTime.UtcNow);
        _file = Open(path);
    }

    /// <summary>Logs what a stream produced; complete lines are written (and flushed) at once.</summary>
    public void Write(LogStream stream, ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            foreach (var (content, partial) in _splitters[(int)stream].Push(data))
            {
                WriteLine(stream, content, partial);
            }
        }
    }

    /// <summary>Writes what is left of a stream that ended without a newline.</summary>
    public void Complete(LogStream stream)
    {
        lock (_lock)
        {
            if (_splitters[(int)stream].Flush() is { } rest)
            {
                WriteLine(stream, rest, false);
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _file.Dispose();
        }
    }

    private void WriteLine(LogStream stream, byte[] content, bool partial)
    {
        var bytes = new List<byte>(content.Length + 48);
        ContainerLogFormat.Append(bytes, _clock(), stream, partial, content);
        if (_file.Length > 0 && _file.Length + bytes.Count > _maxBytes)
        {
            Rotate();
        }
        _file.Write(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));
        _file.Flush();
    }

    private void Rotate()
    {
        _file.Dispose();
        if (_maxFiles == 1)
        {
            File.Delete(_path);
        }
        else
        {
            File.Delete($"{_path}.{_maxFiles - 1}");
            for (var i = _maxFiles - 2; i >= 1; i--)
            {
                if (File.Exists($"{_path}.{i}"))
                {
                    File.Move($"{_path}.{i}", $"{_path}.{i + 1}");
                }
            }
            File.Move(_path, $"{_path}.1");
        }
        _file = Open(_path);
    }

    private static FileStream Open(string path) =>
        new(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
}

/// <summary>
/// Reads what a <see cref="ContainerLogWriter"/> wrote: the rotated files oldest first, then the
/// current one; with follow, keeps reading the current file (across rotations) until the
/// container has stopped and everything it wrote was read.
/// </summary>
public static class ContainerLogReader
{
    /// <summary>The files of one log, oldest first (PATH.N … PATH.1, PATH), those that exist.</summary>
    public static IReadOnlyList<string> FilesOf(string path)
    {
        var rotated = new List<(int, string)>();
        var directory = Path.GetDirectoryName(path)!;
        if (Directory.Exists(directory))
        {
            foreach (var file in Directory.EnumerateFiles(directory, Path.GetFileName(path) + ".*"))
            {
                // The pattern also matches PATH itself (.NET's Win32 wildcard rules): only PATH.N counts.
                if (file.Length > path.Length + 1 && file.StartsWith(path + ".", StringComparison.Ordinal) && int.TryParse(file[(path.Length + 1)..], out var n) && n > 0)
                {
                    rotated.Add((n, file));
                }
            }
        }
        var files = rotated.OrderByDescending(r => r.Item1).Select(r => r.Item2).ToList();
        if (File.Exists(path))
        {
            files.Add(path);
        }
        return files;
    }

    /// <summary>Every line of the log, oldest first (lines not in CRI format are skipped).</summary>
    public static IEnumerable<LogLine> ReadAll(string path) => FilesOf(path).SelectMany(f => ReadFile(f, 0, out _));

    /// <summary>
    /// Writes the lines <paramref name="query"/> selects to <paramref name="output"/>, flushing as
    /// it goes; with Follow, waits for more while <paramref name="running"/> says the container runs.
    /// </summary>
    public static Task CopyAsync(string path, LogQuery query, Stream output, Func<bool> running, CancellationToken token)
    {
        var budget = query.LimitBytes ?? long.MaxValue;
        return ReadAsync(path, query, async line =>
        {
            var bytes = LogSelection.Render(line, query.Timestamps);
            var take = (int)Math.Min(bytes.Length, budget);
            await output.WriteAsync(bytes.AsMemory(0, take), token).ConfigureAwait(false);
            budget -= take;
            return budget > 0;
        }, () => new ValueTask(output.FlushAsync(token)), running, token);
    }

    /// <summary>
    /// Hands each selected line to <paramref name="emit"/> (which returns false to stop), calling
    /// <paramref name="flush"/> after each batch; with Follow, keeps reading the current file,
    /// across rotations, until <paramref name="running"/> is false and nothing more was written.
    /// </summary>
    public static async Task ReadAsync(string path, LogQuery query, Func<LogLine, ValueTask<bool>> emit, Func<ValueTask> flush, Func<bool> running, CancellationToken token)
    {
        var lines = new List<LogLine>();
        long offset = 0;
        foreach (var file in FilesOf(path))
        {
            lines.AddRange(ReadFile(file, 0, out var consumed));
            offset = file == path ? consumed : 0;
        }
        foreach (var line in LogSelection.Select(lines, query))
        {
            if (!await emit(line).ConfigureAwait(false))
            {
                await flush().ConfigureAwait(false);
                return;
            }
        }
        await flush().ConfigureAwait(false);
        if (!query.Follow)
        {
            return;
        }
        // Follow: read on from an open handle of the current file. A rotation renames it away
        // and starts a new PATH: the handle still reads the old file to its end, then the new
        // file is opened from its start (the inode says when PATH is no longer this file).
        // Lines are lost only if the writer rotated twice between two looks (100 ms apart).
        var current = OpenAt(path, offset);
        try
        {
            var quietAfterExit = 0;
            while (!token.IsCancellationRequested)
            {
                var fresh = current is null ? [] : ReadOn(current);
                if (fresh.Count == 0 && current is not null && !SameFile(current, path))
                {
                    fresh = ReadOn(current); // what was written before the rename
                    current.Dispose();
                    current = OpenAt(path, 0);
                    fresh.AddRange(current is null ? [] : ReadOn(current));
                }
                else if (current is null)
                {
                    current = OpenAt(path, 0);
                }
                if (fresh.Count > 0)
                {
                    foreach (var line in fresh.Where(l => query.Since is not { } since || l.Time >= since))
                    {
                        if (!await emit(line).ConfigureAwait(false))
                        {
                            await flush().ConfigureAwait(false);
                            return;
                        }
                    }
                    await flush().ConfigureAwait(false);
                    quietAfterExit = 0;
                    continue;
                }
                if (!running() && ++quietAfterExit > 1)
                {
                    return;
                }
                await Task.Delay(100, token).ConfigureAwait(false);
            }
        }
        finally
        {
            current?.Dispose();
        }
    }

    private static FileStream? OpenAt(string path, long offset)
    {
        try
        {
            var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.Position = Math.Min(offset, stream.Length);
            return stream;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The complete lines from the stream's position on; the position stays before an unfinished line.</summary>
    private static List<LogLine> ReadOn(FileStream stream)
    {
        var lines = new List<LogLine>();
        var start = stream.Position;
        var length = stream.Length;
        if (length <= start)
        {
            return lines;
        }
        var data = new byte[length - start];
        stream.ReadExactly(data);
        var consumed = Parse(data, lines);
        stream.Position = start + consumed;
        return lines;
    }

    private static bool SameFile(FileStream stream, string path) =>
        Native.FileIdentity.OfHandle(stream.SafeFileHandle) is { } open && Native.FileIdentity.OfPath(path) == open;

    /// <summary>The complete lines of a file from <paramref name="offset"/>; <paramref name="consumed"/> is how many bytes they took.</summary>
    private static List<LogLine> ReadFile(string file, long offset, out long consumed)
    {
        var lines = new List<LogLine>();
        consumed = 0;
        byte[] data;
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (stream.Length <= offset)
            {
                return lines;
            }
            stream.Position = offset;
            data = new byte[stream.Length - offset];
            stream.ReadExactly(data);
        }
        catch (FileNotFoundException)
        {
            return lines;
        }
        consumed = Parse(data, lines);
        return lines;
    }

    /// <summary>Adds the complete lines of <paramref name="data"/>; returns the bytes they took.</summary>
    private static long Parse(byte[] data, List<LogLine> lines)
    {
        long consumed = 0;
        var span = data.AsSpan();
        while (true)
        {
            var newline = span.IndexOf((byte)'\n');
            if (newline < 0)
            {
                return consumed;
            }
            if (ContainerLogFormat.TryParse(span[..newline], out var line))
            {
                lines.Add(line);
            }
            consumed += newline + 1;
            span = span[(newline + 1)..];
        }
    }
}
