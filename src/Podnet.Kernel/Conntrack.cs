using System.Globalization;
using System.Net;

namespace Podnet.Kernel;

/// <summary>One connection-tracking entry: the original and the reply direction.</summary>
public sealed record ConntrackEntry(
    string Protocol,
    string? State,
    int TimeoutSeconds,
    IPAddress OriginalSource,
    IPAddress OriginalDestination,
    int OriginalSourcePort,
    int OriginalDestinationPort,
    IPAddress ReplySource,
    IPAddress ReplyDestination,
    int ReplySourcePort,
    int ReplyDestinationPort);

/// <summary>What to match when deleting entries; null fields match anything.</summary>
public sealed record ConntrackFilter
{
    public string? Protocol { get; init; }

    public IPAddress? OriginalDestination { get; init; }

    public int? OriginalDestinationPort { get; init; }

    public IPAddress? OriginalSource { get; init; }

    public IPAddress? ReplySource { get; init; }
}

/// <summary>
/// Connection tracking in a namespace through the conntrack(8) tool. The tool speaks
/// ctnetlink itself; a listing or a filtered delete costs one process start (a few ms),
/// which is small next to the proxy's sync period. See the README for the measurement.
/// </summary>
public static class Conntrack
{
    public static string Binary { get; set; } = "conntrack";

    public static IReadOnlyList<ConntrackEntry> List(Netns netns)
    {
        var entries = new List<ConntrackEntry>();
        foreach (var family in new[] { "ipv4", "ipv6" })
        {
            var result = ProcessRunner.Run(netns, Binary, ["-L", "-f", family]);
            if (!result.Success)
            {
                throw new IOException($"conntrack -L in {netns.Path} failed: {result.StandardError.Trim()}");
            }
            foreach (var line in result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                if (Parse(line) is { } entry)
                {
                    entries.Add(entry);
                }
            }
        }
        return entries;
    }

    /// <summary>Deletes matching entries and returns how many went.</summary>
    public static int Delete(Netns netns, ConntrackFilter filter)
    {
        var arguments = new List<string> { "-D" };
        var family = (filter.OriginalDestination ?? filter.OriginalSource ?? filter.ReplySource)?.AddressFamily;
        arguments.AddRange(["-f", family == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "ipv6" : "ipv4"]);
        if (filter.Protocol is not null)
        {
            arguments.AddRange(["-p", filter.Protocol]);
        }
        if (filter.OriginalSource is not null)
        {
            arguments.AddRange(["--orig-src", filter.OriginalSource.ToString()]);
        }
        if (filter.OriginalDestination is not null)
        {
            arguments.AddRange(["--orig-dst", filter.OriginalDestination.ToString()]);
        }
        if (filter.OriginalDestinationPort is { } port)
        {
            if (filter.Protocol is null)
            {
                throw new ArgumentException("a conntrack port filter needs a protocol");
            }
            arguments.AddRange(["--orig-port-dst", port.ToString(CultureInfo.InvariantCulture)]);
        }
        if (filter.ReplySource is not null)
        {
            arguments.AddRange(["--reply-src", filter.ReplySource.ToString()]);
        }
        var result = ProcessRunner.Run(netns, Binary, arguments);
        // conntrack exits 1 with "0 flow entries have been deleted" when nothing matched.
        var count = ParseDeletedCount(result.StandardError);
        if (!result.Success && count != 0)
        {
            throw new IOException($"conntrack {string.Join(' ', arguments)} in {netns.Path} failed: {result.StandardError.Trim()}");
        }
        return count ?? 0;
    }

    /// <summary>Parses one line of <c>conntrack -L</c>; null for lines that are not entries.</summary>
    public static ConntrackEntry? Parse(string line)
    {
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 4)
        {
            return null;
        }
        var protocol = fields[0];
        if (!int.TryParse(fields[2], CultureInfo.InvariantCulture, out var timeout))
        {
            return null;
        }
        string? state = null;
        var src = new List<IPAddress>();
        var dst = new List<IPAddress>();
        var sport = new List<int>();
        var dport = new List<int>();
        for (var i = 3; i < fields.Length; i++)
        {
            var field = fields[i];
            var eq = field.IndexOf('=');
            if (eq < 0)
            {
                if (i == 3 && !field.StartsWith('['))
                {
                    state = field;
                }
                continue;
            }
            var key = field[..eq];
            var value = field[(eq + 1)..];
            switch (key)
            {
                case "src" when IPAddress.TryParse(value, out var a): src.Add(a); break;
                case "dst" when IPAddress.TryParse(value, out var a): dst.Add(a); break;
                case "sport": sport.Add(int.Parse(value, CultureInfo.InvariantCulture)); break;
                case "dport": dport.Add(int.Parse(value, CultureInfo.InvariantCulture)); break;
            }
        }
        if (src.Count < 2 || dst.Count < 2)
        {
            return null;
        }
        int At(List<int> list, int index) => index < list.Count ? list[index] : 0;
        return new ConntrackEntry(protocol, state, timeout, src[0], dst[0], At(sport, 0), At(dport, 0), src[1], dst[1], At(sport, 1), At(dport, 1));
    }

    private static int? ParseDeletedCount(string text)
    {
        // "conntrack v1.4.7 (conntrack-tools): 2 flow entries have been deleted."
        var marker = text.IndexOf(" flow entries have been deleted", StringComparison.Ordinal);
        if (marker < 0)
        {
            return null;
        }
        var start = text.LastIndexOf(' ', marker - 1) + 1;
        return int.TryParse(text.AsSpan(start, marker - start), CultureInfo.InvariantCulture, out var n) ? n : null;
    }
}
