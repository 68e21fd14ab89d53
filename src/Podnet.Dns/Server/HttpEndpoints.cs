using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Podnet.Dns.Server;

/// <summary>Ports of the HTTP endpoints, as CoreDNS has them by default.</summary>
public sealed record HttpPorts(int Metrics = 9153, int Health = 8080, int Ready = 8181);

/// <summary>
/// /metrics (Prometheus text), /health (200 while the process serves) and /ready (200 once the
/// first full sync is in the index, 503 before), each on its own port as CoreDNS serves them.
/// </summary>
public sealed class HttpEndpoints : IAsyncDisposable
{
    private readonly WebApplication _app;

    private HttpEndpoints(WebApplication app)
    {
        _app = app;
    }

    public static async Task<HttpEndpoints> StartAsync(IPAddress address, HttpPorts ports, DnsCounters counters, Func<bool> ready, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            foreach (var port in new[] { ports.Metrics, ports.Health, ports.Ready }.Distinct())
            {
                kestrel.Listen(address, port);
            }
        });
        var app = builder.Build();
        app.Run(context => Serve(context, ports, counters, ready));
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        return new HttpEndpoints(app);
    }

    private static Task Serve(HttpContext context, HttpPorts ports, DnsCounters counters, Func<bool> ready)
    {
        var port = context.Connection.LocalPort;
        var (status, body, type) = context.Request.Path.Value switch
        {
            "/metrics" when port == ports.Metrics => (200, counters.ToPrometheus(), "text/plain; version=0.0.4; charset=utf-8"),
            "/health" when port == ports.Health => (200, "OK\n", "text/plain"),
            "/ready" when port == ports.Ready => ready() ? (200, "OK\n", "text/plain") : (503, "not synced with the API yet\n", "text/plain"),
            _ => (404, "not found\n", "text/plain"),
        };
        context.Response.StatusCode = status;
        context.Response.ContentType = type;
        return context.Response.WriteAsync(body);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
