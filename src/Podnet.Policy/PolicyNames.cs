using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Podnet.Core.Cluster;
using Podnet.Core.Nft;

namespace Podnet.Policy;

/// <summary>
/// Every name in the <c>inet podnet-policy</c> table. Fixed objects are constants; shared
/// objects (a direction's chain for one combination of policies, a set compiled from one
/// selector, block list or named-port list) are named by a hash of what they are compiled from,
/// so equal inputs share one object and a name never changes while its meaning stays.
/// </summary>
public static class PolicyNames
{
    public static readonly NftTable Table = new(NftFamily.Inet, "podnet-policy");

    // The base chain: filter forward, after the proxy's DNAT (nat prerouting -100) so it sees
    // the endpoint a Service connection goes to.
    public const string Forward = "forward";
    public const int ForwardPriority = 0;

    // Denied packets are logged to this nflog group, prefixed with the direction, so the agent
    // can count drops per pod (the isolated pod: the receiver for ingress, the sender for egress).
    public const ushort NflogGroup = 100;
    // A ClusterNetworkPolicy Deny adds its rule's name (as its comment: "cnp:NAME Admin/10
    // ingress[0] RULE") after the direction, so a drop names the rule that decided. The kernel
    // keeps at most 127 bytes of a prefix, and nft reads '$' in one as a variable.
    public const string IngressLogPrefix = "podnet-policy ingress ";
    public const string EgressLogPrefix = "podnet-policy egress ";
    public const int LogPrefixLimit = 127;

    /// <summary>The log prefix of a denied packet: the direction's, then <paramref name="rule"/> if any, cut to <see cref="LogPrefixLimit"/> bytes.</summary>
    public static string LogPrefix(Direction direction, string? rule = null)
    {
        var prefix = direction == Direction.Ingress ? IngressLogPrefix : EgressLogPrefix;
        if (string.IsNullOrEmpty(rule))
        {
            return prefix;
        }
        var safe = prefix + string.Concat(rule.Select(c => c is >= ' ' and <= '~' and not ('"' or '$' or '%' or '\\') ? c : '_'));
        return safe.Length > LogPrefixLimit ? safe[..LogPrefixLimit] : safe;
    }

    /// <summary>The direction and the rule (null for a NetworkPolicy's drop) a logged prefix names, or null when it is not the policy table's.</summary>
    public static (Direction Direction, string? Rule)? ParseLogPrefix(string prefix)
    {
        foreach (var (direction, head) in new[] { (Direction.Ingress, IngressLogPrefix), (Direction.Egress, EgressLogPrefix) })
        {
            if (prefix.StartsWith(head, StringComparison.Ordinal))
            {
                var rule = prefix[head.Length..].TrimEnd('\0', ' ');
                return (direction, rule.Length == 0 ? null : rule);
            }
        }
        return null;
    }

    // Verdict maps keyed by a local pod's address: jump to the chain of the policies that
    // isolate it, for traffic it sends (egress) and receives (ingress).
    public static string EgressMap(AddressFamily family) => "egress" + Suffix(family);

    public static string IngressMap(AddressFamily family) => "ingress" + Suffix(family);

    // "address . address" of each local pod: a pod reaching itself (through a Service) is never filtered.
    public static string SelfSet(AddressFamily family) => "self" + Suffix(family);

    /// <summary>"in-"/"eg-" and 16 hex digits (19 characters): the chain of one combination of policies.</summary>
    public static string DirectionChain(Direction direction, string key) => (direction == Direction.Ingress ? "in-" : "eg-") + Hash(key);

    /// <summary>
    /// "ad-in-"/"ad-eg-"/"bl-in-"/"bl-eg-" and 16 hex digits (22 characters): the chain of one
    /// ClusterNetworkPolicy tier for one combination of policies (and, for Admin, what follows it).
    /// </summary>
    public static string TierChain(ClusterPolicyTier tier, Direction direction, string key) =>
        (tier == ClusterPolicyTier.Admin ? "ad-" : "bl-") + DirectionChain(direction, key);

    /// <summary>Whether <paramref name="chain"/> judges <paramref name="direction"/> (a NetworkPolicy or a tier chain).</summary>
    public static bool Judges(string chain, Direction direction)
    {
        var prefix = direction == Direction.Ingress ? "in-" : "eg-";
        return chain.StartsWith(prefix, StringComparison.Ordinal) || chain.StartsWith("ad-" + prefix, StringComparison.Ordinal) || chain.StartsWith("bl-" + prefix, StringComparison.Ordinal);
    }

    /// <summary>"pods4-"/"cidr4-"/"port4-" (6 with IPv6) and 16 hex digits (22 characters).</summary>
    public static string SharedSet(string kind, AddressFamily family, string key) => kind + Suffix(family) + "-" + Hash(key);

    public static string Suffix(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? "6" : "4";

    public static string IpKeyword(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? "ip6" : "ip";

    public static string AddressType(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? "ipv6_addr" : "ipv4_addr";

    private static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)).AsSpan(0, 8));
}

public enum Direction
{
    Ingress,
    Egress,
}
