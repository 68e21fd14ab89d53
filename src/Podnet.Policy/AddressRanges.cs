using System.Net;
using System.Net.Sockets;
using Podnet.Core.Cluster;
using Podnet.Core.Net;

namespace Podnet.Policy;

/// <summary>
/// ipBlocks as the elements of an interval set: each block's CIDR less its excepts, all blocks
/// of a rule merged, so the elements never overlap (the kernel refuses overlapping intervals in
/// a set without auto-merge). Written as nft lists them: a prefix as "a/len" (a lone address
/// bare), any other range as "low-high".
/// </summary>
public static class AddressRanges
{
    public static IReadOnlyList<string> Elements(IEnumerable<IpBlockInfo> blocks, AddressFamily family)
    {
        var ranges = new List<(UInt128 Low, UInt128 High)>();
        foreach (var block in blocks.Where(b => b.Cidr.BaseAddress.AddressFamily == family))
        {
            var pieces = new List<(UInt128 Low, UInt128 High)> { Range(block.Cidr) };
            foreach (var except in block.Except.Where(e => e.BaseAddress.AddressFamily == family))
            {
                var (cutLow, cutHigh) = Range(except);
                pieces = pieces.SelectMany(p => Cut(p, cutLow, cutHigh)).ToList();
            }
            ranges.AddRange(pieces);
        }
        return Merge(ranges).Select(r => Format(r, family)).ToArray();
    }

    /// <summary>Whether <paramref name="address"/> lies in some block and none of its excepts.</summary>
    public static bool Contains(IEnumerable<IpBlockInfo> blocks, IPAddress address) =>
        blocks.Any(b => b.Cidr.Contains(address) && !b.Except.Any(e => e.Contains(address)));

    private static (UInt128 Low, UInt128 High) Range(IPNetwork network) =>
        (IpMath.ToInteger(network.BaseAddress), IpMath.ToInteger(IpMath.LastAddress(network)));

    private static IEnumerable<(UInt128, UInt128)> Cut((UInt128 Low, UInt128 High) range, UInt128 low, UInt128 high)
    {
        if (high < range.Low || low > range.High)
        {
            yield return range;
            yield break;
        }
        if (low > range.Low)
        {
            yield return (range.Low, low - 1);
        }
        if (high < range.High)
        {
            yield return (high + 1, range.High);
        }
    }

    private static List<(UInt128 Low, UInt128 High)> Merge(List<(UInt128 Low, UInt128 High)> ranges)
    {
        var merged = new List<(UInt128 Low, UInt128 High)>();
        foreach (var r in ranges.OrderBy(r => r.Low))
        {
            if (merged.Count > 0 && (merged[^1].High == UInt128.MaxValue || r.Low <= merged[^1].High + 1))
            {
                merged[^1] = (merged[^1].Low, UInt128.Max(merged[^1].High, r.High));
            }
            else
            {
                merged.Add(r);
            }
        }
        return merged;
    }

    private static string Format((UInt128 Low, UInt128 High) range, AddressFamily family)
    {
        var width = IpMath.Width(family);
        var low = IpMath.FromInteger(range.Low, family);
        if (range.Low == range.High)
        {
            return low.ToString();
        }
        var size = range.High - range.Low + 1;
        if (size != 0 && UInt128.IsPow2(size) && range.Low % size == 0)
        {
            return $"{low}/{width - (int)UInt128.Log2(size)}";
        }
        if (size == 0 && range.Low == 0)
        {
            return $"{low}/0"; // all of IPv6: the size overflows
        }
        return $"{low}-{IpMath.FromInteger(range.High, family)}";
    }
}
