using System.Net;
using Podnet.Dns.Forwarding;
using Podnet.Dns.Index;
using Podnet.Dns.Watch;

namespace Podnet.Dns.Server;

/// <summary>Everything `podnet dns` runs with.</summary>
public sealed record DnsHostOptions
{
    public DnsOptions Zone { get; init; } = new();

    public DnsServerOptions Server { get; init; } = new();

    /// <summary>Upstreams for names outside the zone; none: SERVFAIL for them.</summary>
    public IReadOnlyList<IPEndPoint> Upstreams { get; init; } = [];

    public ForwarderOptions Forwarder { get; init; } = new();

    /// <summary>Ports of /metrics, /health and /ready, on the DNS listen address; null: no HTTP endpoints.</summary>
    public HttpPorts? Http { get; init; } = new();

    public Action<string>? Log { get; init; }
}

/// <summary>
/// The running DNS server: the index holder fed by the watch, the forwarder, the UDP/TCP
/// listeners and the HTTP endpoints, started together and stopped together.
/// </summary>
public sealed class DnsHost : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly DnsServer _server;
    private readonly HttpEndpoints? _http;
    private readonly ClusterWatcher _watcher;

    private DnsHost(CancellationTokenSource stop, DnsServer server, HttpEndpoints? http, ClusterWatcher watcher, DnsCounters counters, Task watching)
    {
        _stop = stop;
        _server = server;
        _http = http;
        _watcher = watcher;
        Counters = counters;
        Watching = watching;
    }

    public IPEndPoint EndPoint => _server.LocalEndPoint;

    public bool Ready => _watcher.Ready;

    public DnsCounters Counters { get; }

    /// <summary>The watch; ends when the host is disposed.</summary>
    public Task Watching { get; }

    public static async Task<DnsHost> StartAsync(DnsHostOptions options, WatchSources sources, CancellationToken cancellationToken)
    {
        var counters = new DnsCounters();
        var holder = new IndexHolder(RecordIndex.Unsynced(options.Zone));
        var forwarder = options.Upstreams.Count > 0 ? new Forwarder(options.Upstreams, options.Forwarder, counters) : null;
        var server = DnsServer.Start(options.Server with { Log = options.Server.Log ?? options.Log }, new QueryHandler(holder, forwarder, counters));
        var watcher = new ClusterWatcher(sources, options.Zone, holder, counters, options.Log);
        HttpEndpoints? http = null;
        try
        {
            if (options.Http is { } ports)
            {
                http = await HttpEndpoints.StartAsync(server.LocalEndPoint.Address, ports, counters, () => watcher.Ready, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watching = Task.Run(() => watcher.RunAsync(stop.Token), CancellationToken.None);
        return new DnsHost(stop, server, http, watcher, counters, watching);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Watching.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        if (_http is not null)
        {
            await _http.DisposeAsync().ConfigureAwait(false);
        }
        await _server.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
