using System.Text.RegularExpressions;

namespace Podnet.Check.Trace;

/// <summary>
/// One line of `nft monitor`'s trace output: the trace id (one per packet and hook pass), the
/// table and chain, and what happened there — the packet's headers, a rule that matched with
/// its verdict, a chain's verdict, or a base chain's policy.
/// </summary>
/// <remarks>
/// nft prints, for example,
/// <c>trace id 2c0c0617 ip podnet-proxy svc-abc rule ip daddr 10.96.0.20 tcp dport 80 dnat to 10.244.2.3:8080 (verdict accept)</c>
/// or <c>trace id 2c0c0617 inet podnet-policy forward policy accept</c>. Lines that are not
/// traces (ruleset changes, "# new generation") parse to null.
/// </remarks>
public sealed partial record NftTraceLine(string Id, string Family, string Table, string Chain, string Kind, string Text, string? Verdict)
{
    public static NftTraceLine? Parse(string line)
    {
        var m = TraceRegex().Match(line.TrimEnd());
        if (!m.Success)
        {
            return null;
        }
        var rest = m.Groups["rest"].Value;
        string kind;
        string text;
        string? verdict = null;
        if (rest.StartsWith("packet: ", StringComparison.Ordinal))
        {
            (kind, text) = ("packet", rest["packet: ".Length..]);
        }
        else if (rest.StartsWith("policy ", StringComparison.Ordinal))
        {
            (kind, text, verdict) = ("policy", rest, rest["policy ".Length..].Trim());
        }
        else if (rest.StartsWith("verdict ", StringComparison.Ordinal))
        {
            (kind, text, verdict) = ("verdict", rest, rest["verdict ".Length..].Trim());
        }
        else if (rest.StartsWith("rule ", StringComparison.Ordinal) || rest.StartsWith("unknown rule ", StringComparison.Ordinal))
        {
            var v = VerdictRegex().Match(rest);
            (kind, text, verdict) = ("rule", v.Success ? rest[..v.Index].Trim() : rest, v.Success ? v.Groups["v"].Value : null);
            text = text.StartsWith("rule ", StringComparison.Ordinal) ? text["rule ".Length..] : text;
        }
        else
        {
            (kind, text) = ("other", rest);
        }
        return new NftTraceLine(m.Groups["id"].Value, m.Groups["family"].Value, m.Groups["table"].Value, m.Groups["chain"].Value, kind, text.Trim(), verdict);
    }

    [GeneratedRegex(@"^trace id (?<id>[0-9a-f]+) (?<family>ip6?|inet|bridge|arp|netdev) (?<table>\S+) (?<chain>\S+) (?<rest>.*)$")]
    private static partial Regex TraceRegex();

    [GeneratedRegex(@"\(verdict (?<v>[^)]*)\)\s*$")]
    private static partial Regex VerdictRegex();
}
