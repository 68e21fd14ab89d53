using System.Net;
using System.Net.Sockets;
using System.Numerics;
using k8s.Models;
using Podnet.Core.Net;

namespace Podnet.Controllers.NodeIpam;

/// <summary>The cluster CIDRs (at most one per family) and the size of each node's share.</summary>
public sealed record NodeIpamConfig(IReadOnlyList<IPNetwork> ClusterCidrs, int Ipv4MaskSize = 24, int Ipv6MaskSize = 64)
{
    public int MaskSize(AddressFamily family) => family == AddressFamily.InterNetwork ? Ipv4MaskSize : Ipv6MaskSize;

    /// <summary>
    /// From a --cluster-cidr value: one CIDR, or one per family separated by a comma, as
    /// kube-controller-manager takes it. Throws <see cref="FormatException"/> otherwise.
    /// </summary>
    public static NodeIpamConfig Parse(string clusterCidrs, int ipv4MaskSize = 24, int ipv6MaskSize = 64)
    {
        var cidrs = clusterCidrs.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(c => IPNetwork.TryParse(c, out var n) ? n : throw new FormatException($"'{c}' is not a CIDR")).ToList();
        if (cidrs.Count is < 1 or > 2 || cidrs.Select(c => c.BaseAddress.AddressFamily).Distinct().Count() != cidrs.Count)
        {
            throw new FormatException($"'{clusterCidrs}' must be one CIDR, or one IPv4 and one IPv6 CIDR");
        }
        return new NodeIpamConfig(cidrs, ipv4MaskSize, ipv6MaskSize);
    }
}

/// <summary>spec.podCIDRs for one node, in the order of the cluster CIDRs (the first is spec.podCIDR).</summary>
public sealed record NodeCidrAssignment(string NodeName, IReadOnlyList<string> PodCidrs);

public sealed record NodeIpamPlan(IReadOnlyList<NodeCidrAssignment> Assign, IReadOnlyList<string> Exhausted);

/// <summary>
/// Node IPAM's compute step, as upstream's range allocator: each node without pod CIDRs gets the
/// lowest free subnet of every cluster CIDR.
/// </summary>
/// <remarks>
/// The state is rebuilt from the nodes every time: a CIDR a node carries is occupied (so a
/// restart honours what was assigned, and a node never loses its CIDR), a deleted node's CIDR is
/// free again, and <paramref name="pending"/> covers assignments written but not yet seen in the
/// cache. A node that cannot get a subnet of every cluster CIDR gets none and is reported.
/// </remarks>
public static class NodeIpamCalc
{
    public static NodeIpamPlan Calc(NodeIpamConfig config, IEnumerable<V1Node> nodes, IEnumerable<NodeCidrAssignment>? pending = null)
    {
        foreach (var cluster in config.ClusterCidrs)
        {
            var mask = config.MaskSize(cluster.BaseAddress.AddressFamily);
            if (mask < cluster.PrefixLength || mask > IpMath.Width(cluster.BaseAddress.AddressFamily))
            {
                throw new ArgumentException($"node mask /{mask} does not fit in cluster CIDR {cluster}", nameof(config));
            }
        }
        var nodeList = nodes.ToList();
        var occupied = config.ClusterCidrs.Select(_ => new HashSet<BigInteger>()).ToList();
        var pendingByNode = (pending ?? []).ToDictionary(p => p.NodeName);
        foreach (var cidrs in nodeList.Select(CidrsOf).Concat(pendingByNode.Values.Select(p => p.PodCidrs)))
        {
            Occupy(config, occupied, cidrs);
        }
        var assign = new List<NodeCidrAssignment>();
        var exhausted = new List<string>();
        var waiting = nodeList
            .Where(n => CidrsOf(n).Count == 0 && !pendingByNode.ContainsKey(n.Metadata.Name))
            .OrderBy(n => n.Metadata.CreationTimestamp ?? DateTime.MinValue)
            .ThenBy(n => n.Metadata.Name, StringComparer.Ordinal);
        foreach (var node in waiting)
        {
            var cidrs = new List<string>();
            var picked = new List<(int, BigInteger)>();
            for (var i = 0; i < config.ClusterCidrs.Count; i++)
            {
                var cluster = config.ClusterCidrs[i];
                var mask = config.MaskSize(cluster.BaseAddress.AddressFamily);
                var index = LowestFree(occupied[i], BigInteger.One << (mask - cluster.PrefixLength));
                if (index is null)
                {
                    break;
                }
                picked.Add((i, index.Value));
                cidrs.Add(IpMath.Subnet(cluster, mask, index.Value)!.Value.ToString());
            }
            if (picked.Count < config.ClusterCidrs.Count)
            {
                exhausted.Add(node.Metadata.Name);
                continue;
            }
            picked.ForEach(p => occupied[p.Item1].Add(p.Item2));
            assign.Add(new NodeCidrAssignment(node.Metadata.Name, cidrs));
        }
        return new NodeIpamPlan(assign, exhausted);
    }

    public static IReadOnlyList<string> CidrsOf(V1Node node) =>
        node.Spec?.PodCIDRs is { Count: > 0 } cidrs ? [.. cidrs]
        : node.Spec?.PodCIDR is { Length: > 0 } cidr ? [cidr] : [];

    private static void Occupy(NodeIpamConfig config, List<HashSet<BigInteger>> occupied, IEnumerable<string> cidrs)
    {
        foreach (var text in cidrs)
        {
            if (!IPNetwork.TryParse(text, out var network))
            {
                continue;
            }
            for (var i = 0; i < config.ClusterCidrs.Count; i++)
            {
                var cluster = config.ClusterCidrs[i];
                if (!IpMath.Overlaps(cluster, network))
                {
                    continue;
                }
                var mask = config.MaskSize(cluster.BaseAddress.AddressFamily);
                var width = IpMath.Width(cluster.BaseAddress.AddressFamily);
                // Every node-sized subnet the CIDR touches is taken, whatever its length.
                var first = Index(cluster, network.BaseAddress, mask, width);
                var last = Index(cluster, IpMath.LastAddress(network), mask, width);
                var start = BigInteger.Max(first, 0);
                var end = BigInteger.Min(last, (BigInteger.One << (mask - cluster.PrefixLength)) - 1);
                for (var index = start; index <= end && index - start < 1 << 20; index++)
                {
                    occupied[i].Add(index);
                }
            }
        }
    }

    private static BigInteger Index(IPNetwork cluster, IPAddress address, int mask, int width)
    {
        var offset = (BigInteger)IpMath.ToInteger(address) - (BigInteger)IpMath.ToInteger(cluster.BaseAddress);
        return offset >> (width - mask);
    }

    private static BigInteger? LowestFree(HashSet<BigInteger> occupied, BigInteger count)
    {
        for (BigInteger index = 0; index < count; index++)
        {
            if (!occupied.Contains(index))
            {
                return index;
            }
        }
        return null;
    }
}
