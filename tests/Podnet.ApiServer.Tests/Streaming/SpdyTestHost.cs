using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Podnet.ApiServer.Pki;
using Podnet.ApiServer.Streaming;
using Podnet.ApiServer.Streaming.Spdy;

namespace Podnet.ApiServer.Tests.Streaming;

/// <summary>
/// A minimal ASP.NET Core host (TLS on 127.0.0.1, a token) that serves just what kubectl needs
/// for exec, attach and port-forward — discovery, one running pod, and the three subresources —
/// with the real <see cref="SpdyTransport"/> in front of a test backend. It stands in for the API
/// server's routing so that the SPDY layer is tested against real kubectl on its own.
/// </summary>
internal sealed class SpdyTestHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _directory;

    private SpdyTestHost(WebApplication app, string directory)
    {
        _app = app;
        _directory = directory;
    }

    public string Kubeconfig => Path.Combine(_directory, "kubeconfig");

    public string Home => Path.Combine(_directory, "home");

    public static async Task<SpdyTestHost> StartAsync(IStreamBackend backend, SpdyTransport? transport = null)
    {
        transport ??= new SpdyTransport();
        var directory = Directory.CreateTempSubdirectory("spdy-host-").FullName;
        Directory.CreateDirectory(Path.Combine(directory, "home"));
        var certificates = Certificates.LoadOrCreate(Path.Combine(directory, "pki"), [IPAddress.Loopback], ["localhost"]);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l =>
        {
            l.Protocols = HttpProtocols.Http1AndHttp2;
            l.UseHttps(certificates.Serving);
        }));
        var app = builder.Build();
        app.UseWebSockets();
        app.Run(context => ServeAsync(context, certificates.Token, transport, backend));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        ApiServer.Kubeconfig.Write(Path.Combine(directory, "kubeconfig"), new Uri(address.Replace("[::1]", "127.0.0.1", StringComparison.Ordinal)), certificates.CaPem, certificates.Token);
        return new SpdyTestHost(app, directory);
    }

    private static async Task ServeAsync(HttpContext context, string token, SpdyTransport transport, IStreamBackend backend)
    {
        if (context.Request.Headers.Authorization != $"Bearer {token}")
        {
            context.Response.StatusCode = 401;
            return;
        }
        var path = context.Request.Path.Value ?? "";
        var parts = path.Trim('/').Split('/');
        switch (parts)
        {
            case ["api"]:
                await Json(context, new JsonObject { ["kind"] = "APIVersions", ["versions"] = new JsonArray("v1"), ["serverAddressByClientCIDRs"] = new JsonArray() });
                return;
            case ["apis"]:
                await Json(context, new JsonObject { ["kind"] = "APIGroupList", ["apiVersion"] = "v1", ["groups"] = new JsonArray() });
                return;
            case ["api", "v1"]:
                await Json(context, Resources());
                return;
            case ["api", "v1", "namespaces", var ns, "pods", var pod]:
                await Json(context, Pod(ns, pod));
                return;
            case ["api", "v1", "namespaces", var ns, "pods", var pod, "exec" or "attach"]:
                var query = context.Request.Query;
                var request = new ExecRequest(parts[6] == "exec" ? StreamVerb.Exec : StreamVerb.Attach, ns, pod,
                    (string?)query["container"] ?? "main", [.. query["command"].Select(c => c ?? "")],
                    query["stdin"] == "true", query["stdout"] == "true", query["stderr"] == "true", query["tty"] == "true");
                await transport.ServeExecAsync(context, request, backend);
                return;
            case ["api", "v1", "namespaces", var ns, "pods", var pod, "portforward"]:
                await transport.ServePortForwardAsync(context, new PortForwardRequest(ns, pod, []), backend);
                return;
            default:
                context.Response.StatusCode = 404;
                await Json(context, new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["status"] = "Failure", ["reason"] = "NotFound", ["code"] = 404 });
                return;
        }
    }

    private static JsonObject Resources()
    {
        var list = new JsonArray();
        foreach (var (name, kind, verbs) in new[] { ("pods", "Pod", new[] { "get", "list" }), ("pods/exec", "PodExecOptions", ["create", "get"]), ("pods/attach", "PodAttachOptions", ["create", "get"]), ("pods/portforward", "PodPortForwardOptions", ["create", "get"]) })
        {
            list.Add(new JsonObject { ["name"] = name, ["singularName"] = "", ["namespaced"] = true, ["kind"] = kind, ["verbs"] = new JsonArray([.. verbs.Select(v => JsonValue.Create(v))]) });
        }
        return new JsonObject { ["kind"] = "APIResourceList", ["groupVersion"] = "v1", ["resources"] = list };
    }

    private static JsonObject Pod(string ns, string name) => new()
    {
        ["kind"] = "Pod",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns, ["uid"] = "00000000-0000-0000-0000-000000000001", ["resourceVersion"] = "1" },
        ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "main", ["image"] = "test" }) },
        ["status"] = new JsonObject { ["phase"] = "Running" },
    };

    private static async Task Json(HttpContext context, JsonObject body)
    {
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
