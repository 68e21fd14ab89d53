using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Podnet.Check.Trace;

/// <summary>
/// The short-lived table trace puts in each node namespace it watches: a filter chain at
/// prerouting before everything (priority -350, ahead of conntrack and every agent table) that
/// sets `meta nftrace` on the probe's packets both ways. It only marks; it never accepts,
/// drops or rewrites, so the agents' tables judge the packet as they would without it, and
/// it is deleted whole when the trace ends. The agents' tables are never touched.
/// </summary>
public static class TracePlan
{
    public const string TablePrefix = "podnet-trace-";

    public static string TableName(string id) => TablePrefix + id;

    /// <summary>The nft script adding the table that marks <paramref name="pod"/>'s <paramref name="protocol"/> packets, sent or received.</summary>
    public static string AddScript(string table, IPAddress pod, string protocol)
    {
        var ip = pod.AddressFamily == AddressFamily.InterNetworkV6 ? "ip6" : "ip";
        var address = pod.ToString();
        return string.Create(CultureInfo.InvariantCulture, $$"""
            table inet {{table}} {
              chain pre {
                type filter hook prerouting priority -350; policy accept;
                {{ip}} saddr {{address}} meta l4proto {{protocol}} meta nftrace set 1
                {{ip}} daddr {{address}} meta l4proto {{protocol}} meta nftrace set 1
              }
            }

            """);
    }

    public static string DeleteScript(string table) => $"delete table inet {table}\n";
}
