using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using k8s;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Podnet.Controllers.Tests.Fakes;

/// <summary>
/// A FAKE Kubernetes API server on 127.0.0.1, for tests only, until the lab's real API server
/// (issue 4) lands: plain HTTP, list and watch for a few resources in the real wire format
/// (a v1 List with metadata.resourceVersion; newline-delimited watch events; an ERROR event with
/// a 410 Expired Status for a compacted resourceVersion), and hooks to fail requests, close
/// watches and restart on the same port. Objects are changed through <see cref="Store"/>.
/// </summary>
internal sealed class FakeApiServer : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> _requests = new();
    private readonly ConcurrentDictionary<HttpContext, byte> _watches = new();
    private WebApplication? _app;
    private int _failures;
    private int _failureCode;

    private FakeApiServer()
    {
    }

    public FakeStore Store { get; } = new();

    public int Port { get; private set; }

    public IReadOnlyList<string> Requests => [.. _requests];

    public static async Task<FakeApiServer> StartAsync()
    {
        var server = new FakeApiServer();
        await server.StartOnAsync(0);
        return server;
    }

    public IKubernetes Client() => new Kubernetes(new KubernetesClientConfiguration { Host = $"http://127.0.0.1:{Port}" });

    /// <summary>The next <paramref name="count"/> requests fail with <paramref name="code"/>.</summary>
    public void FailNext(int count, int code = 500)
    {
        _failureCode = code;
        Volatile.Write(ref _failures, count);
    }

    /// <summary>Stops (cutting open watches mid-stream), stays down for <paramref name="downtime"/>, starts again on the same port.</summary>
    public async Task RestartAsync(TimeSpan downtime)
    {
        await StopAsync();
        await Task.Delay(downtime);
        await StartOnAsync(Port);
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task StopAsync()
    {
        foreach (var context in _watches.Keys)
        {
            context.Abort();
        }
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }

    private async Task StartOnAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            _requests.Enqueue(context.Request.Path + context.Request.QueryString);
            if (Interlocked.Decrement(ref _failures) >= 0)
            {
                await WriteStatus(context, _failureCode, "InternalError", "injected failure");
                return;
            }
            await next(context);
        });
        app.MapGet("/api/v1/{resource}", (HttpContext c, string resource) => Serve(c, resource));
        app.MapGet("/apis/{group}/{version}/{resource}", (HttpContext c, string resource) => Serve(c, resource));
        await app.StartAsync();
        _app = app;
        Port = new Uri(app.Urls.First()).Port;
    }

    private async Task Serve(HttpContext context, string resource)
    {
        if (!FakeStore.Kinds.ContainsKey(resource))
        {
            await WriteStatus(context, 404, "NotFound", $"the server could not find the requested resource ({resource})");
            return;
        }
        if (context.Request.Query["watch"] is { Count: > 0 } watch && watch[0] is "true" or "1")
        {
            await Watch(context, resource);
            return;
        }
        var (items, rv) = Store.List(resource);
        var (apiVersion, kind) = FakeStore.Kinds[resource];
        var list = new JsonObject
        {
            ["kind"] = kind + "List",
            ["apiVersion"] = apiVersion,
            ["metadata"] = new JsonObject { ["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture) },
            ["items"] = new JsonArray([.. items]),
        };
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(list.ToJsonString());
    }

    private async Task Watch(HttpContext context, string resource)
    {
        var rvText = context.Request.Query["resourceVersion"].ToString();
        var fromRv = long.TryParse(rvText, NumberStyles.None, CultureInfo.InvariantCulture, out var rv) ? rv : Store.ResourceVersion;
        context.Response.ContentType = "application/json";
        await context.Response.StartAsync();
        var subscription = Store.Subscribe(resource, fromRv);
        if (subscription is not { } sub)
        {
            var status = StatusJson(410, "Expired", $"too old resource version: {fromRv} ({Store.ResourceVersion})");
            await context.Response.WriteAsync(new JsonObject { ["type"] = "ERROR", ["object"] = status }.ToJsonString() + "\n");
            return;
        }
        _watches[context] = 0;
        try
        {
            foreach (var line in sub.Backlog)
            {
                await context.Response.WriteAsync(line + "\n");
            }
            await context.Response.Body.FlushAsync();
            var timeout = int.TryParse(context.Request.Query["timeoutSeconds"], out var s) ? TimeSpan.FromSeconds(s) : TimeSpan.FromMinutes(5);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            cts.CancelAfter(timeout);
            await foreach (var line in sub.Live.Reader.ReadAllAsync(cts.Token))
            {
                await context.Response.WriteAsync(line + "\n", cts.Token);
                await context.Response.Body.FlushAsync(cts.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // timeout or client gone: end the response
        }
        finally
        {
            Store.Unsubscribe(sub.Live);
            _watches.TryRemove(context, out _);
        }
    }

    private static JsonObject StatusJson(int code, string reason, string message) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = message,
        ["reason"] = reason,
        ["code"] = code,
    };

    private static async Task WriteStatus(HttpContext context, int code, string reason, string message)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(StatusJson(code, reason, message).ToJsonString());
    }
}
