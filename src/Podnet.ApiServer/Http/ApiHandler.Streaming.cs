using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Podnet.ApiServer.Registry;
using Podnet.ApiServer.Streaming;

namespace Podnet.ApiServer.Http;

/// <summary>
/// The subresources served by a node's kubelet: pods/exec, pods/attach, pods/portforward (through
/// a streaming transport, Streaming/StreamingContracts.cs), pods/log and nodes/proxy (HTTP
/// relayed as it comes, so follow streams).
/// </summary>
internal sealed partial class ApiHandler
{
    /// <summary>The kubelet side; null when this server reaches no kubelets (then 503 ServiceUnavailable).</summary>
    public KubeletStreamBackend? Kubelets { get; init; }

    public IReadOnlyList<IStreamTransport> Transports { get; init; } = [new WebSocketTransport(), new Streaming.Spdy.SpdyTransport()];

    private async Task<bool> ServeStreamingAsync(HttpContext context, string path)
    {
        var segments = path.Trim('/').Split('/');
        // /api/v1/namespaces/NS/pods/NAME/SUB
        if (segments is ["api", "v1", "namespaces", var ns, "pods", var name, var sub] && sub is "exec" or "attach" or "portforward" or "log")
        {
            var backend = Kubelets ?? throw new ApiException(503, "ServiceUnavailable", "this API server does not reach kubelets");
            switch (sub)
            {
                case "log":
                    RequireMethod(context, "GET");
                    await ServeLogAsync(context, backend, ns, name).ConfigureAwait(false);
                    break;
                case "portforward":
                    RequireMethod(context, "GET", "POST");
                    var forward = await backend.ResolvePortForwardAsync(new PortForwardRequest(ns, name, PortsOf(context.Request.Query)), context.RequestAborted).ConfigureAwait(false);
                    await TransportOf(context).ServePortForwardAsync(context, forward, backend).ConfigureAwait(false);
                    break;
                default:
                    RequireMethod(context, "GET", "POST");
                    var exec = await backend.ResolveExecAsync(ExecRequestOf(sub == "exec" ? StreamVerb.Exec : StreamVerb.Attach, ns, name, context.Request.Query), context.RequestAborted).ConfigureAwait(false);
                    await TransportOf(context).ServeExecAsync(context, exec, backend).ConfigureAwait(false);
                    break;
            }
            return true;
        }
        // /api/v1/nodes/NAME/proxy[/PATH]
        if (segments.Length >= 5 && segments[0] == "api" && segments[1] == "v1" && segments[2] == "nodes" && segments[4] == "proxy")
        {
            var backend = Kubelets ?? throw new ApiException(503, "ServiceUnavailable", "this API server does not reach kubelets");
            RequireMethod(context, "GET");
            var node = service.Get(ResourceCatalog.Nodes, null, segments[3]);
            var rest = "/" + string.Join('/', segments[5..].Select(Uri.EscapeDataString));
            using var response = await backend.GetAsync(node, rest + context.Request.QueryString.Value, context.RequestAborted).ConfigureAwait(false);
            await RelayAsync(context, response).ConfigureAwait(false);
            return true;
        }
        return false;
    }

