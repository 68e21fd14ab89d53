using System.Net;
using System.Security.Cryptography;
using System.Text;
using Podnet.Core.Cluster;

namespace Podnet.Proxy;

/// <summary>
/// Which node announces each external address (LoadBalancer ingress, externalIPs) on the
/// node network, computed alike by every agent from what they all see: for each address the
/// candidate with the highest SHA-256 of "address/node" wins (rendezvous hashing). No election
/// traffic and no leases of its own: when the node lifecycle controller marks a node NotReady,
/// every agent drops it from the candidates at the same time, and only the addresses it held
/// move (to the node each of them ranks next). With externalTrafficPolicy Local only nodes
/// with a ready endpoint of the Service are candidates (another would drop the traffic).
/// </summary>
public static class AnnouncementCalc
{
    /// <summary>The external addresses of every family that <paramref name="self"/> announces.</summary>
    public static IReadOnlySet<IPAddress> Mine(string self, IEnumerable<ServiceInfo> services, Func<ServiceInfo, IReadOnlyList<EndpointSliceInfo>> slices, IReadOnlyCollection<string> readyNodes)
    {
        var mine = new HashSet<IPAddress>();
        foreach (var service in services)
        {
            if (service.Headless || service.Type == "ExternalName" || service.ProxyName is not null || !readyNodes.Contains(self))
            {
                continue;
            }
            var addresses = (service.Type == "LoadBalancer" ? service.LoadBalancerIPs : []).Concat(service.ExternalIPs).Distinct().ToArray();
            if (addresses.Length == 0)
            {
                continue;
            }
            IEnumerable<string> candidates = readyNodes;
            if (service.ExternalTrafficPolicy == TrafficPolicy.Local)
            {
                var withEndpoints = slices(service).SelectMany(s => s.Endpoints).Where(e => e.Ready && e.NodeName is not null).Select(e => e.NodeName!).ToHashSet(StringComparer.Ordinal);
                candidates = readyNodes.Where(withEndpoints.Contains);
            }
            var list = candidates.ToArray();
            mine.UnionWith(addresses.Where(a => Owner(a, list) == self));
        }
        return mine;
    }

    /// <summary>The candidate that announces <paramref name="address"/>, or null when there is none.</summary>
    public static string? Owner(IPAddress address, IEnumerable<string> candidates)
    {
        string? best = null;
        UInt128 bestScore = 0;
        foreach (var node in candidates)
        {
            var score = Score(address, node);
            if (best is null || score > bestScore || (score == bestScore && string.CompareOrdinal(node, best) < 0))
            {
                best = node;
                bestScore = score;
            }
        }
        return best;
    }

    private static UInt128 Score(IPAddress address, string node)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(address + "/" + node), digest);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(digest);
    }
}
