using System.Net;
using Podnet.Cni.Config;
using Podnet.Core.Net;

namespace Podnet.Cni.Ipam;

/// <summary>The order in which addresses of a range set are tried (pure).</summary>
internal static class Candidates
{
    /// <summary>
    /// Round-robin as host-local does: every address of <paramref name="set"/> once, starting
    /// after <paramref name="last"/> (the last one handed out) and wrapping around, gateways skipped.
    /// Lazy, so a /64 costs only what is actually tried.
    /// </summary>
    public static IEnumerable<IPAddress> Of(RangeSet set, IPAddress? last)
    {
        var ranges = set.Ranges;
        var startRange = last is null ? -1 : IndexOf(ranges, last);
        if (startRange < 0)
        {
            foreach (var address in ranges.SelectMany(r => Walk(r, r.Start, r.End)))
            {
                yield return address;
            }
            yield break;
        }
        var first = ranges[startRange];
        if (IpMath.Compare(last!, first.End) < 0)
        {
            foreach (var a in Walk(first, IpMath.Add(last!, 1), first.End)) yield return a;
        }
        for (var i = 1; i < ranges.Count; i++)
        {
            var r = ranges[(startRange + i) % ranges.Count];
            foreach (var a in Walk(r, r.Start, r.End)) yield return a;
        }
        foreach (var a in Walk(first, first.Start, last!)) yield return a;
    }

    private static int IndexOf(IReadOnlyList<IpRange> ranges, IPAddress address)
    {
        for (var i = 0; i < ranges.Count; i++)
        {
            if (ranges[i].Contains(address))
            {
                return i;
            }
        }
        return -1;
    }

    private static IEnumerable<IPAddress> Walk(IpRange range, IPAddress from, IPAddress to)
    {
        var family = from.AddressFamily;
        var end = IpMath.ToInteger(to);
        var gateway = range.Gateway is null ? (UInt128?)null : IpMath.ToInteger(range.Gateway);
        for (var value = IpMath.ToInteger(from); ; value++)
        {
            if (value != gateway)
            {
                yield return IpMath.FromInteger(value, family);
            }
            if (value == end)
            {
                yield break;
            }
        }
    }
}
