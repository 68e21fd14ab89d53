using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Podnet.TestServer;

/// <summary>
/// agnhost's porter and test-webserver, run by `podnet agnhost` inside a pod (in the pod's
/// namespaces, as the container's own process).
/// </summary>
/// <remarks>
/// Both answer in text (the shared HTTP loop writes text/plain bodies): porter's values are
/// environment strings, and test-webserver serves the small text files tests fetch; a binary
/// file comes back as UTF-8 with its invalid bytes replaced. porter's TLS and SCTP ports and
/// --json-response are not built in and are refused with a message.
/// </remarks>
public static class AgnhostServers
{
    /// <summary>
    /// porter: for each SERVE_PORT_N / SERVE_TCP_PORT_N an HTTP server on N answering the
    /// variable's value to any request, for each SERVE_UDP_PORT_N a UDP server answering it to
    /// any datagram. Returns an error message for what it cannot serve, or runs until stopped.
    /// </summary>
    public static async Task<string?> PorterAsync(IEnumerable<KeyValuePair<string, string>> environment, CancellationToken stop)
    {
        var tasks = new List<Task>();
        var sockets = new List<Socket>();
        try
        {
            foreach (var (key, value) in environment)
            {
                if ((Port(key, "SERVE_PORT_") ?? Port(key, "SERVE_TCP_PORT_")) is { } tcp)
                {
                    var listener = Listen(SocketType.Stream, ProtocolType.Tcp, tcp);
                    sockets.Add(listener);
                    listener.Listen(128);
                    tasks.Add(HttpLoop.AcceptAsync(listener, (_, _) => (200, value), stop));
                }
                else if (Port(key, "SERVE_UDP_PORT_") is { } udp)
                {
                    var socket = Listen(SocketType.Dgram, ProtocolType.Udp, udp);
                    sockets.Add(socket);
                    tasks.Add(UdpAsync(socket, Encoding.UTF8.GetBytes(value), stop));
                }
                else if (key.StartsWith("SERVE_TLS_PORT_", StringComparison.Ordinal) || key.StartsWith("SERVE_SCTP_PORT_", StringComparison.Ordinal))
                {
                    return $"agnhost porter: {key}: TLS and SCTP ports are not built into Podnet (SERVE_PORT_, SERVE_TCP_PORT_ and SERVE_UDP_PORT_ are)";
                }
            }
            await Task.WhenAll(tasks.Append(Task.Delay(Timeout.Infinite, stop).ContinueWith(_ => { }, TaskScheduler.Default)));
            return null;
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    /// <summary>test-webserver: serves the file (or directory listing) the URL path names, from the pod's filesystem.</summary>
    public static async Task TestWebserverAsync(int port, CancellationToken stop)
    {
        using var listener = Listen(SocketType.Stream, ProtocolType.Tcp, port);
        listener.Listen(128);
        await HttpLoop.AcceptAsync(listener, (target, _) => FileResponse(target), stop);
    }

    /// <summary>What test-webserver answers for a request target (Go's FileServer: file, listing of a directory, or 404).</summary>
    public static (int Status, string Body) FileResponse(string target)
    {
        var path = Uri.UnescapeDataString(target.Split('?', 2)[0]);
        var full = Path.GetFullPath("/" + path.TrimStart('/'));
        try
        {
            if (File.Exists(full))
            {
                return (200, File.ReadAllText(full));
            }
            if (Directory.Exists(full))
            {
                var names = Directory.EnumerateFileSystemEntries(full).Select(e => Path.GetFileName(e) + (Directory.Exists(e) ? "/" : "")).Order(StringComparer.Ordinal);
                return (200, "<pre>\n" + string.Concat(names.Select(n => $"<a href=\"{n}\">{WebUtility.HtmlEncode(n)}</a>\n")) + "</pre>\n");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (403, "403 Forbidden\n");
        }
        return (404, "404 page not found\n");
    }

    private static int? Port(string key, string prefix) =>
        key.StartsWith(prefix, StringComparison.Ordinal) && int.TryParse(key.AsSpan(prefix.Length), out var port) && port is > 0 and < 65536 ? port : null;

    private static Socket Listen(SocketType type, ProtocolType protocol, int port)
    {
        var socket = new Socket(AddressFamily.InterNetworkV6, type, protocol) { DualMode = true };
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        socket.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
        return socket;
    }

    private static async Task UdpAsync(Socket socket, byte[] value, CancellationToken stop)
    {
        var buffer = new byte[2048];
        EndPoint any = new IPEndPoint(IPAddress.IPv6Any, 0);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, stop);
                await socket.SendToAsync(value, SocketFlags.None, received.RemoteEndPoint, stop);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                // an ICMP error from an earlier reply: keep serving
            }
        }
    }
}
