using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;

// Design note: the streaming verbs (pods/exec, pods/attach, pods/portforward) have two halves.
//
//   client ──transport──▶ session ──IStreamBackend──▶ kubelet API of the pod's node
//           (WebSocket v5/v4.channel.k8s.io,          (KubeletStreamBackend: one WebSocket
//            SPDY/3.1, …)                              v5.channel.k8s.io per exec/attach, one
//                                                      per port-forward connection)
//
// A transport (IStreamTransport) owns the wire format the client speaks: it accepts the
// upgrade, demultiplexes the client's frames into an IExecSession (stdin, resize) and
// multiplexes what the session is given (stdout, stderr, the final Status) back into frames.
// The backend knows nothing of the client's protocol: it resolves the pod (404, 400 "container
// not valid" before any upgrade, as kube-apiserver answers), dials the kubelet and copies bytes
// between the session's streams and the kubelet, then completes the session exactly once with
// the Status the kubelet sent (exit code in details.causes, reason NonZeroExitCode).
// So each transport is written once, and each works with any backend (tests use a fake one).
//
// Contract a transport keeps:
//   - ApiHandler calls CanServe on each registered transport in order; the first that says yes
//     gets ServeExecAsync / ServePortForwardAsync. The request is already authenticated and
//     resolved (ResolveExecAsync/ResolvePortForwardAsync ran; errors were answered as Status).
//   - For exec/attach it builds an IExecSession and awaits backend.ExecAsync(request, session).
//     Streams are null when the request did not ask for them (stdin=false → Stdin null).
//     Stdin's Read returns 0 when the client closed its stdin (v5 channel 255 / SPDY stream
//     half-close). Stdout/Stderr writes must reach the client before WriteAsync/FlushAsync
//     completes (no buffering to the end). Resize is null unless Tty.
//   - For port-forward, one call of backend.ConnectPortAsync per client connection (SPDY:
//     per data/error stream pair with a requestID; WebSocket tunnel: per stream pair in it).
//     The transport copies the client's data into ToPod (disposing it half-closes), FromPod to
//     the client, and sends Error's text (when not null) on the connection's error stream.
namespace Podnet.ApiServer.Streaming;

/// <summary>Which streaming verb: exec runs a new process, attach joins the container's own.</summary>
public enum StreamVerb
{
    Exec,
    Attach,
}

/// <summary>
/// An exec or attach as the client asked for it, container resolved (an empty container
/// name is the pod's only container, as kube-apiserver picks it).
/// </summary>
public sealed record ExecRequest(
    StreamVerb Verb,
    string Namespace,
    string Pod,
    string Container,
    IReadOnlyList<string> Command,
    bool Stdin,
    bool Stdout,
    bool Stderr,
    bool Tty);

/// <summary>A port-forward to these ports of a pod.</summary>
public sealed record PortForwardRequest(string Namespace, string Pod, IReadOnlyList<int> Ports);

/// <summary>A terminal's size in character cells, as the resize channel carries it ({"Width":W,"Height":H}).</summary>
public readonly record struct TerminalSize(ushort Width, ushort Height);

/// <summary>
/// How an exec or attach ended, as the error channel carries it: a metav1.Status, Success, or
/// Failure with reason NonZeroExitCode and the code in details.causes[{reason:ExitCode}], or
/// Failure with reason InternalError and a message for anything else (kubelet's shapes).
/// </summary>
public sealed record StreamStatus(bool Success, int? ExitCode = null, string? Message = null)
{
    public static readonly StreamStatus Ok = new(true);

    public static StreamStatus Exited(int code) =>
        code == 0 ? Ok : new StreamStatus(false, code, $"command terminated with non-zero exit code: exit status {code}");

    public static StreamStatus Error(string message) => new(false, null, message);

