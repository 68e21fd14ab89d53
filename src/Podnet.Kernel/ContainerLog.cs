using System.Globalization;
using System.Text;

namespace Podnet.Kernel;

/// <summary>Which output of a container a log line came from.</summary>
public enum LogStream
{
    Stdout,
    Stderr,
}

/// <summary>One line of a container log: when it was written, by which stream; partial lines have no newline of their own.</summary>
public readonly record struct LogLine(DateTime Time, LogStream Stream, bool Partial, byte[] Content);

/// <summary>
/// The CRI container log format, which kubelet reads from every runtime:
/// <c>2026-12-07T14:44:35.123456700Z stdout F hello</c> — an RFC3339 timestamp with nine
/// fractional digits, the stream, F for a full line or P for part of a longer one, the content
/// without its newline.
/// </summary>
/// <remarks>
/// Lines longer than <see cref="MaxLineBytes"/> are cut into P lines and a last F line, as
/// containerd does, so that a reader's buffer is bounded however a container writes. Parsing is
/// bounded the same way: a line that is not in this format is skipped, never guessed at.
/// </remarks>
public static class ContainerLogFormat
{
    public const int MaxLineBytes = 16 * 1024;

    /// <summary>Formats a UTC time as RFC3339 with nine fractional digits (Go's RFC3339NanoFixed).</summary>
    public static string FormatTime(DateTime time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff", CultureInfo.InvariantCulture) + "00Z";

    /// <summary>Appends one formatted line (with its newline) to <paramref name="output"/>.</summary>
    public static void Append(List<byte> output, DateTime time, LogStream stream, bool partial, ReadOnlySpan<byte> content)
    {
        output.AddRange(Encoding.ASCII.GetBytes($"{FormatTime(time)} {(stream == LogStream.Stdout ? "stdout" : "stderr")} {(partial ? 'P' : 'F')} "));
        output.AddRange(content);
        output.Add((byte)'\n');
    }

    /// <summary>Parses one line (without its newline); false when it is not a CRI log line.</summary>
    public static bool TryParse(ReadOnlySpan<byte> line, out LogLine parsed)
    {
        parsed = default;
        var first = line.IndexOf((byte)' ');
        if (first <= 0 || first > 40)
        {
            return false;
        }
        if (!DateTime.TryParse(Encoding.ASCII.GetString(line[..first]), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var time))
        {
            return false;
        }
        var rest = line[(first + 1)..];
        LogStream stream;
        if (rest.StartsWith("stdout "u8))
        {
            stream = LogStream.Stdout;
        }
        else if (rest.StartsWith("stderr "u8))
        {
            stream = LogStream.Stderr;
        }
        else
        {
            return false;
        }
        rest = rest[7..];
        if (rest.Length < 2 || rest[1] != (byte)' ' || (rest[0] != (byte)'F' && rest[0] != (byte)'P'))
        {
            return false;
        }
        parsed = new LogLine(time, stream, rest[0] == (byte)'P', rest[2..].ToArray());
        return true;
    }
}

/// <summary>
/// Cuts one stream's bytes into log lines: a line per newline, a partial line each time
/// <see cref="ContainerLogFormat.MaxLineBytes"/> accumulate without one.
/// </summary>
public sealed class LogLineSplitter(LogStream stream)
{
    private readonly List<byte> _pending = [];

    public LogStream Stream { get; } = stream;

    /// <summary>The lines that <paramref name="data"/> completes, in order (content, partial).</summary>
    public IEnumerable<(byte[] Content, bool Partial)> Push(ReadOnlySpan<byte> data)
    {
        var lines = new List<(byte[], bool)>();
        while (data.Length > 0)
        {
            var newline = data.IndexOf((byte)'\n');
            var room = ContainerLogFormat.MaxLineBytes - _pending.Count;
            if (newline >= 0 && newline <= room)
            {
                _pending.AddRange(data[..newline]);
                lines.Add((_pending.ToArray(), false));
                _pending.Clear();
                data = data[(newline + 1)..];
            }
            else if (data.Length >= room)
            {
                _pending.AddRange(data[..room]);
                lines.Add((_pending.ToArray(), true));
                _pending.Clear();
                data = data[room..];
            }
            else
            {
                _pending.AddRange(data);
                data = default;
            }
        }
        return lines;
    }

    /// <summary>What is left when the stream ends, as a last full line (null when nothing is).</summary>
    public byte[]? Flush()
    {
        if (_pending.Count == 0)
        {
            return null;
        }
        var rest = _pending.ToArray();
        _pending.Clear();
        return rest;
    }
}

/// <summary>What a reader of container logs asks for, as kubelet's /containerLogs takes it.</summary>
/// <param name="TailLines">Only the last N lines (null: all).</param>
/// <param name="Since">Only lines written at or after this time (UTC).</param>
/// <param name="LimitBytes">Stop after this many bytes of output (null: no limit).</param>
public sealed record LogQuery(bool Timestamps = false, int? TailLines = null, DateTime? Since = null, long? LimitBytes = null, bool Follow = false);

/// <summary>Selecting and rendering log lines for a <see cref="LogQuery"/> (pure).</summary>
public static class LogSelection
{
    /// <summary>The lines a query keeps of <paramref name="lines"/> (since, then the tail), in order.</summary>
    public static IEnumerable<LogLine> Select(IEnumerable<LogLine> lines, LogQuery query)
    {
        var kept = query.Since is { } since ? lines.Where(l => l.Time >= since) : lines;
        if (query.TailLines is not { } tail)
        {
            return kept;
        }
        if (tail <= 0)
        {
            return [];
        }
        // A tail counts whole lines: a run of P lines and its F line is one line.
        var window = new LinkedList<List<LogLine>>();
        List<LogLine>? open = null;
        foreach (var line in kept)
        {
            if (open is null)
            {
                open = [];
                window.AddLast(open);
                if (window.Count > tail)
                {
                    window.RemoveFirst();
                }
            }
            open.Add(line);
            if (!line.Partial)
            {
                open = null;
            }
        }
        return window.SelectMany(l => l);
    }

    /// <summary>How a line is shown: its content, a newline unless partial, the timestamp first when asked.</summary>
    public static byte[] Render(LogLine line, bool timestamps)
    {
        var prefix = timestamps ? Encoding.ASCII.GetBytes(ContainerLogFormat.FormatTime(line.Time) + " ") : [];
        var output = new byte[prefix.Length + line.Content.Length + (line.Partial ? 0 : 1)];
        prefix.CopyTo(output, 0);
        line.Content.CopyTo(output, prefix.Length);
        if (!line.Partial)
        {
            output[^1] = (byte)'\n';
        }
        return output;
    }
}
