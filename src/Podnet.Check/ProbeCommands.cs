using System.Globalization;

namespace Podnet.Check;

/// <summary>
/// Each probe as one command of the tools every lab pod has (pods run on the host's
/// filesystem: curl, dig, ping, sh), and the reading of what it printed into an outcome.
/// </summary>
/// <remarks>
/// Outcomes follow the tools' own words. curl: exit 0 is a connection (any HTTP status counts:
/// the API server's 401 is an answer); exit 7 is a refusal (RST, or an ICMP unreachable such as
/// a Service without endpoints or isolated egress sends); exit 28 is silence for the whole
/// connect timeout, a drop. dig: an answer must hold the expected address; "no servers could be
/// reached" is a drop, "connection refused" a refusal. ping: a reply is a connection,
/// "Unreachable"/"prohibited"/"filtered" a refusal, nothing a drop; "message too long" means the
/// path's MTU is below the interface's, which the full-MTU test reports as an error with the figure.
/// </remarks>
public static class ProbeCommands
{
    public static IReadOnlyList<string> Argv(Probe probe)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(probe.Timeout.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return probe.Kind switch
        {
            ProbeKind.Http => ["curl", "-sS", "-k", "-o", "/dev/stdout", "-w", "\nHTTP %{http_code} from %{remote_ip}:%{remote_port}", "--connect-timeout", seconds, "-m", seconds, probe.Target],
            // bash's /dev/udp connects the socket, so an ICMP port unreachable comes back as "Connection refused" on the read;
            // dd reads one datagram; timeout's 124 is silence.
            ProbeKind.Udp => ["bash", "-c", $"exec 3<>/dev/udp/{UdpHost(probe.Target)}/{UdpPort(probe.Target)} && printf hostname >&3 && exec timeout {seconds} dd bs=2048 count=1 status=none <&3"],
            ProbeKind.Dns => ["dig", "+short", "+time=" + seconds, "+tries=1", probe.Target],
            ProbeKind.DnsSearch => ["dig", "+short", "+search", "+time=" + seconds, "+tries=1", probe.Target],
            ProbeKind.Ping => ["ping", "-n", "-c", "1", "-W", seconds, probe.Target],
            // The payload is the interface's MTU less the IP and ICMP headers (28 for IPv4, 48 for IPv6).
            ProbeKind.PingFullMtu => ["sh", "-c",
                $"m=$(cat /sys/class/net/eth0/mtu); s=$((m - {(probe.Target.Contains(':') ? 48 : 28)})); echo \"mtu $m, payload $s, DF\"; exec ping -n -c 1 -W {seconds} -M do -s $s {probe.Target}"],
            _ => throw new ArgumentOutOfRangeException(nameof(probe), probe.Kind, "unknown probe kind"),
        };
    }

    public static Observation Read(Probe probe, ExecOutput output)
    {
        var all = (output.StandardOutput + "\n" + output.StandardError).Trim();
        if (output.TimedOut)
        {
            return new Observation(Outcome.Drop, $"the probe itself did not end within its time ({all})");
        }
        return probe.Kind switch
        {
            ProbeKind.Http => ReadCurl(output, all),
            ProbeKind.Udp => ReadUdp(output, all),
            ProbeKind.Dns or ProbeKind.DnsSearch => ReadDig(probe, output, all),
            ProbeKind.Ping or ProbeKind.PingFullMtu => ReadPing(output, all),
            _ => new Observation(null, all),
        };
    }

    private static Observation ReadCurl(ExecOutput output, string all)
    {
        var lines = output.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return output.ExitCode switch
        {
            // The status line, and the body when it is one line (a test server's hostname names the endpoint that answered).
            0 => new Observation(Outcome.Connect, lines.Length == 2 ? $"{lines[1]}: {Cut(lines[0], 60)}" : lines.LastOrDefault() ?? ""),
            7 => new Observation(Outcome.Refuse, LastError(output.StandardError)),
            28 => new Observation(Outcome.Drop, LastError(output.StandardError)),
            _ => new Observation(null, $"curl exit {output.ExitCode}: {LastError(all)}"),
        };
    }

