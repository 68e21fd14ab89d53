using System.Globalization;

namespace Podnet.Check.Trace;

/// <summary>What `podnet trace` was asked to reach: URL, or HOST:PORT[/PROTO] (tcp: an HTTP GET; udp: one datagram, netexec's "hostname").</summary>
public sealed record TraceTarget(string Host, int Port, string Protocol, string Url)
{
    /// <summary>HOST:PORT as curl and the UDP probe take it ([v6]:port).</summary>
    public string HostPort => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>Parses the target; throws <see cref="ArgumentException"/> naming what is wrong.</summary>
    public static TraceTarget Parse(string text)
    {
        if (text.Length > 2048)
        {
            throw new ArgumentException("the target is longer than 2048 characters");
        }
        if (text.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
            {
                throw new ArgumentException($"'{text}' is not a URL");
            }
            return new TraceTarget(uri.Host.Trim('[', ']'), uri.Port, "tcp", text);
        }
        var protocol = "tcp";
        var slash = text.LastIndexOf('/');
        if (slash >= 0)
        {
            protocol = text[(slash + 1)..].ToLowerInvariant();
            text = text[..slash];
            if (protocol is not ("tcp" or "udp"))
            {
                throw new ArgumentException($"protocol '{protocol}': trace sends tcp or udp (HOST:PORT/tcp, HOST:PORT/udp)");
            }
        }
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new ArgumentException($"'{text}' is not HOST:PORT with a port from 1 to 65535 ([v6]:port for IPv6)");
        }
        var host = text[..colon].Trim('[', ']');
        var hostPort = host.Contains(':') ? $"[{host}]:{port}" : $"{host}:{port}";
        return new TraceTarget(host, port, protocol, $"http://{hostPort}/");
    }
}
