using System.Globalization;
using System.Text;

namespace Podnet.Agent.Proxy;

/// <summary>
/// What the proxy reports: sync durations (a histogram with kube-proxy's metric name and
/// exponential buckets from 1 ms), the last successful sync, failures, and what is programmed.
/// Written as Prometheus text by <see cref="Write"/>. Thread-safe.
/// </summary>
public sealed class ProxyMetrics
{
    private static readonly double[] s_buckets = Enumerable.Range(0, 15).Select(i => 0.001 * Math.Pow(2, i)).ToArray();
    private readonly Lock _lock = new();
    private readonly long[] _counts = new long[s_buckets.Length + 1];
    private double _sum;
    private long _syncs;
    private long _partial;
    private long _failures;
    private DateTimeOffset? _last;

    public DateTimeOffset? LastSync
    {
        get
        {
            lock (_lock)
            {
                return _last;
            }
        }
    }

    public long Failures
    {
        get
        {
            lock (_lock)
            {
                return _failures;
            }
        }
    }

    /// <summary>Whether the last sync failed (reset by the next success).</summary>
    public bool Failing { get; private set; }

    public void Synced(TimeSpan duration, bool full, DateTimeOffset now)
    {
        lock (_lock)
        {
            var seconds = duration.TotalSeconds;
            var bucket = Array.FindIndex(s_buckets, b => seconds <= b);
            _counts[bucket < 0 ? s_buckets.Length : bucket]++;
            _sum += seconds;
            _syncs++;
            _partial += full ? 0 : 1;
            _last = now;
            Failing = false;
        }
    }

    public void Failed()
    {
        lock (_lock)
        {
            _failures++;
            Failing = true;
        }
    }

    /// <param name="programmed">Per family ("ipv4"/"ipv6"): Services, elements and endpoints committed.</param>
    public string Write(IEnumerable<(string Family, int Services, int Elements, int Endpoints)> programmed)
    {
        var text = new StringBuilder();
        lock (_lock)
        {
            text.Append("# HELP kubeproxy_sync_proxy_rules_duration_seconds SyncProxyRules latency in seconds\n");
            text.Append("# TYPE kubeproxy_sync_proxy_rules_duration_seconds histogram\n");
            long cumulative = 0;
            for (var i = 0; i < s_buckets.Length; i++)
            {
                cumulative += _counts[i];
                text.Append(CultureInfo.InvariantCulture, $"kubeproxy_sync_proxy_rules_duration_seconds_bucket{{le=\"{s_buckets[i].ToString("G6", CultureInfo.InvariantCulture)}\"}} {cumulative}\n");
            }
            cumulative += _counts[^1];
            text.Append(CultureInfo.InvariantCulture, $"kubeproxy_sync_proxy_rules_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative}\n");
            text.Append(CultureInfo.InvariantCulture, $"kubeproxy_sync_proxy_rules_duration_seconds_sum {_sum.ToString("G9", CultureInfo.InvariantCulture)}\n");
            text.Append(CultureInfo.InvariantCulture, $"kubeproxy_sync_proxy_rules_duration_seconds_count {cumulative}\n");
            text.Append("# HELP kubeproxy_sync_proxy_rules_last_timestamp_seconds The last time proxy rules were successfully synced\n");
            text.Append("# TYPE kubeproxy_sync_proxy_rules_last_timestamp_seconds gauge\n");
            text.Append(CultureInfo.InvariantCulture, $"kubeproxy_sync_proxy_rules_last_timestamp_seconds {(_last?.ToUnixTimeMilliseconds() / 1000.0 ?? 0).ToString("F3", CultureInfo.InvariantCulture)}\n");
            text.Append("# HELP kubeproxy_sync_proxy_rules_nftables_sync_failures_total Cumulative proxy nftables sync failures\n");
            text.Append("# TYPE kubeproxy_sync_proxy_rules_nftables_sync_failures_total counter\n");
            text.Append(CultureInfo.InvariantCulture, $"kubeproxy_sync_proxy_rules_nftables_sync_failures_total {_failures}\n");
            text.Append("# HELP podnet_proxy_partial_syncs_total Syncs that changed only the Services that changed\n");
            text.Append("# TYPE podnet_proxy_partial_syncs_total counter\n");
            text.Append(CultureInfo.InvariantCulture, $"podnet_proxy_partial_syncs_total {_partial}\n");
            text.Append("# HELP podnet_proxy_syncs_total Syncs committed, full and partial\n");
            text.Append("# TYPE podnet_proxy_syncs_total counter\n");
            text.Append(CultureInfo.InvariantCulture, $"podnet_proxy_syncs_total {_syncs}\n");
        }
        var rows = programmed.ToArray();
        Gauge(text, "podnet_proxy_services", "Services programmed", rows.Select(r => (r.Family, r.Services)));
        Gauge(text, "podnet_proxy_nftables_elements", "Map and set elements programmed for Services", rows.Select(r => (r.Family, r.Elements)));
        Gauge(text, "podnet_proxy_endpoints", "Endpoints programmed (per Service port and ClusterIP)", rows.Select(r => (r.Family, r.Endpoints)));
        return text.ToString();
    }

    private static void Gauge(StringBuilder text, string name, string help, IEnumerable<(string Family, int Value)> values)
    {
        text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} gauge\n");
        foreach (var (family, value) in values)
        {
            text.Append(CultureInfo.InvariantCulture, $"{name}{{family=\"{family}\"}} {value}\n");
        }
    }
}
