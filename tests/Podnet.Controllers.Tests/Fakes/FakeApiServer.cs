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
/// (issue 4) lands: plain HTTP, the wire format of list, watch, get, create (generateName),
/// replace (409 on a stale resourceVersion), JSON merge patch, delete, the status subresource,
/// pods/binding and namespaces/finalize for the resources the controllers use (see
/// <see cref="FakeRoutes"/>), and hooks to fail requests, close watches and restart on the same
/// port. No validation, defaulting, admission or garbage collection: only what these tests need.
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
            try
            {
                context.Abort();
            }
            catch (ObjectDisposedException)
            {
                // The watch's request ended on its own while we were stopping: nothing to cut.
            }
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
        var routes = new FakeRoutes(Store, _watches);
        app.Map("/api/{**path}", routes.HandleAsync);
        app.Map("/apis/{**path}", routes.HandleAsync);
        await app.StartAsync();
        _app = app;
        Port = new Uri(app.Urls.First()).Port;
    }

    internal static JsonObject StatusJson(int code, string reason, string message) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = message,
        ["reason"] = reason,
        ["code"] = code,
    };

    internal static async Task WriteStatus(HttpContext context, int code, string reason, string message)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(StatusJson(code, reason, message).ToJsonString());
    }
}
