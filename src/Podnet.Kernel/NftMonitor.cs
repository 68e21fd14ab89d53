using System.Diagnostics;
using System.Threading.Channels;

namespace Podnet.Kernel;

/// <summary>
/// `nft monitor` running inside a network namespace: ruleset changes and nftrace events as
/// lines, read as they come. The monitor is known to listen once it has printed a change made
/// after its start (<see cref="WaitForAsync"/> on the "add table" line of a table the caller
/// adds), so no packet is sent before it can be seen. Disposing ends the process.
/// </summary>
public sealed class NftMonitor : IDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly List<string> _seen = [];

    private NftMonitor(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                _lines.Writer.TryWrite(line);
            }
        };
        _process.BeginOutputReadLine();
    }

    public static NftMonitor Start(Netns netns)
    {
        var info = new ProcessStartInfo(Nft.Binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("monitor");
        // A child inherits the namespace of the thread that forks it (see ProcessRunner).
        var process = netns.Run(() => Process.Start(info) ?? throw new InvalidOperationException($"could not start {Nft.Binary} monitor"));
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        return new NftMonitor(process);
    }

    /// <summary>Every line read so far.</summary>
    public IReadOnlyList<string> Lines => _seen;

    /// <summary>Reads until a line satisfies <paramref name="match"/>; false when <paramref name="timeout"/> passes first.</summary>
    public async Task<bool> WaitForAsync(Func<string, bool> match, TimeSpan timeout, CancellationToken token)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(token);
        bound.CancelAfter(timeout);
        try
        {
            while (await _lines.Reader.WaitToReadAsync(bound.Token))
            {
                while (_lines.Reader.TryRead(out var line))
                {
                    _seen.Add(line);
                    if (match(line))
                    {
                        return true;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
        }
        return false;
    }

    /// <summary>Reads what comes until nothing has come for <paramref name="quiet"/>, at most <paramref name="limit"/> in all.</summary>
    public async Task DrainAsync(TimeSpan quiet, TimeSpan limit, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            var before = _seen.Count;
            await WaitForAsync(_ => false, quiet, token);
            if (_seen.Count == before)
            {
                return;
            }
        }
    }

    public void Dispose()
    {
        try
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _process.Dispose();
    }
}
