using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Streaming;

/// <summary>
/// Takes exec, attach and port-forward to the kubelet API of the pod's node, as kube-apiserver
/// does: the node's InternalIP and status.daemonEndpoints.kubeletEndpoint.Port, one
/// v5.channel.k8s.io WebSocket per exec or attach, whatever transport the client came with.
/// </summary>
internal sealed class KubeletStreamBackend(ResourceService service, KubeletClient kubelets) : IStreamBackend
{
    public const int DefaultKubeletPort = 10250;

    public Task<ExecRequest> ResolveExecAsync(ExecRequest request, CancellationToken token)
    {
        var pod = RunningPod(request.Namespace, request.Pod, request.Verb == StreamVerb.Exec ? "exec into" : "attach to");
        return Task.FromResult(request with { Container = ContainerOf(pod, request.Pod, request.Container) });
    }

    public Task<PortForwardRequest> ResolvePortForwardAsync(PortForwardRequest request, CancellationToken token)
    {
        RunningPod(request.Namespace, request.Pod, "port-forward to");
        return Task.FromResult(request);
    }

    public async Task ExecAsync(ExecRequest request, IExecSession session, CancellationToken token)
    {
        var pod = service.Get(ResourceCatalog.Pods, request.Namespace, request.Pod);
        var verb = request.Verb == StreamVerb.Exec ? "exec" : "attach";
        var query = new List<string>();
        foreach (var word in request.Command)
        {
            query.Add("command=" + Uri.EscapeDataString(word));
        }
        query.Add($"stdin={Flag(request.Stdin)}");
        query.Add($"stdout={Flag(request.Stdout)}");
        query.Add($"stderr={Flag(request.Stderr)}");
        query.Add($"tty={Flag(request.Tty)}");
        var url = new Uri(KubeletBase(pod, "wss"), $"/{verb}/{Escape(request.Namespace)}/{Escape(request.Pod)}/{Escape(request.Container)}?{string.Join("&", query)}");
        using var socket = await kubelets.ConnectWebSocketAsync(url, ChannelProtocol.V5, token).ConfigureAwait(false);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
        var stdin = session.Stdin is { } input ? PumpStdinAsync(socket, input, stop.Token) : Task.CompletedTask;
        var resize = session.Resize is { } sizes ? PumpResizeAsync(socket, sizes, stop.Token) : Task.CompletedTask;
        StreamStatus? status = null;
        try
        {
            status = await ReceiveAsync(socket, session, token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or IOException)
        {
            status = StreamStatus.Error($"error from the kubelet connection: {e.Message}");
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(stdin.ContinueWith(_ => { }, TaskScheduler.Default), resize.ContinueWith(_ => { }, TaskScheduler.Default)).ConfigureAwait(false);
        }
        await session.CompleteAsync(status ?? StreamStatus.Error("the kubelet closed the stream without a status"), token).ConfigureAwait(false);
    }

    /// <summary>One WebSocket to the kubelet's /portForward per connection (KubeletPortForward.cs).</summary>
    public async Task<IPortForwardConnection> ConnectPortAsync(PortForwardRequest request, int port, CancellationToken token)
    {
        var pod = service.Get(ResourceCatalog.Pods, request.Namespace, request.Pod);
        var url = new Uri(KubeletBase(pod, "wss"), $"/portForward/{Escape(request.Namespace)}/{Escape(request.Pod)}?ports={port.ToString(CultureInfo.InvariantCulture)}");
        var socket = await kubelets.ConnectWebSocketAsync(url, PortForwardProtocol.Name, token).ConfigureAwait(false);
        return new KubeletPortForwardConnection(socket, port);
    }

    /// <summary>GETs a kubelet path of the pod's node (pods/log) or of a node (nodes/proxy); the caller streams the answer.</summary>
    public Task<HttpResponseMessage> GetAsync(JsonObject podOrNode, string pathAndQuery, CancellationToken token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(KubeletBase(podOrNode, "https"), pathAndQuery));
        return kubelets.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
    }

    /// <summary>The pod, which must exist, be bound to a node and not have finished.</summary>
    public JsonObject RunningPod(string ns, string name, string what)
    {
        var pod = service.Get(ResourceCatalog.Pods, ns, name);
        if ((string?)pod["spec"]?["nodeName"] is not { Length: > 0 })
        {
            throw ApiException.BadRequest($"pod {name} does not have a host assigned");
        }
        if ((string?)pod["status"]?["phase"] is { } phase && phase is "Succeeded" or "Failed")
        {
            throw ApiException.BadRequest($"cannot {what} a container in a completed pod; current phase is {phase}");
        }
        return pod;
    }

