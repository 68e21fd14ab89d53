using System.Net;
using System.Security.Cryptography.X509Certificates;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;
using Podnet.Agent.Runtime;
using Podnet.ApiServer.Pki;
using Podnet.ApiServer.Streaming;
using Podnet.Controllers.Informers;
using Podnet.Controllers.Projections;
using Podnet.Kernel;

namespace Podnet.Agent.Kubelet;

/// <summary>
/// The kubelet API on the node's addresses, port 10250, HTTPS with a serving certificate of the
/// cluster CA naming those addresses: /healthz, /pods, /containerLogs/NS/POD/C, /exec and
/// /attach over the v5/v4.channel.k8s.io WebSocket protocols, and Podnet's own /podnet/flows
/// (the node's connections and policy drops, for the web view).
/// </summary>
/// <remarks>
/// Only the API server may call it: a request without a client certificate is 401, one whose
/// certificate is not the CA's <see cref="KubeletPki.ApiServerClientName"/> is 403 (kubelet's
/// webhook authorization would let other admins in; the lab has no other admin certificates).
/// It reads pods from the agent's informer and their containers from the records the pod
/// manager saves, never from the pod manager's memory, so it needs no lock with it.
/// </remarks>
public sealed class KubeletServer(AgentOptions options, Informer<V1Pod> pods, Informer<V1Service> services)
{
    /// <summary>The node's connections and policy drops for <c>GET /podnet/flows</c>; 404 without.</summary>
    public NodeFlows? Flows { get; init; }

