using Podnet.Dns.Wire;

namespace Podnet.Dns.Forwarding;

/// <summary>
/// Upstream answers, positive and negative, kept for their TTL and bounded in entries and
/// bytes; the least recently used entry goes first when either bound is reached. Thread-safe
/// (one lock: it is off the zone's hot path).
/// </summary>
/// <remarks>
/// Entries are stored as <see cref="Relay"/> normalizes them (no OPT). How long: the least TTL of
/// the answers for a positive answer (at most 3600 s); for NXDOMAIN or NODATA the SOA's TTL or
/// MINIMUM, whichever is less (RFC 2308 5; at most 1800 s); not at all without an SOA, for other
/// rcodes, or for truncated answers.
/// </remarks>
public sealed class ResponseCache
{
    public const uint MaxPositiveTtl = 3600;
    public const uint MaxNegativeTtl = 1800;

    private readonly Lock _lock = new();
    private readonly Dictionary<(string Name, ushort Type), LinkedListNode<Entry>> _entries = [];
    private readonly LinkedList<Entry> _recent = new();
    private readonly Func<long> _clockMs;
    private long _bytes;

    public ResponseCache(int maxEntries = 10_000, long maxBytes = 16 << 20, Func<long>? clockMs = null)
    {
        MaxEntries = maxEntries;
        MaxBytes = maxBytes;
        _clockMs = clockMs ?? (() => Environment.TickCount64);
    }

    public int MaxEntries { get; }

    public long MaxBytes { get; }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>A copy of the cached message with its TTLs aged by the time it has been held; null on a miss.</summary>
    public byte[]? Get(string name, ushort type)
    {
        var now = _clockMs();
        lock (_lock)
        {
            if (!_entries.TryGetValue((name, type), out var node))
            {
                return null;
            }
            if (node.Value.ExpiresMs <= now)
            {
                RemoveLocked(node);
                return null;
            }
            _recent.Remove(node);
            _recent.AddFirst(node);
            var copy = (byte[])node.Value.Message.Clone();
            Relay.AgeTtls(copy, (uint)((now - node.Value.StoredMs) / 1000));
            return copy;
        }
    }

    /// <summary>Stores <paramref name="message"/> for as long as its records allow; returns that time in seconds (0: not stored).</summary>
    public uint Set(string name, ushort type, byte[] message)
    {
        var ttl = TtlOf(message);
        if (ttl == 0 || message.Length > MaxBytes)
        {
            return 0;
        }
        var now = _clockMs();
        lock (_lock)
        {
            if (_entries.TryGetValue((name, type), out var old))
            {
                RemoveLocked(old);
            }
            while (_entries.Count >= MaxEntries || _bytes + message.Length > MaxBytes)
            {
                RemoveLocked(_recent.Last!);
            }
            var node = _recent.AddFirst(new Entry(name, type, message, now, now + (ttl * 1000L)));
            _entries[(name, type)] = node;
            _bytes += message.Length;
        }
        return ttl;
    }

    /// <summary>How long a message may be cached, by the rules in the remarks.</summary>
    public static uint TtlOf(ReadOnlySpan<byte> message)
    {
        var records = new List<RecordInfo>();
        if (!MessageReader.TryRead(message, records, out _))
        {
            return 0;
        }
        var flags = (ushort)((message[2] << 8) | message[3]);
        if ((flags & HeaderFlags.Truncated) != 0)
        {
            return 0;
        }
        var rcode = HeaderFlags.Rcode(flags);
        var answers = records.Where(r => r.Section == 0).ToList();
        if (rcode == ResponseCode.NoError && answers.Count > 0)
        {
            return Math.Min(answers.Min(r => r.Ttl), MaxPositiveTtl);
        }
        if (rcode is ResponseCode.NoError or ResponseCode.NxDomain && records.FirstOrDefault(r => r.Section == 1 && r.Type == RecordType.Soa) is { RDataLength: >= 20 } soa)
        {
            var minimum = (uint)((message[soa.End - 4] << 24) | (message[soa.End - 3] << 16) | (message[soa.End - 2] << 8) | message[soa.End - 1]);
            return Math.Min(Math.Min(soa.Ttl, minimum), MaxNegativeTtl);
        }
        return 0;
    }

    private void RemoveLocked(LinkedListNode<Entry> node)
    {
        _recent.Remove(node);
        _entries.Remove((node.Value.Name, node.Value.Type));
        _bytes -= node.Value.Message.Length;
    }

    private sealed record Entry(string Name, ushort Type, byte[] Message, long StoredMs, long ExpiresMs);
}