    private async Task ServeLogAsync(HttpContext context, KubeletStreamBackend backend, string ns, string name)
    {
        var options = PodLogOptions.Parse(name, q => context.Request.Query[q].LastOrDefault());
        var pod = service.Get(ResourceCatalog.Pods, ns, name);
        if ((string?)pod["spec"]?["nodeName"] is not { Length: > 0 })
        {
            throw ApiException.BadRequest($"pod {name} does not have a host assigned");
        }
        var container = KubeletStreamBackend.ContainerOf(pod, name, options.Container);
        var query = options.ToQuery();
        var target = $"/containerLogs/{Uri.EscapeDataString(ns)}/{Uri.EscapeDataString(name)}/{Uri.EscapeDataString(container)}{(query.Length > 0 ? "?" + query : "")}";
        using var response = await backend.GetAsync(pod, target, context.RequestAborted).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            // As kube-apiserver: the kubelet's error text becomes the Status message.
            var text = await ReadBoundedAsync(response, context.RequestAborted).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            throw new ApiException(code, code switch { 404 => "NotFound", 400 => "BadRequest", 403 => "Forbidden", 401 => "Unauthorized", _ => "InternalError" }, text.Trim());
        }
        await RelayAsync(context, response).ConfigureAwait(false);
    }

    /// <summary>Copies a kubelet's answer to the client as it arrives (flushing each read, so follow streams).</summary>
    private static async Task RelayAsync(HttpContext context, HttpResponseMessage response)
    {
        context.Response.StatusCode = (int)response.StatusCode;
        context.Response.ContentType = response.Content.Headers.ContentType?.ToString() ?? "text/plain";
        await context.Response.StartAsync(context.RequestAborted).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted).ConfigureAwait(false);
        var buffer = new byte[32 * 1024];
        int n;
        try
        {
            while ((n = await body.ReadAsync(buffer, context.RequestAborted).ConfigureAwait(false)) > 0)
            {
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, n), context.RequestAborted).ConfigureAwait(false);
                await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
    }

    private static async Task<string> ReadBoundedAsync(HttpResponseMessage response, CancellationToken token)
    {
        await using var body = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
        var buffer = new byte[16 * 1024];
        var total = 0;
        int n;
        while (total < buffer.Length && (n = await body.ReadAsync(buffer.AsMemory(total), token).ConfigureAwait(false)) > 0)
        {
            total += n;
        }
        return System.Text.Encoding.UTF8.GetString(buffer, 0, total);
    }

    private IStreamTransport TransportOf(HttpContext context) =>
        Transports.FirstOrDefault(t => t.CanServe(context)) ?? throw ApiException.BadRequest("Upgrade request required");

    private static void RequireMethod(HttpContext context, params string[] methods)
    {
        if (!methods.Contains(context.Request.Method, StringComparer.OrdinalIgnoreCase))
        {
            throw ApiException.MethodNotAllowed($"the server does not allow this method on the requested resource");
        }
    }

    /// <summary>exec/attach query: command (repeated), container, stdin, stdout, stderr, tty; checked as kube-apiserver does.</summary>
    internal static ExecRequest ExecRequestOf(StreamVerb verb, string ns, string pod, IQueryCollection query)
    {
        static bool Flag(IQueryCollection query, string name) => query[name].LastOrDefault() switch
        {
            null or "" or "false" or "0" => false,
            "true" or "1" => true,
            var other => throw ApiException.BadRequest($"{name}: '{other}' is not a boolean (true or false)"),
        };
        var request = new ExecRequest(verb, ns, pod, query["container"].LastOrDefault() ?? "",
            query["command"].Where(c => c is not null).Select(c => c!).ToArray(),
            Flag(query, "stdin"), Flag(query, "stdout"), Flag(query, "stderr"), Flag(query, "tty"));
        if (!request.Stdin && !request.Stdout && !request.Stderr)
        {
            throw ApiException.BadRequest("you must specify at least 1 of stdin, stdout, stderr");
        }
        if (verb == StreamVerb.Exec && request.Command.Count == 0)
        {
            throw ApiException.BadRequest("you must specify at least one command for the container");
        }
        if (request.Command.Count > 1024 || request.Command.Sum(c => c.Length) > 256 * 1024)
        {
            throw ApiException.BadRequest("the command is too long (at most 1024 words, 256 KiB)");
        }
        return request;
    }

    internal static IReadOnlyList<int> PortsOf(IQueryCollection query)
    {
        var ports = new List<int>();
        foreach (var text in query["ports"].SelectMany(p => (p ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            ports.Add(int.TryParse(text, out var port) && port is > 0 and <= 65535 ? port
                : throw ApiException.BadRequest($"invalid port \"{text}\": must be 1-65535"));
        }
        return ports;
    }
}
