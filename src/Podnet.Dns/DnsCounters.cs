using System.Diagnostics;
using System.Globalization;
using System.Text;
using Podnet.Dns.Wire;

namespace Podnet.Dns;

/// <summary>
/// The server's counters, updated with interlocked adds (no allocation, no lock on the query
/// path) and written out in the Prometheus text format for /metrics.
/// </summary>
/// <remarks>
/// Requests are counted by type and rcode over fixed label sets (types without a name count as
/// "other"), so the number of series is bounded whatever clients send. Latency is from the
/// receipt of a query to the response being handed to the socket.
/// </remarks>
public sealed class DnsCounters
{
    private static readonly ushort[] Types = [RecordType.A, RecordType.Aaaa, RecordType.Srv, RecordType.Ptr, RecordType.Txt, RecordType.Cname, RecordType.Soa, RecordType.Ns, RecordType.Any, RecordType.Axfr, RecordType.Ixfr, 0];
    private static readonly int[] Rcodes = [ResponseCode.NoError, ResponseCode.FormErr, ResponseCode.ServFail, ResponseCode.NxDomain, ResponseCode.NotImp, ResponseCode.Refused, ResponseCode.BadVers, -1];
    private static readonly double[] Buckets = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
    private static readonly long[] BucketTicks = [.. Buckets.Select(b => (long)(b * Stopwatch.Frequency))];

    private readonly long[] _requests = new long[Types.Length * Rcodes.Length];
    private readonly long[] _latency = new long[Buckets.Length + 1];
    private long _latencyTicks;

    public long CacheHits;
    public long CacheMisses;
    public long UpstreamFailures;

    /// <summary>Packets not answered: shorter than a header, or responses.</summary>
    public long Dropped;

    public long TcpConnections;

    /// <summary>Index rebuilds, and how many names the current index holds.</summary>
    public long Syncs;
    public long IndexNames;

    public void Record(ushort type, int rcode, long startTimestamp)
    {
        Interlocked.Increment(ref _requests[(TypeIndex(type) * Rcodes.Length) + RcodeIndex(rcode)]);
        var ticks = Stopwatch.GetTimestamp() - startTimestamp;
        var bucket = 0;
        while (bucket < BucketTicks.Length && ticks > BucketTicks[bucket])
        {
            bucket++;
        }
        Interlocked.Increment(ref _latency[bucket]);
        Interlocked.Add(ref _latencyTicks, ticks);
    }

    public long Requests(ushort type, int rcode) => Volatile.Read(ref _requests[(TypeIndex(type) * Rcodes.Length) + RcodeIndex(rcode)]);

    public long TotalRequests => _requests.Sum(r => Volatile.Read(ref r));

    public string ToPrometheus()
    {
        var text = new StringBuilder();
        text.Append("# HELP podnet_dns_requests_total DNS requests answered, by query type and response code.\n# TYPE podnet_dns_requests_total counter\n");
        for (var t = 0; t < Types.Length; t++)
        {
            for (var r = 0; r < Rcodes.Length; r++)
            {
                var count = Volatile.Read(ref _requests[(t * Rcodes.Length) + r]);
                if (count > 0)
                {
                    text.Append(CultureInfo.InvariantCulture, $"podnet_dns_requests_total{{type=\"{RecordType.Name(Types[t])}\",rcode=\"{ResponseCode.Name(Rcodes[r])}\"}} {count}\n");
                }
            }
        }
        text.Append("# HELP podnet_dns_request_duration_seconds Time from a query's receipt to its response.\n# TYPE podnet_dns_request_duration_seconds histogram\n");
        long cumulative = 0;
        for (var b = 0; b < Buckets.Length; b++)
        {
            cumulative += Volatile.Read(ref _latency[b]);
            text.Append(CultureInfo.InvariantCulture, $"podnet_dns_request_duration_seconds_bucket{{le=\"{Buckets[b]}\"}} {cumulative}\n");
        }
        cumulative += Volatile.Read(ref _latency[^1]);
        text.Append(CultureInfo.InvariantCulture, $"podnet_dns_request_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative}\n");
        text.Append(CultureInfo.InvariantCulture, $"podnet_dns_request_duration_seconds_sum {(double)Volatile.Read(ref _latencyTicks) / Stopwatch.Frequency}\n");
        text.Append(CultureInfo.InvariantCulture, $"podnet_dns_request_duration_seconds_count {cumulative}\n");
        Counter(text, "podnet_dns_cache_hits_total", "Forwarded queries answered from the cache.", CacheHits);
        Counter(text, "podnet_dns_cache_misses_total", "Forwarded queries the cache did not hold.", CacheMisses);
        Counter(text, "podnet_dns_upstream_failures_total", "Upstream exchanges that failed (timeout, error, SERVFAIL, REFUSED).", UpstreamFailures);
        Counter(text, "podnet_dns_dropped_total", "Packets dropped unanswered (too short, or responses).", Dropped);
        Counter(text, "podnet_dns_tcp_connections_total", "TCP connections accepted.", TcpConnections);
        Counter(text, "podnet_dns_index_syncs_total", "Rebuilds of the record index from the API's state.", Syncs);
        text.Append(CultureInfo.InvariantCulture, $"# HELP podnet_dns_index_names Names in the record index.\n# TYPE podnet_dns_index_names gauge\npodnet_dns_index_names {Volatile.Read(ref IndexNames)}\n");
        return text.ToString();
    }

    private static void Counter(StringBuilder text, string name, string help, long value) =>
        text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n");

    private static int TypeIndex(ushort type)
    {
        var i = Array.IndexOf(Types, type);
        return i < 0 ? Types.Length - 1 : i;
    }

    private static int RcodeIndex(int rcode)
    {
        var i = Array.IndexOf(Rcodes, rcode);
        return i < 0 ? Rcodes.Length - 1 : i;
    }
}