    /// <summary>The container a request names, or the pod's only one; 400 as kube-apiserver otherwise.</summary>
    public static string ContainerOf(JsonObject pod, string podName, string? container)
    {
        var names = (pod["spec"]?["containers"] as JsonArray ?? []).Select(c => (string?)c?["name"] ?? "").ToList();
        if (string.IsNullOrEmpty(container))
        {
            return names.Count == 1 ? names[0]
                : throw ApiException.BadRequest($"a container name must be specified for pod {podName}, choose one of: [{string.Join(" ", names)}]");
        }
        var init = (pod["spec"]?["initContainers"] as JsonArray ?? []).Select(c => (string?)c?["name"] ?? "");
        return names.Contains(container) || init.Contains(container) ? container
            : throw ApiException.BadRequest($"container {container} is not valid for pod {podName}");
    }

    private Uri KubeletBase(JsonObject podOrNode, string scheme)
    {
        var nodeName = (string?)podOrNode["kind"] == "Node" ? (string?)podOrNode["metadata"]?["name"] : (string?)podOrNode["spec"]?["nodeName"];
        var node = podOrNode["kind"] is not null && (string?)podOrNode["kind"] == "Node" ? podOrNode : service.Get(ResourceCatalog.Nodes, null, nodeName ?? "");
        var addresses = node["status"]?["addresses"] as JsonArray ?? [];
        var address = addresses.FirstOrDefault(a => (string?)a?["type"] == "InternalIP")?["address"]?.GetValue<string>()
            ?? throw ApiException.BadRequest($"node {nodeName} has no InternalIP address to reach its kubelet at");
        var port = (int?)node["status"]?["daemonEndpoints"]?["kubeletEndpoint"]?["Port"] is { } p and > 0 ? p : DefaultKubeletPort;
        var host = address.Contains(':') ? $"[{address}]" : address;
        return new Uri($"{scheme}://{host}:{port.ToString(CultureInfo.InvariantCulture)}/");
    }

    private static async Task<StreamStatus?> ReceiveAsync(ClientWebSocket socket, IExecSession session, CancellationToken token)
    {
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        StreamStatus? status = null;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, token).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return status;
            }
            message.Write(buffer, 0, result.Count);
            if (message.Length > ChannelProtocol.MaxMessageBytes)
            {
                return StreamStatus.Error($"the kubelet sent a message over {ChannelProtocol.MaxMessageBytes} bytes");
            }
            if (!result.EndOfMessage)
            {
                continue;
            }
            var data = message.GetBuffer().AsMemory(0, (int)message.Length);
            if (data.Length > 0)
            {
                var payload = data[1..];
                switch (data.Span[0])
                {
                    case ChannelProtocol.Stdout when session.Stdout is { } stdout:
                        await stdout.WriteAsync(payload, token).ConfigureAwait(false);
                        break;
                    case ChannelProtocol.Stderr when session.Stderr is { } stderr:
                        await stderr.WriteAsync(payload, token).ConfigureAwait(false);
                        break;
                    case ChannelProtocol.Error:
                        status = StreamStatus.FromJson(System.Text.Encoding.UTF8.GetString(payload.Span));
                        break;
                }
            }
            message.SetLength(0);
        }
    }

    private static async Task PumpStdinAsync(ClientWebSocket socket, Stream stdin, CancellationToken token)
    {
        var buffer = new byte[32 * 1024 + 1];
        buffer[0] = ChannelProtocol.Stdin;
        int n;
        while ((n = await stdin.ReadAsync(buffer.AsMemory(1), token).ConfigureAwait(false)) > 0)
        {
            await SendAsync(socket, buffer.AsMemory(0, n + 1), token).ConfigureAwait(false);
        }
        await SendAsync(socket, new byte[] { ChannelProtocol.Close, ChannelProtocol.Stdin }, token).ConfigureAwait(false);
    }

    private static async Task PumpResizeAsync(ClientWebSocket socket, System.Threading.Channels.ChannelReader<TerminalSize> sizes, CancellationToken token)
    {
        await foreach (var size in sizes.ReadAllAsync(token).ConfigureAwait(false))
        {
            await SendAsync(socket, ChannelProtocol.Frame(ChannelProtocol.Resize, ChannelProtocol.FormatResize(size)), token).ConfigureAwait(false);
        }
    }

    /// <summary>Stdin and resize both send: one at a time per socket.</summary>
    private static async Task SendAsync(ClientWebSocket socket, ReadOnlyMemory<byte> frame, CancellationToken token)
    {
        var gate = Gates.GetValue(socket, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(token).ConfigureAwait(false);
        try
        {
            await socket.SendAsync(frame, WebSocketMessageType.Binary, true, token).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ClientWebSocket, SemaphoreSlim> Gates = new();

    private static string Flag(bool value) => value ? "1" : "0";

    private static string Escape(string segment) => Uri.EscapeDataString(segment);
}