    private static Observation ReadUdp(ExecOutput output, string all) => output.ExitCode switch
    {
        0 when output.StandardOutput.Trim().Length > 0 => new Observation(Outcome.Connect, "udp reply: " + Cut(output.StandardOutput.Trim(), 60)),
        _ when output.StandardError.Contains("refused", StringComparison.OrdinalIgnoreCase) => new Observation(Outcome.Refuse, LastError(output.StandardError)),
        124 => new Observation(Outcome.Drop, "no udp reply"),
        _ => new Observation(null, $"udp probe exit {output.ExitCode}: {LastError(all)}"),
    };

    private static string UdpHost(string target) => target[..target.LastIndexOf(':')].Trim('[', ']');

    private static string UdpPort(string target) => target[(target.LastIndexOf(':') + 1)..];

    private static Observation ReadDig(Probe probe, ExecOutput output, string all)
    {
        if (all.Contains("connection refused", StringComparison.OrdinalIgnoreCase))
        {
            return new Observation(Outcome.Refuse, LastError(all));
        }
        if (output.ExitCode == 9 || all.Contains("no servers could be reached", StringComparison.OrdinalIgnoreCase) || all.Contains("timed out", StringComparison.OrdinalIgnoreCase))
        {
            // dig's first line names the server that did not answer; its last only says none did.
            return new Observation(Outcome.Drop, Cut(all.Split('\n', StringSplitOptions.TrimEntries).FirstOrDefault(l => l.Contains("error to", StringComparison.Ordinal)) ?? LastError(all), 90));
        }
        var answers = output.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (output.ExitCode == 0 && (probe.Expect is null ? answers.Length > 0 : answers.Contains(probe.Expect)))
        {
            return new Observation(Outcome.Connect, $"{probe.Target} -> {string.Join(", ", answers)}");
        }
        return new Observation(null, answers.Length == 0
            ? $"no record for {probe.Target} (dig exit {output.ExitCode}{(all.Length > 0 ? ": " + LastError(all) : "")})"
            : $"{probe.Target} -> {string.Join(", ", answers)}, not {probe.Expect}");
    }

    private static Observation ReadPing(ExecOutput output, string all)
    {
        var first = output.StandardOutput.Split('\n', StringSplitOptions.TrimEntries).FirstOrDefault(l => l.StartsWith("mtu ", StringComparison.Ordinal));
        var prefix = first is null ? "" : first + ": ";
        if (all.Contains("too long", StringComparison.OrdinalIgnoreCase) || all.Contains("Frag needed", StringComparison.OrdinalIgnoreCase) || all.Contains("Packet too big", StringComparison.OrdinalIgnoreCase))
        {
            return new Observation(null, prefix + "path MTU below the interface's: " + LastError(all));
        }
        if (output.ExitCode == 0)
        {
            return new Observation(Outcome.Connect, prefix + Cut(output.StandardOutput.Split('\n').FirstOrDefault(l => l.Contains("bytes from", StringComparison.Ordinal))?.Trim() ?? "reply", 70));
        }
        if (all.Contains("Unreachable", StringComparison.OrdinalIgnoreCase) || all.Contains("prohibited", StringComparison.OrdinalIgnoreCase) || all.Contains("filtered", StringComparison.OrdinalIgnoreCase))
        {
            return new Observation(Outcome.Refuse, prefix + Cut(output.StandardOutput.Split('\n').FirstOrDefault(l => l.Contains("From", StringComparison.Ordinal))?.Trim() ?? "unreachable", 70));
        }
        return output.ExitCode == 1
            ? new Observation(Outcome.Drop, prefix + "no reply")
            : new Observation(null, $"ping exit {output.ExitCode}: {LastError(all)}");
    }

    private static string LastError(string text) =>
        Cut(text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault(l => !l.StartsWith("HTTP ", StringComparison.Ordinal)) ?? "", 90);

    private static string Cut(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";
}
