using System.Net;

namespace Podnet.Dns.Forwarding;

/// <summary>
/// The upstream servers names outside the cluster go to: from flags (`--upstream 10.0.0.2`,
/// `[fd00::2]:5353`) or a resolv.conf-style file (its `nameserver` lines). There is no default:
/// with none, such names get SERVFAIL at once, never a query to some address outside the lab.
/// </summary>
public static class Upstreams
{
    /// <summary>CoreDNS's forward plugin takes at most this many.</summary>
    public const int Max = 15;

    /// <summary>Parses `address`, `address:port` or `[v6]:port`; port 53 when none is given.</summary>
    public static IPEndPoint ParseEndPoint(string text)
    {
        var trimmed = text.Trim();
        // IPAddress.TryParse would take "[v6]:port" and drop the port: brackets go to IPEndPoint.
        if (!trimmed.StartsWith('[') && IPAddress.TryParse(trimmed, out var address))
        {
            return new IPEndPoint(address, 53);
        }
        if (IPEndPoint.TryParse(trimmed, out var endPoint) && endPoint.Port != 0)
        {
            return endPoint;
        }
        throw new FormatException($"upstream '{text}' is not an address, address:port or [address]:port");
    }

    /// <summary>Each flag value may hold several upstreams separated by commas or spaces.</summary>
    public static IReadOnlyList<IPEndPoint> FromFlags(IEnumerable<string> values) =>
        Check([.. values.SelectMany(v => v.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries)).Select(ParseEndPoint)]);

    /// <summary>The `nameserver` lines of a resolv.conf; other lines (search, options, comments) are ignored.</summary>
    public static IReadOnlyList<IPEndPoint> FromResolvConf(string text, string source)
    {
        var servers = new List<IPEndPoint>();
        var number = 0;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            var line = raw.Split('#', ';')[0].Trim();
            var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields is not ["nameserver", ..])
            {
                continue;
            }
            if (fields.Length != 2 || !IPAddress.TryParse(fields[1], out var address))
            {
                throw new FormatException($"{source}:{number}: 'nameserver' takes one IP address, not '{line}'");
            }
            servers.Add(new IPEndPoint(address, 53));
        }
        return Check(servers);
    }

    private static IReadOnlyList<IPEndPoint> Check(IReadOnlyList<IPEndPoint> servers) => servers.Count <= Max
        ? servers.Distinct().ToArray()
        : throw new FormatException($"{servers.Count} upstreams given; at most {Max} are used");
}