    public JsonObject ToJson()
    {
        var status = new JsonObject { ["metadata"] = new JsonObject(), ["status"] = Success ? "Success" : "Failure" };
        if (Success)
        {
            return status;
        }
        status["message"] = Message ?? "";
        if (ExitCode is { } code)
        {
            status["reason"] = "NonZeroExitCode";
            status["details"] = new JsonObject
            {
                ["causes"] = new JsonArray(new JsonObject { ["reason"] = "ExitCode", ["message"] = code.ToString(System.Globalization.CultureInfo.InvariantCulture) }),
            };
        }
        else
        {
            status["reason"] = "InternalError";
        }
        return status;
    }

    /// <summary>Reads a Status from the error channel (kubelet's or a transport's); unknown shapes are an error with their text.</summary>
    public static StreamStatus FromJson(string json)
    {
        JsonObject? node;
        try
        {
            node = JsonNode.Parse(json) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return Error(json);
        }
        if (node is null)
        {
            return Error(json);
        }
        if ((string?)node["status"] == "Success")
        {
            return Ok;
        }
        var message = (string?)node["message"] ?? json;
        if ((string?)node["reason"] == "NonZeroExitCode" && node["details"]?["causes"] is JsonArray causes)
        {
            foreach (var cause in causes)
            {
                if ((string?)cause?["reason"] == "ExitCode" && int.TryParse((string?)cause["message"], out var code))
                {
                    return new StreamStatus(false, code, message);
                }
            }
        }
        return Error(message);
    }
}

/// <summary>The client's side of one exec or attach, as a transport presents it to a backend.</summary>
public interface IExecSession
{
    /// <summary>What the client types; Read returns 0 once it closed stdin. Null without stdin.</summary>
    Stream? Stdin { get; }

    /// <summary>Sent to the client as written (each WriteAsync is one frame at most). Null without stdout.</summary>
    Stream? Stdout { get; }

    /// <summary>Null without stderr (and always with a TTY, whose output is all on stdout).</summary>
    Stream? Stderr { get; }

    /// <summary>Terminal sizes as the client sends them; null without a TTY.</summary>
    ChannelReader<TerminalSize>? Resize { get; }

    /// <summary>Sends how the command ended (the error channel) and ends the session; called once.</summary>
    ValueTask CompleteAsync(StreamStatus status, CancellationToken token);
}

/// <summary>One client connection forwarded to one port of a pod.</summary>
public interface IPortForwardConnection : IAsyncDisposable
{
    int Port { get; }

    /// <summary>Bytes the pod's port sends; Read returns 0 when it closed its side.</summary>
    Stream FromPod { get; }

    /// <summary>Bytes for the pod's port; disposing it closes our sending side.</summary>
    Stream ToPod { get; }

    /// <summary>Completes with null when the connection ended cleanly, else the kubelet's error text.</summary>
    Task<string?> Error { get; }
}

/// <summary>Runs exec, attach and port-forward for a transport (in the lab: through the pod's kubelet).</summary>
public interface IStreamBackend
{
    /// <summary>Checks the pod and container (ApiException 404/400 as kube-apiserver) and fills in the default container.</summary>
    Task<ExecRequest> ResolveExecAsync(ExecRequest request, CancellationToken token);

    /// <summary>Checks the pod exists and is bound to a node.</summary>
    Task<PortForwardRequest> ResolvePortForwardAsync(PortForwardRequest request, CancellationToken token);

    /// <summary>Runs the request to its end, copying between the session and the process; completes the session once.</summary>
    Task ExecAsync(ExecRequest request, IExecSession session, CancellationToken token);

    /// <summary>Opens one connection to <paramref name="port"/> of the pod.</summary>
    Task<IPortForwardConnection> ConnectPortAsync(PortForwardRequest request, int port, CancellationToken token);
}

/// <summary>A client wire protocol for the streaming verbs (WebSocket channels, SPDY/3.1).</summary>
public interface IStreamTransport
{
    /// <summary>Whether this transport speaks what the request offers (Upgrade header, subprotocols).</summary>
    bool CanServe(HttpContext context);

    Task ServeExecAsync(HttpContext context, ExecRequest request, IStreamBackend backend);

    Task ServePortForwardAsync(HttpContext context, PortForwardRequest request, IStreamBackend backend);
}
