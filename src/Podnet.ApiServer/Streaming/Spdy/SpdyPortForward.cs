using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Podnet.ApiServer.Streaming.Spdy;

/// <summary>
/// Port-forward over SPDY (portforward.k8s.io): for each connection the client forwards it opens
/// an error stream and a data stream, both with headers `port` and `requestID` (kubelet pairs
/// them by requestID; a client without one is paired by stream id, the error stream two below
/// its data stream). A complete pair is one connection to the pod's port: data copied both
/// ways, and whatever went wrong written as text on the error stream, which ends the pair.
/// </summary>
internal sealed class SpdyPortForward(SpdyConnection connection, PortForwardRequest request, IStreamBackend backend, TimeSpan pairTimeout)
{
    private readonly Dictionary<string, Pair> _pending = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Task, byte> _running = new();

    public async Task RunAsync(CancellationToken token)
    {
        try
        {
            await foreach (var stream in connection.Streams.ReadAllAsync(token).ConfigureAwait(false))
            {
                await TakeAsync(stream, token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        await Task.WhenAll(_running.Keys).ConfigureAwait(false);
    }

    private async Task TakeAsync(SpdyStream stream, CancellationToken token)
    {
        var type = stream.Headers.Get("streamType");
        if (type is not ("data" or "error"))
        {
            await stream.ResetAsync(SpdyRstStatus.ProtocolError).ConfigureAwait(false);
            return;
        }
        var key = stream.Headers.Get("requestID") is { Length: > 0 } id ? id : $"stream {(type == "data" ? stream.Id - 2 : stream.Id)}";
        Pair? complete = null;
        bool added;
        Pair pair;
        lock (_pending)
        {
            added = !_pending.TryGetValue(key, out pair!);
            if (added)
            {
                pair = new Pair(key);
                _pending[key] = pair;
            }
            if ((type == "data" ? pair.Data : pair.Error) is not null)
            {
                pair = null!;
            }
            else
            {
                if (type == "data")
                {
                    pair.Data = stream;
                }
                else
                {
                    pair.Error = stream;
                }
                if (pair.Data is not null && pair.Error is not null)
                {
                    _pending.Remove(key);
                    complete = pair;
                }
            }
        }
        if (pair is null)
        {
            await stream.ResetAsync(SpdyRstStatus.ProtocolError).ConfigureAwait(false);
            return;
        }
        if (complete is not null)
        {
            complete.Paired.TrySetResult();
            Track(ForwardAsync(complete, token));
        }
        else if (added)
        {
            Track(ExpireAsync(pair, token));
        }
    }

    private void Track(Task task)
    {
        _running.TryAdd(task, 0);
        _ = task.ContinueWith(t => _running.TryRemove(t, out _), TaskScheduler.Default);
    }

    /// <summary>A pair still incomplete after the timeout is given up, as kubelet does.</summary>
    private async Task ExpireAsync(Pair pair, CancellationToken token)
    {
        try
        {
            await pair.Paired.Task.WaitAsync(pairTimeout, token).ConfigureAwait(false);
            return;
        }
        catch (TimeoutException)
        {
        }
        catch (OperationCanceledException)
        {
        }
        lock (_pending)
        {
            if (!_pending.Remove(pair.Key))
            {
                return;
            }
        }
        if (pair.Error is { } error)
        {
            await WriteErrorAsync(error, $"timed out waiting for the data stream of request {pair.Key}").ConfigureAwait(false);
        }
        if (pair.Data is { } data)
        {
            await data.ResetAsync(SpdyRstStatus.Cancel).ConfigureAwait(false);
        }
    }

    private async Task ForwardAsync(Pair pair, CancellationToken token)
    {
        var data = pair.Data!;
        var error = pair.Error!;
        // The client closes its side of the error stream at once; nothing comes on it.
        error.DiscardInput();
        var portText = data.Headers.Get("port");
        if (!ushort.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port == 0)
        {
            await WriteErrorAsync(error, $"invalid port header \"{portText}\": a port is a number from 1 to 65535").ConfigureAwait(false);
            await data.ResetAsync(SpdyRstStatus.Cancel).ConfigureAwait(false);
            return;
        }
        IPortForwardConnection target;
        try
        {
            target = await backend.ConnectPortAsync(request, port, token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await WriteErrorAsync(error, $"error forwarding port {port} to pod {request.Pod}: {e.Message}").ConfigureAwait(false);
            await data.DisposeAsync().ConfigureAwait(false);
            return;
        }
        catch (OperationCanceledException)
        {
            return;
        }
        await using (target.ConfigureAwait(false))
        {
            var up = CopyUpAsync(data, target, token);
            var down = CopyDownAsync(target, data, token);
            await down.ConfigureAwait(false);
            // The pod's side is done: when the client still sends, its end of the pair is
            // waiting on the error stream, so the pod's connection is closed rather than waited on.
            await Task.WhenAny(up, target.Error).ConfigureAwait(false);
            await target.ToPod.DisposeAsync().ConfigureAwait(false);
            var failure = await target.Error.WaitAsync(token).ConfigureAwait(false);
            await WriteErrorAsync(error, failure).ConfigureAwait(false);
            await up.ConfigureAwait(false);
        }
    }

    private static async Task CopyUpAsync(SpdyStream data, IPortForwardConnection target, CancellationToken token)
    {
        try
        {
            await data.CopyToAsync(target.ToPod, token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
        await target.ToPod.DisposeAsync().ConfigureAwait(false);
    }

    private static async Task CopyDownAsync(IPortForwardConnection target, SpdyStream data, CancellationToken token)
    {
        try
        {
            await target.FromPod.CopyToAsync(data, token).ConfigureAwait(false);
            await data.CloseWriteAsync(token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private static async Task WriteErrorAsync(SpdyStream error, string? message)
    {
        try
        {
            if (!string.IsNullOrEmpty(message))
            {
                await error.WriteAsync(Encoding.UTF8.GetBytes(message)).ConfigureAwait(false);
            }
            await error.CloseWriteAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
        }
    }

    private sealed class Pair(string key)
    {
        public string Key { get; } = key;

        public SpdyStream? Data { get; set; }

        public SpdyStream? Error { get; set; }

        public TaskCompletionSource Paired { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
