using System.Net;
using System.Net.Sockets;
using Podnet.Cni.Spec;
using Podnet.Core.Net;
using static Podnet.Cni.Config.NetConfParser;

namespace Podnet.Cni.Config;

/// <summary>
/// host-local's keys: ranges [[{subnet, rangeStart, rangeEnd, gateway}]] (or the legacy flat
/// subnet/rangeStart/rangeEnd/gateway), routes, dataDir, resolvConf; runtimeConfig.ipRanges
/// replaces ranges when the runtime sends it.
/// </summary>
/// <remarks>
/// Defaults follow host-local: rangeStart = subnet + 1, rangeEnd = the last address (IPv4: the
/// one before broadcast), gateway = subnet + 1. The gateway is never handed out.
/// </remarks>
internal static class IpamConfigParser
{
    public static IpamConfig Parse(NetConfDto dto, CniEnvironment env)
    {
        var name = RequireName(dto.Name);
        var ipam = dto.Ipam ?? throw Invalid("ipam is missing");
        var sets = dto.RuntimeConfig?.IpRanges is { Count: > 0 } runtimeRanges
            ? ParseSets(runtimeRanges, "runtimeConfig.ipRanges")
            : ipam.Ranges is { Count: > 0 } ranges
                ? ParseSets(ranges, "ipam.ranges")
                : ipam.Subnet is not null
                    ? [new RangeSet([ParseRange(new RangeDto { Subnet = ipam.Subnet, RangeStart = ipam.RangeStart, RangeEnd = ipam.RangeEnd, Gateway = ipam.Gateway }, "ipam")])]
                    : throw Invalid("ipam has no ranges (give ipam.ranges or ipam.subnet)");
        CheckOverlaps(sets);
        var dataDir = ipam.DataDir ?? IpamConfig.DefaultDataDir;
        if (!dataDir.StartsWith('/'))
        {
            throw Invalid($"ipam.dataDir '{dataDir}' is not an absolute path");
        }
        if (ipam.LockTimeoutMs is < 0)
        {
            throw Invalid($"ipam.lockTimeoutMs {ipam.LockTimeoutMs} is negative");
        }
        return new IpamConfig
        {
            NetworkName = name,
            RangeSets = sets,
            Routes = (ipam.Routes ?? []).Select((r, i) => ParseRoute(r, $"ipam.routes[{i}]")).ToArray(),
            DataDir = dataDir,
            ResolvConf = ipam.ResolvConf,
            LockTimeout = TimeSpan.FromMilliseconds(ipam.LockTimeoutMs ?? 10_000),
            RequestedIps = RequestedIps(dto, env),
        };
    }

    private static RangeSet[] ParseSets(List<List<RangeDto>> sets, string key)
    {
        var result = new RangeSet[sets.Count];
        for (var i = 0; i < sets.Count; i++)
        {
            if (sets[i] is not { Count: > 0 })
            {
                throw Invalid($"{key}[{i}] is an empty range set");
            }
            var ranges = sets[i].Select((r, j) => ParseRange(r, $"{key}[{i}][{j}]")).ToArray();
            if (ranges.Select(r => r.Start.AddressFamily).Distinct().Count() > 1)
            {
                throw Invalid($"{key}[{i}] mixes IPv4 and IPv6 ranges");
            }
            result[i] = new RangeSet(ranges);
        }
        return result;
    }

    internal static IpRange ParseRange(RangeDto dto, string key)
    {
        if (dto.Subnet is null || !AddressPrefix.TryParse(dto.Subnet, out var prefix))
        {
            throw Invalid($"{key}.subnet '{dto.Subnet}' is not a CIDR (like 10.244.1.0/24)");
        }
        var subnet = prefix.Network;
        var v4 = prefix.IsIPv4;
        if (subnet.PrefixLength > prefix.MaxPrefixLength - 2)
        {
            throw Invalid($"{key}.subnet {dto.Subnet} is too small to allocate from (at most /{prefix.MaxPrefixLength - 2})");
        }
        var first = IpMath.Add(subnet.BaseAddress, 1);
        var last = v4 ? IpMath.Add(IpMath.LastAddress(subnet), -1) : IpMath.LastAddress(subnet);
        var start = dto.RangeStart is null ? first : ParseAddress($"{key}.rangeStart", dto.RangeStart);
        var end = dto.RangeEnd is null ? last : ParseAddress($"{key}.rangeEnd", dto.RangeEnd);
        var gateway = dto.Gateway is null ? first : ParseAddress($"{key}.gateway", dto.Gateway);
        foreach (var (k, a) in new[] { ("rangeStart", start), ("rangeEnd", end), ("gateway", gateway) })
        {
            if (a.AddressFamily != subnet.BaseAddress.AddressFamily || !subnet.Contains(a))
            {
                throw Invalid($"{key}.{k} {a} is not inside subnet {subnet}");
            }
        }
        if (IpMath.Compare(start, first) < 0 || IpMath.Compare(end, last) > 0)
        {
            throw Invalid($"{key} range {start}-{end} must lie within {first}-{last} of {subnet}");
        }
        if (IpMath.Compare(start, end) > 0)
        {
            throw Invalid($"{key}.rangeStart {start} is after rangeEnd {end}");
        }
        return new IpRange(subnet, start, end, gateway);
    }

    private static void CheckOverlaps(RangeSet[] sets)
    {
        var all = sets.SelectMany((s, i) => s.Ranges.Select(r => (Set: i, Range: r))).ToArray();
        for (var a = 0; a < all.Length; a++)
        {
            for (var b = a + 1; b < all.Length; b++)
            {
                if (all[a].Range.Overlaps(all[b].Range))
                {
                    throw Invalid($"ranges {all[a].Range} and {all[b].Range} overlap");
                }
            }
        }
    }

    private static IpamRoute ParseRoute(RouteDto dto, string key)
    {
        if (dto.Dst is null || !AddressPrefix.TryParse(dto.Dst, out var dst))
        {
            throw Invalid($"{key}.dst '{dto.Dst}' is not a CIDR (like 0.0.0.0/0)");
        }
        var gw = dto.Gw is null ? null : ParseAddress($"{key}.gw", dto.Gw);
        if (gw is not null && gw.AddressFamily != dst.Family)
        {
            throw Invalid($"{key}.gw {gw} is not of the same family as dst {dto.Dst}");
        }
        return new IpamRoute(dst.Network, gw);
    }

    /// <summary>Requested addresses; args.cni.ips and runtimeConfig.ips win over CNI_ARGS IP= (CONVENTIONS.md).</summary>
    private static IPAddress[] RequestedIps(NetConfDto dto, CniEnvironment env)
    {
        var (key, texts) = dto.RuntimeConfig?.Ips is { Count: > 0 } r ? ("runtimeConfig.ips", r)
            : dto.Args?.Cni?.Ips is { Count: > 0 } a ? ("args.cni.ips", a)
            : env.Args.TryGetValue("IP", out var ip) ? ("CNI_ARGS IP", ip.Split(',', StringSplitOptions.RemoveEmptyEntries).ToList())
            : ("", []);
        return texts.Select(t =>
        {
            var text = t.Contains('/') ? t[..t.IndexOf('/')] : t;
            return IPAddress.TryParse(text, out var address) && address.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6
                ? address
                : throw Invalid($"{key} '{t}' is not an IP address");
        }).ToArray();
    }
}