    public async Task RunAsync(CancellationToken token)
    {
        if (options.KubeletPkiDirectory is not { } pki)
        {
            return;
        }
        var serving = KubeletPki.LoadOrIssue(Path.Combine(options.StateDirectory, "kubelet"), "kubelet", pki, options.NodeName, options.NodeAddresses, [options.NodeName], serverAuth: true);
        using var ca = KubeletPki.LoadCaCertificate(pki);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = options.StateDirectory,
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            foreach (var address in options.NodeAddresses)
            {
                kestrel.Listen(address, options.KubeletPort, listen => listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = serving,
                    ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                    // Checked per request (401 without, 403 with the wrong one), not by the handshake.
                    ClientCertificateValidation = (_, _, _) => true,
                }));
            }
        });
        await using var app = builder.Build();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        app.Run(context => HandleAsync(context, ca));
        await app.StartAsync(token);
        options.Log($"kubelet API on port {options.KubeletPort}");
        try
        {
            await Task.Delay(Timeout.Infinite, token);
        }
        catch (OperationCanceledException)
        {
        }
        await app.StopAsync(CancellationToken.None);
    }

    private async Task HandleAsync(HttpContext context, X509Certificate2 ca)
    {
        var client = context.Connection.ClientCertificate;
        if (client is null)
        {
            await PlainAsync(context, 401, "Unauthorized");
            return;
        }
        if (client.GetNameInfo(X509NameType.SimpleName, false) != KubeletPki.ApiServerClientName || !KubeletPki.IsIssuedBy(client, ca))
        {
            await PlainAsync(context, 403, $"Forbidden (user={client.GetNameInfo(X509NameType.SimpleName, false)}, verb={context.Request.Method}, path={context.Request.Path})");
            return;
        }
        var segments = (context.Request.Path.Value ?? "/").Trim('/').Split('/');
        try
        {
            switch (segments)
            {
                case ["healthz"]:
                    await PlainAsync(context, 200, "ok");
                    break;
                case ["pods"]:
                    var mine = pods.Cache.List().Where(p => p.Spec?.NodeName == options.NodeName).ToList();
                    context.Response.ContentType = "application/json";
                    await context.Response.WriteAsync(KubernetesJson.Serialize(new V1PodList { ApiVersion = "v1", Kind = "PodList", Metadata = new V1ListMeta(), Items = mine }));
                    break;
                case ["podnet", "flows"] when Flows is not null:
                    context.Response.ContentType = "application/json";
                    await context.Response.WriteAsync(Flows.Json());
                    break;
                case ["containerLogs", var ns, var name, var container]:
                    await ServeLogsAsync(context, ns, name, container);
                    break;
                case ["portForward", var ns, var name]:
                    await ServePortForwardAsync(context, ns, name);
                    break;
                case ["exec" or "attach", var ns, var name, var container]:
                    await ServeStreamAsync(context, segments[0] == "exec" ? StreamVerb.Exec : StreamVerb.Attach, ns, name, container);
                    break;
                default:
                    await PlainAsync(context, 404, "404 page not found");
                    break;
            }
        }
        catch (KubeletError e) when (!context.Response.HasStarted)
        {
            await PlainAsync(context, e.Code, e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            options.Log($"kubelet API: {context.Request.Path}: {e}");
            if (!context.Response.HasStarted)
            {
                await PlainAsync(context, 500, e.Message);
            }
        }
    }

    private async Task ServeLogsAsync(HttpContext context, string ns, string name, string container)
    {
        PodLogOptions query;
        try
        {
            query = PodLogOptions.Parse(name, q => context.Request.Query[q].LastOrDefault());
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new KubeletError(400, e.Message);
        }
        var (_, record, state) = Find(ns, name, container);
        var logs = Path.Combine(PodRecordStore.DirectoryOf(options.PodsDirectory, record.Uid), "logs");
        string path;
        Func<bool> running;
        if (query.Previous)
        {
            if (state.RestartCount == 0)
            {
                throw new KubeletError(400, $"previous terminated container \"{container}\" in pod \"{name}\" not found");
            }
            path = PodSandbox.LogPathOf(logs, container, state.RestartCount - 1);
            running = () => false;
        }
        else
        {
            path = PodSandbox.LogPathOf(logs, container, state.RestartCount);
            var exit = Path.Combine(logs, $"{container}.exit");
            running = () => state.Kind == "process" && !File.Exists(exit) && PodRecordStore.Load(options.PodsDirectory, record.Uid) is { } r
                && r.Containers.TryGetValue(container, out var now) && now.RestartCount == state.RestartCount;
        }
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/plain";
        await context.Response.StartAsync(context.RequestAborted);
        var logQuery = new LogQuery(query.Timestamps, query.TailLines is { } t ? (int)Math.Min(t, int.MaxValue) : null, query.SinceUtc(DateTime.UtcNow), query.LimitBytes, query.Follow);
        try
        {
            await ContainerLogReader.CopyAsync(path, logQuery, context.Response.Body, running, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
    }

    private async Task ServeStreamAsync(HttpContext context, StreamVerb verb, string ns, string name, string container)
    {
        var q = context.Request.Query;
        bool Flag(string n) => q[n].LastOrDefault() is "1" or "true";
        var request = new ExecRequest(verb, ns, name, container, q["command"].Select(c => c ?? "").ToArray(), Flag("stdin"), Flag("stdout"), Flag("stderr"), Flag("tty"));
        if (verb == StreamVerb.Exec && request.Command.Count == 0)
        {
            throw new KubeletError(400, "you must specify at least one command for the container");
        }
        var (pod, record, state) = Find(ns, name, container);
        var protocol = context.WebSockets.IsWebSocketRequest ? ChannelProtocol.Choose(context.WebSockets.WebSocketRequestedProtocols) : null;
        if (protocol is null)
        {
            throw new KubeletError(400, "Upgrade request required (WebSocket with v5.channel.k8s.io or v4.channel.k8s.io)");
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync(protocol);
        var session = new WebSocketExecSession(socket, request);
        await using (session)
        {
            StreamStatus status;
            try
            {
                status = verb == StreamVerb.Exec
                    ? await ExecAsync(pod, record, container, request, session)
                    : await AttachAsync(pod, record, container, state, request, session);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                status = StreamStatus.Error(e.Message);
            }
            await session.CompleteAsync(status, CancellationToken.None);
        }
    }

    private async Task<StreamStatus> ExecAsync(V1Pod pod, PodRecord record, string container, ExecRequest request, WebSocketExecSession session)
    {
        var spec = (pod.Spec?.Containers ?? []).Concat(pod.Spec?.InitContainers ?? []).First(c => c.Name == container);
        var sandbox = PodSandbox.Adopt(new PodSandboxSpec(record.Netns, record.Hostname, PodRecordStore.DirectoryOf(options.PodsDirectory, record.Uid), "", "", new Dictionary<string, string>()), record.HolderPid);
        if (!sandbox.IsAlive)
        {
            return StreamStatus.Error($"pod {record.Namespace}/{record.Name} is not running on this node");
        }
        var serviceInfos = services.Cache.List().Select(ObjectProjection.ToServiceInfo).ToArray();
        var env = sandbox.EnvironmentOf(ContainerEnvironment.Build(pod, spec, record.PodIPs, options.NodeAddresses[0].ToString(), serviceInfos));
        var target = record.Containers.TryGetValue(container, out var state) && state.Kind == "process" ? sandbox.TargetOf(state.Pid) : sandbox.HolderPid;
        return await ExecRunner.RunAsync(PodSandbox.EnterArgv(target, request.Command, spec.WorkingDir), env, request.Tty, session, session.ClientGone);
    }

    /// <summary>
    /// Attach: what the container writes from now on, line by line from its log (stdout lines to
    /// stdout, stderr lines to stderr), until it exits or the client goes; with stdin, what the
    /// client sends goes into the container's stdin pipe, when the container has one open
    /// (spec stdin, and not already closed by stdinOnce), until the client closes its stdin. As
    /// the CRI runtimes do, stdin sent to a container without one is dropped.
    /// </summary>
    private async Task<StreamStatus> AttachAsync(V1Pod pod, PodRecord record, string container, ContainerRecord state, ExecRequest request, WebSocketExecSession session)
    {
        if (state.Kind != "process")
        {
            return StreamStatus.Error($"container {container} has no process output to attach to (it runs the built-in test server)");
        }
        var logs = Path.Combine(PodRecordStore.DirectoryOf(options.PodsDirectory, record.Uid), "logs");
        var path = PodSandbox.LogPathOf(logs, container, state.RestartCount);
        var exit = Path.Combine(logs, $"{container}.exit");
        var wantsStdin = request.Stdin && (pod.Spec?.Containers ?? []).Any(c => c.Name == container && c.Stdin == true);
        // Stdin is fed once the log is followed from its end, so that what the container answers is seen.
        var following = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var input = wantsStdin && session.Stdin is { } from ? FeedAfterAsync(following.Task, from, PodSandbox.StdinPathOf(logs, container), exit, session.ClientGone) : Task.CompletedTask;
        try
        {
            await FollowAsync(path, exit, session, () => following.TrySetResult());
        }
        catch (OperationCanceledException)
        {
        }
        await Task.WhenAny(input, Task.Delay(TimeSpan.FromSeconds(1)));
        return File.Exists(exit) && int.TryParse(File.ReadAllText(exit).Trim(), out var code) ? StreamStatus.Exited(code) : StreamStatus.Ok;
    }

    /// <summary>
    /// Copies the client's stdin into the container's stdin pipe until the client closes it (or
    /// goes). The shim opens the pipe for reading as it starts the container, so a container
    /// that has just started may not be reading it yet: the pipe is tried for up to 10 s while
    /// the container runs; a pipe that stays without a reader (stdinOnce already used) drops
    /// what comes.
    /// </summary>
    private static async Task FeedStdinAsync(Stream from, string fifo, string exit, CancellationToken token)
    {
        var buffer = new byte[32 * 1024];
        int n;
        FileStream? pipe = null;
        try
        {
            for (var deadline = DateTime.UtcNow.AddSeconds(10); (pipe = Fifo.TryOpenWriter(fifo)) is null && !File.Exists(exit) && DateTime.UtcNow < deadline;)
            {
                await Task.Delay(20, token);
            }
            while ((n = await from.ReadAsync(buffer, token)) > 0)
            {
                if (pipe is not null)
                {
                    await pipe.WriteAsync(buffer.AsMemory(0, n), token);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or KernelException)
        {
            // the client went, or the container stopped reading
        }
        finally
        {
            if (pipe is not null)
            {
                await pipe.DisposeAsync();
            }
        }
    }

    private static async Task FeedAfterAsync(Task start, Stream from, string fifo, string exit, CancellationToken token)
    {
        try
        {
            await start.WaitAsync(token);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        await FeedStdinAsync(from, fifo, exit, token);
    }

    private static async Task FollowAsync(string path, string exit, WebSocketExecSession session, Action following)
    {
        await ContainerLogReader.ReadAsync(path, new LogQuery(TailLines: 0, Follow: true), async line =>
        {
            var target = line.Stream == LogStream.Stdout ? session.Stdout : session.Stderr ?? session.Stdout;
            if (target is not null)
            {
                await target.WriteAsync(LogSelection.Render(line, false), session.ClientGone);
            }
            return true;
        }, () =>
        {
            following();
            return ValueTask.CompletedTask;
        }, () => !File.Exists(exit), session.ClientGone);
    }

    private async Task ServePortForwardAsync(HttpContext context, string ns, string name)
    {
        var ports = context.Request.Query["ports"].SelectMany(p => (p ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)).ToList();
        if (ports.Count != 1 || !int.TryParse(ports[0], out var port) || port is < 1 or > 65535)
        {
            throw new KubeletError(400, $"ports: one port 1-65535 per WebSocket is served here, not '{string.Join(",", ports)}'");
        }
        var pod = pods.Cache.Get(ns, name);
        var record = pod is null || pod.Spec?.NodeName != options.NodeName ? null : PodRecordStore.Load(options.PodsDirectory, pod.Metadata.Uid);
        if (record is null)
        {
            throw new KubeletError(404, $"pod {ns}/{name} not found on node {options.NodeName}");
        }
        if (!context.WebSockets.IsWebSocketRequest || !context.WebSockets.WebSocketRequestedProtocols.Contains(PortForwardProtocol.Name))
        {
            throw new KubeletError(400, $"Upgrade request required (WebSocket with {PortForwardProtocol.Name})");
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync(PortForwardProtocol.Name);
        await PortForwarder.ServeAsync(socket, record.Netns, port, context.RequestAborted);
    }

    private (V1Pod Pod, PodRecord Record, ContainerRecord State) Find(string ns, string name, string container)
    {
        var pod = pods.Cache.Get(ns, name);
        if (pod is null || pod.Spec?.NodeName != options.NodeName)
        {
            throw new KubeletError(404, $"pod {ns}/{name} not found on node {options.NodeName}");
        }
        var record = PodRecordStore.Load(options.PodsDirectory, pod.Metadata.Uid)
            ?? throw new KubeletError(404, $"pod {ns}/{name} has not started on node {options.NodeName}");
        if (!record.Containers.TryGetValue(container, out var state))
        {
            throw new KubeletError(404, $"container {container} is not valid for pod {name}");
        }
        return (pod, record, state);
    }

    private static async Task PlainAsync(HttpContext context, int code, string text)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(text + (text.EndsWith('\n') ? "" : "\n"));
    }

    private sealed class KubeletError(int code, string message) : Exception(message)
    {
        public int Code { get; } = code;
    }
}
