using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Podnet.Dns.Wire;

namespace Podnet.Dns.Forwarding;

public sealed record ForwarderOptions
{
    /// <summary>How long one upstream gets to answer before the next is tried.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Queries upstream at once; beyond this a query fails at once (CoreDNS's max_concurrent).</summary>
    public int MaxConcurrent { get; init; } = 1000;

    public int CacheEntries { get; init; } = 10_000;

    public long CacheBytes { get; init; } = 16 << 20;
}

/// <summary>
/// Answers names outside the cluster from upstream servers, through <see cref="ResponseCache"/>.
/// Each query goes to the upstream that answered last; on a timeout, a network error, a
/// malformed or SERVFAIL/REFUSED reply it fails over to the next, each tried once. A truncated
/// UDP reply is asked again over TCP of the same upstream. Each exchange uses a fresh socket
/// (a random source port) and a random id, and a reply must match both and the question.
/// </summary>
public sealed class Forwarder
{
    private readonly IReadOnlyList<IPEndPoint> _upstreams;
    private readonly ForwarderOptions _options;
    private readonly DnsCounters _counters;
    private int _preferred;
    private int _inFlight;

    public Forwarder(IReadOnlyList<IPEndPoint> upstreams, ForwarderOptions? options = null, DnsCounters? counters = null)
    {
        if (upstreams.Count == 0)
        {
            throw new ArgumentException("a forwarder needs at least one upstream", nameof(upstreams));
        }
        _upstreams = upstreams;
        _options = options ?? new ForwarderOptions();
        _counters = counters ?? new DnsCounters();
        Cache = new ResponseCache(_options.CacheEntries, _options.CacheBytes);
    }

    public ResponseCache Cache { get; }

    public IReadOnlyList<IPEndPoint> Upstreams => _upstreams;

    /// <summary>The normalized reply for (name, type, class), from the cache or upstream; null when no upstream answered.</summary>
    public async Task<byte[]?> ResolveAsync(byte[] name, ushort type, ushort cls, CancellationToken cancellationToken)
    {
        var key = CacheKey(name);
        if (Cache.Get(key, type) is { } cached)
        {
            Interlocked.Increment(ref _counters.CacheHits);
            return cached;
        }
        Interlocked.Increment(ref _counters.CacheMisses);
        if (Interlocked.Increment(ref _inFlight) > _options.MaxConcurrent)
        {
            Interlocked.Decrement(ref _inFlight);
            return null;
        }
        try
        {
            byte[]? last = null;
            var first = Volatile.Read(ref _preferred);
            for (var i = 0; i < _upstreams.Count; i++)
            {
                var index = (first + i) % _upstreams.Count;
                var reply = await ExchangeAsync(_upstreams[index], name, type, cls, cancellationToken).ConfigureAwait(false);
                if (reply is null || HeaderFlags.Rcode(BinaryPrimitives.ReadUInt16BigEndian(reply.AsSpan(2))) is ResponseCode.ServFail or ResponseCode.Refused)
                {
                    Interlocked.Increment(ref _counters.UpstreamFailures);
                    last = reply ?? last;
                    continue;
                }
                Volatile.Write(ref _preferred, index);
                Cache.Set(key, type, reply);
                return reply;
            }
            return last;
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private static string CacheKey(byte[] name)
    {
        Span<char> key = stackalloc char[Limits.MaxNameLength];
        var length = Names.ToKey(name, key);
        // A name that has no key form (odd bytes) is cached under its hex: still exact, case aside.
        return length >= 0 ? new string(key[..length]) : Convert.ToHexString(name).ToLowerInvariant();
    }

    private async Task<byte[]?> ExchangeAsync(IPEndPoint upstream, byte[] name, ushort type, ushort cls, CancellationToken cancellationToken)
    {
        var id = (ushort)Random.Shared.Next(0x10000);
        var query = Relay.BuildQuery(name, type, cls, id);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);
        try
        {
            var reply = await UdpAsync(upstream, query, id, name, type, cls, timeout.Token).ConfigureAwait(false);
            if (reply is not null && (reply[2] & (HeaderFlags.Truncated >> 8)) != 0)
            {
                reply = await TcpAsync(upstream, query, id, name, type, cls, timeout.Token).ConfigureAwait(false);
            }
            return reply is null ? null : Relay.Normalize(reply);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private static async Task<byte[]?> UdpAsync(IPEndPoint upstream, byte[] query, ushort id, byte[] name, ushort type, ushort cls, CancellationToken cancellationToken)
    {
        using var socket = new Socket(upstream.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        await socket.ConnectAsync(upstream, cancellationToken).ConfigureAwait(false);
        await socket.SendAsync(query, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        var buffer = new byte[Limits.MaxMessageLength];
        while (true)
        {
            var length = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            // Anything else (late replies, spoofs) is ignored until the timeout.
            if (Relay.Answers(buffer.AsSpan(0, length), id, name, type, cls))
            {
                return buffer[..length];
            }
        }
    }

    private static async Task<byte[]?> TcpAsync(IPEndPoint upstream, byte[] query, ushort id, byte[] name, ushort type, ushort cls, CancellationToken cancellationToken)
    {
        using var socket = new Socket(upstream.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(upstream, cancellationToken).ConfigureAwait(false);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var framed = new byte[query.Length + 2];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)query.Length);
        query.CopyTo(framed, 2);
        await stream.WriteAsync(framed, cancellationToken).ConfigureAwait(false);
        var prefix = new byte[2];
        await stream.ReadExactlyAsync(prefix, cancellationToken).ConfigureAwait(false);
        var reply = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
        await stream.ReadExactlyAsync(reply, cancellationToken).ConfigureAwait(false);
        return Relay.Answers(reply, id, name, type, cls) ? reply : null;
    }
}
