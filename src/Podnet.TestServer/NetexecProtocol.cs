using System.Globalization;
using System.Net;

namespace Podnet.TestServer;

/// <summary>
/// The answers of the built-in test server, following agnhost netexec's protocol so that
/// upstream test manifests and habits work: pure functions of the request and the pod's name.
/// </summary>
public static class NetexecProtocol
{
    /// <summary>The HTTP answer for <paramref name="target"/> (path and query): status and body.</summary>
    public static (int Status, string Body) Http(string target, string podName, IPEndPoint client, DateTimeOffset now)
    {
        var query = target.IndexOf('?');
        var path = query < 0 ? target : target[..query];
        var arguments = query < 0 ? "" : target[(query + 1)..];
        return path switch
        {
            "/" => (200, $"NOW: {now.ToString("yyyy-MM-dd HH:mm:ss.fffffff zzz", CultureInfo.InvariantCulture)}"),
            "/hostname" => (200, podName),
            "/clientip" => (200, Format(client)),
            "/echo" => (200, QueryValue(arguments, "msg") ?? ""),
            "/healthz" => (200, "ok"),
            _ => (404, "404 page not found\n"),
        };
    }

    /// <summary>The UDP answer to <paramref name="payload"/>: hostname, echo, clientip, else the pod's name.</summary>
    public static string Udp(string payload, string podName, IPEndPoint client)
    {
        var text = payload.Trim();
        if (text == "clientip")
        {
            return Format(client);
        }
        if (text.StartsWith("echo ", StringComparison.Ordinal))
        {
            return text["echo ".Length..];
        }
        return podName;
    }

    /// <summary>ip:port, with IPv4-mapped IPv6 addresses shown as IPv4 and IPv6 in brackets.</summary>
    public static string Format(IPEndPoint endpoint)
    {
        var address = endpoint.Address.IsIPv4MappedToIPv6 ? endpoint.Address.MapToIPv4() : endpoint.Address;
        return address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"[{address}]:{endpoint.Port.ToString(CultureInfo.InvariantCulture)}"
            : $"{address}:{endpoint.Port.ToString(CultureInfo.InvariantCulture)}";
    }

    private static string? QueryValue(string query, string key)
    {
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var name = eq < 0 ? pair : pair[..eq];
            if (Uri.UnescapeDataString(name.Replace('+', ' ')) == key)
            {
                return eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' '));
            }
        }
        return null;
    }
}
