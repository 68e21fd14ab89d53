using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Podnet.TestServer;

/// <summary>
/// A small HTTP/1.1 server over a listening socket: enough for curl, wget, probes and
/// KubernetesClient-free test clients (GET/HEAD/POST, keep-alive, Content-Length bodies).
/// One tiny protocol loop per connection instead of a web framework per pod keeps a node's
/// hundreds of pods cheap.
/// </summary>
public static class HttpLoop
{
    private const int MaxHeaderBytes = 16 * 1024;

    public static Task AcceptAsync(Socket listener, TestServerSpec spec, TimeProvider time, CancellationToken stop) =>
        AcceptAsync(listener, (target, remote) => spec.HostnameOnly ? (200, spec.PodName) : NetexecProtocol.Http(target, spec.PodName, remote, time.GetLocalNow()), stop);

    /// <summary>Serves every connection with <paramref name="respond"/> (request target and client → status and plain-text body).</summary>
    public static async Task AcceptAsync(Socket listener, Func<string, IPEndPoint, (int Status, string Body)> respond, CancellationToken stop)
    {
        var connections = new List<Task>();
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(stop);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                break;
            }
            connections.RemoveAll(t => t.IsCompleted);
            connections.Add(ServeAsync(client, respond, stop));
        }
        await Task.WhenAll(connections).ConfigureAwait(false);
    }

    private static async Task ServeAsync(Socket client, Func<string, IPEndPoint, (int Status, string Body)> respond, CancellationToken stop)
    {
        using var _ = client;
        using var stream = new NetworkStream(client, ownsSocket: false);
        var remote = (IPEndPoint)client.RemoteEndPoint!;
        var buffer = new byte[MaxHeaderBytes];
        var filled = 0;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var end = HeaderEnd(buffer.AsSpan(0, filled));
                if (end < 0)
                {
                    if (filled == buffer.Length)
                    {
                        await WriteAsync(stream, 431, "request header too large\n", head: false, close: true, stop);
                        return;
                    }
                    var read = await stream.ReadAsync(buffer.AsMemory(filled), stop);
                    if (read == 0)
                    {
                        return;
                    }
                    filled += read;
                    continue;
                }
                var request = Request.Parse(Encoding.ASCII.GetString(buffer, 0, end));
                var consumed = end + 4;
                // Skip a request body: the server's answers never depend on it.
                var body = request.ContentLength;
                var inBuffer = Math.Min(body, filled - consumed);
                consumed += (int)inBuffer;
                body -= inBuffer;
                while (body > 0)
                {
                    var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(body, buffer.Length)), stop);
                    if (read == 0)
                    {
                        return;
                    }
                    body -= read;
                }
                Buffer.BlockCopy(buffer, consumed, buffer, 0, filled - consumed);
                filled -= consumed;

                var (status, text) = !request.Valid ? (400, "bad request\n") : respond(request.Target, remote);
                await WriteAsync(stream, status, text, request.Method == "HEAD", request.Close || !request.Valid, stop);
                if (request.Close || !request.Valid)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private static async Task WriteAsync(Stream stream, int status, string body, bool head, bool close, CancellationToken stop)
    {
        var content = Encoding.UTF8.GetBytes(body);
        var header = string.Create(CultureInfo.InvariantCulture,
            $"HTTP/1.1 {status} {Reason(status)}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {content.Length}\r\nDate: {DateTime.UtcNow:R}\r\n{(close ? "Connection: close\r\n" : "")}\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(header), stop);
        if (!head)
        {
            await stream.WriteAsync(content, stop);
        }
        await stream.FlushAsync(stop);
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        503 => "Service Unavailable",
        431 => "Request Header Fields Too Large",
        _ => "Status",
    };

    private static int HeaderEnd(ReadOnlySpan<byte> data) => data.IndexOf("\r\n\r\n"u8);

    private readonly record struct Request(bool Valid, string Method, string Target, long ContentLength, bool Close)
    {
        public static Request Parse(string head)
        {
            var lines = head.Split("\r\n");
            var parts = lines[0].Split(' ');
            if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal) || !parts[1].StartsWith('/'))
            {
                return new Request(false, "", "", 0, true);
            }
            long length = 0;
            var close = parts[2] == "HTTP/1.0";
            foreach (var line in lines.Skip(1))
            {
                var colon = line.IndexOf(':');
                if (colon <= 0)
                {
                    continue;
                }
                var name = line[..colon].Trim();
                var value = line[(colon + 1)..].Trim();
                if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) && !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out length))
                {
                    return new Request(false, parts[0], parts[1], 0, true);
                }
                if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
                {
                    close = value.Equals("close", StringComparison.OrdinalIgnoreCase) || (close && !value.Equals("keep-alive", StringComparison.OrdinalIgnoreCase));
                }
            }
            return new Request(true, parts[0], parts[1], length, close);
        }
    }
}
