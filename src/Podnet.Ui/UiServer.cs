using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Podnet.Ui;

/// <summary>What `podnet lab ui` starts the view with.</summary>
/// <param name="Lab">The lab as `lab status -o json` describes it (fabric, outside host, control plane, nodes, architecture, routing).</param>
/// <param name="Port">The port on 127.0.0.1; 0 picks a free one.</param>
public sealed record UiOptions(KubernetesClientConfiguration Kubeconfig, JsonObject Lab, int Port, string ClusterDomain = "cluster.local", Action<string>? Log = null);

/// <summary>
/// The web view's server: Kestrel on 127.0.0.1 only, serving the embedded page and its assets,
/// <c>/events</c> (Server-Sent Events: the state, then every change), <c>/state</c> (the
/// same snapshot once, for scripts) and <c>/policy?pod=NS/NAME</c> (who may reach the pod and
/// whom it may reach, with the deciding rules). It never writes to the API server.
/// </summary>
/// <remarks>
/// Requests whose Host is not this loopback address are refused (421), so that a web page
/// the user visits cannot rebind a name of its own to 127.0.0.1 and read the cluster.
/// </remarks>
public sealed class UiServer : IAsyncDisposable
{
    private static readonly (string Path, string Resource, string Type)[] s_assets =
    [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/app.js", "app.js", "text/javascript; charset=utf-8"),
        ("/app.css", "app.css", "text/css; charset=utf-8"),
        ("/vendor.js", "vendor.js", "text/javascript; charset=utf-8"),
    ];

    private readonly WebApplication _app;
    private readonly Kubernetes _client;
    private readonly CancellationTokenSource _stop = new();
    private Task _watching = Task.CompletedTask;

    private UiServer(WebApplication app, Kubernetes client)
    {
        _app = app;
        _client = client;
    }

    /// <summary>Where the page is, once started.</summary>
    public Uri Url { get; private set; } = null!;

    public static async Task<UiServer> StartAsync(UiOptions options, CancellationToken token)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // Open /events streams end at once on stopping (below); nothing else is long-lived.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, options.Port));
        var app = builder.Build();
        var state = new UiState(options.Lab);
        var client = new Kubernetes(options.Kubeconfig);
        var server = new UiServer(app, client);
        app.Use(async (context, next) =>
        {
            if (context.Request.Host.Host is not ("127.0.0.1" or "localhost"))
            {
                context.Response.StatusCode = StatusCodes.Status421MisdirectedRequest;
                await context.Response.WriteAsync("this server answers only to http://127.0.0.1\n");
                return;
            }
            await next(context);
        });
        foreach (var (path, resource, type) in s_assets)
        {
            var bytes = Asset(resource);
            app.MapGet(path, (HttpContext context) =>
            {
                context.Response.ContentType = type;
                context.Response.Headers.CacheControl = "no-cache";
                return context.Response.Body.WriteAsync(bytes).AsTask();
            });
        }
        app.MapGet("/state", (HttpContext context) =>
        {
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync(state.Snapshot());
        });
        app.MapGet("/events", (HttpContext context) => StreamAsync(context, state, app.Lifetime.ApplicationStopping));
        var watcher = new UiWatcher(client, state, options.ClusterDomain, options.Log);
        var deny = (string?)options.Lab["policyDeny"] == "reject" ? Policy.PolicyDeny.Reject : Policy.PolicyDeny.Drop;
        app.MapGet("/policy", (HttpContext context) =>
        {
            var pod = context.Request.Query["pod"].ToString();
            if (watcher.PolicyJson(pod, deny) is not { } json)
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return context.Response.WriteAsync($"no running pod {pod} with an address\n");
            }
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync(json);
        });
        await app.StartAsync(token).ConfigureAwait(false);
        server.Url = new Uri(new Uri(app.Urls.First()), "/");
        server._watching = watcher.RunAsync(server._stop.Token);
        return server;
    }

    /// <summary>Runs until <paramref name="token"/> is cancelled, or the host stops (it handles SIGTERM and Ctrl-C itself).</summary>
    public async Task RunAsync(CancellationToken token)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(token, _app.Lifetime.ApplicationStopping);
        try
        {
            await Task.Delay(Timeout.Infinite, either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _app.StopAsync().ConfigureAwait(false);
        try
        {
            await _watching.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        await _app.DisposeAsync().ConfigureAwait(false);
        _client.Dispose();
        _stop.Dispose();
    }

    /// <summary>Streams the state to one page until it goes away or the server stops (which would otherwise wait for it).</summary>
    private static async Task StreamAsync(HttpContext context, UiState state, CancellationToken stopping)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        using var subscription = state.Subscribe();
        using var either = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        var token = either.Token;
        try
        {
            // A comment every 15 s keeps idle connections from being taken for dead by proxies and the browser.
            using var heartbeat = new PeriodicTimer(TimeSpan.FromSeconds(15));
            var next = subscription.Reader.WaitToReadAsync(token).AsTask();
            var tick = heartbeat.WaitForNextTickAsync(token).AsTask();
            while (true)
            {
                var done = await Task.WhenAny(next, tick).ConfigureAwait(false);
                if (done == tick)
                {
                    await context.Response.WriteAsync(": keep-alive\n\n", token).ConfigureAwait(false);
                    await context.Response.Body.FlushAsync(token).ConfigureAwait(false);
                    tick = heartbeat.WaitForNextTickAsync(token).AsTask();
                    continue;
                }
                if (!await next.ConfigureAwait(false))
                {
                    return;
                }
                var text = new StringBuilder();
                while (subscription.Reader.TryRead(out var message))
                {
                    text.Append("data: ").Append(message).Append("\n\n");
                }
                await context.Response.WriteAsync(text.ToString(), token).ConfigureAwait(false);
                await context.Response.Body.FlushAsync(token).ConfigureAwait(false);
                next = subscription.Reader.WaitToReadAsync(token).AsTask();
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (InvalidOperationException)
        {
            // Cut off for falling behind: ending the response makes the page reconnect and start from a snapshot.
        }
    }

    private static byte[] Asset(string name)
    {
        using var stream = typeof(UiServer).Assembly.GetManifestResourceStream($"Podnet.Ui.web.{name}")
            ?? throw new InvalidOperationException($"the web view's {name} is not embedded in this build");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
