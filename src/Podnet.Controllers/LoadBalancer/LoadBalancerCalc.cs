using System.Net;
using System.Net.Sockets;
using k8s.Models;
using Podnet.Controllers.Common;
using Podnet.Core.Net;

namespace Podnet.Controllers.LoadBalancer;

/// <summary>An inclusive address range of the pool, such as 172.18.0.200–172.18.0.250.</summary>
public sealed record AddressRange(IPAddress First, IPAddress Last)
{
    public AddressFamily Family => First.AddressFamily;

    public bool Contains(IPAddress address) =>
        address.AddressFamily == Family && IpMath.Compare(First, address) <= 0 && IpMath.Compare(address, Last) <= 0;

    /// <summary>Parses a comma-separated list of ranges, as a --loadbalancer-pool flag gives it.</summary>
    public static IReadOnlyList<AddressRange> ParseList(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Parse).ToList();

    /// <summary>Parses "A-B" (both of one family, A not after B) or a CIDR (every address of it).</summary>
    public static AddressRange Parse(string text)
    {
        var dash = text.IndexOf('-');
        if (dash > 0)
        {
            var range = new AddressRange(IPAddress.Parse(text[..dash].Trim()), IPAddress.Parse(text[(dash + 1)..].Trim()));
            if (range.First.AddressFamily != range.Last.AddressFamily || IpMath.Compare(range.First, range.Last) > 0)
            {
                throw new FormatException($"'{text}' is not an address range (FIRST-LAST of one family, FIRST not after LAST)");
            }
            return range;
        }
        var network = IPNetwork.Parse(text);
        return new AddressRange(network.BaseAddress, IpMath.LastAddress(network));
    }
}

/// <summary>status.loadBalancer.ingress IPs a Service should carry (empty: clear what it has).</summary>
public sealed record LoadBalancerAssignment(string Namespace, string Name, IReadOnlyList<string> Ips);

/// <summary>A Service that could not get its addresses, and why (the Event's message).</summary>
public sealed record LoadBalancerProblem(string Namespace, string Name, string Reason, string Message);

public sealed record LoadBalancerPlan(IReadOnlyList<LoadBalancerAssignment> Assign, IReadOnlyList<LoadBalancerProblem> Problems);

/// <summary>
/// LoadBalancer IP allocation's compute step: every LoadBalancer Service of no class or of
/// Podnet's class gets one pool address per entry of spec.ipFamilies.
/// </summary>
/// <remarks>
/// Rebuilt from the Services every time: an address a Service already shows in its status is
/// kept while still valid (so allocations survive restarts); a deleted Service's address is
/// free again; a Service that stopped being a LoadBalancer is told to clear its status.
/// spec.loadBalancerIP is honoured when it is in the pool and free. Services of another class
/// are left to their implementation, but their addresses are never handed out twice; nor is
/// the address of a former LoadBalancer until its status has been cleared.
/// </remarks>
public static class LoadBalancerCalc
{
    public const string PodnetClass = "podnet.io/lb";

    public static LoadBalancerPlan Calc(IReadOnlyList<AddressRange> pool, IEnumerable<V1Service> services)
    {
        var all = services.OrderBy(s => s.Metadata.CreationTimestamp ?? DateTime.MinValue)
            .ThenBy(s => PodState.Key(s.Metadata), StringComparer.Ordinal).ToList();
        var taken = new HashSet<IPAddress>();
        var kept = new Dictionary<V1Service, List<IPAddress>>();
        foreach (var service in all)
        {
            var current = CurrentIps(service);
            if (!IsOurs(service))
            {
                current.ForEach(ip => taken.Add(ip));
                continue;
            }
            kept[service] = current.Where(ip => Valid(service, ip, pool) && taken.Add(ip)).ToList();
        }
        var assign = new List<LoadBalancerAssignment>();
        var problems = new List<LoadBalancerProblem>();
        foreach (var service in all.Where(IsOurs))
        {
            var ips = Desired(service, kept[service], pool, taken, problems);
            if (!ips.Select(ip => ip.ToString()).SequenceEqual(CurrentIps(service).Select(ip => ip.ToString())))
            {
                assign.Add(new LoadBalancerAssignment(service.Metadata.NamespaceProperty, service.Metadata.Name, ips.Select(ip => ip.ToString()).ToList()));
            }
        }
        foreach (var service in all.Where(s => !IsOurs(s) && !IsLoadBalancer(s) && CurrentIps(s).Any(ip => pool.Any(r => r.Contains(ip)))))
        {
            assign.Add(new LoadBalancerAssignment(service.Metadata.NamespaceProperty, service.Metadata.Name, []));
        }
        return new LoadBalancerPlan(assign, problems);
    }

    public static bool IsLoadBalancer(V1Service service) => service.Spec?.Type == "LoadBalancer";

    public static bool IsOurs(V1Service service) =>
        IsLoadBalancer(service) && (service.Spec.LoadBalancerClass is null || service.Spec.LoadBalancerClass == PodnetClass);

    private static List<IPAddress> Desired(V1Service service, List<IPAddress> kept, IReadOnlyList<AddressRange> pool,
        HashSet<IPAddress> taken, List<LoadBalancerProblem> problems)
    {
        var result = new List<IPAddress>();
        foreach (var family in Families(service))
        {
            var have = kept.FirstOrDefault(ip => ip.AddressFamily == family);
            var requested = Requested(service, family);
            if (have is null && requested is not null)
            {
                if (!pool.Any(r => r.Contains(requested)))
                {
                    problems.Add(Problem(service, "LoadBalancerIPNotInPool", $"requested address {requested} is not in the pool"));
                    continue;
                }
                if (!taken.Add(requested))
                {
                    problems.Add(Problem(service, "LoadBalancerIPTaken", $"requested address {requested} is already allocated"));
                    continue;
                }
                have = requested;
            }
            have ??= NextFree(pool, family, taken);
            if (have is null)
            {
                problems.Add(Problem(service, "AllocationFailed", $"no {(family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} address left in the pool"));
                continue;
            }
            result.Add(have);
        }
        return result;
    }

    private static LoadBalancerProblem Problem(V1Service service, string reason, string message) =>
        new(service.Metadata.NamespaceProperty, service.Metadata.Name, reason, message);

    private static IPAddress? NextFree(IReadOnlyList<AddressRange> pool, AddressFamily family, HashSet<IPAddress> taken)
    {
        foreach (var range in pool.Where(r => r.Family == family))
        {
            for (var ip = range.First; IpMath.Compare(ip, range.Last) <= 0; ip = IpMath.Add(ip, 1))
            {
                if (taken.Add(ip))
                {
                    return ip;
                }
                if (ip.Equals(range.Last))
                {
                    break;
                }
            }
        }
        return null;
    }

    private static bool Valid(V1Service service, IPAddress ip, IReadOnlyList<AddressRange> pool) =>
        pool.Any(r => r.Contains(ip))
        && Families(service).Contains(ip.AddressFamily)
        && (Requested(service, ip.AddressFamily) is not { } wanted || wanted.Equals(ip));

    private static IPAddress? Requested(V1Service service, AddressFamily family) =>
        IPAddress.TryParse(service.Spec?.LoadBalancerIP, out var ip) && ip.AddressFamily == family ? ip : null;

    private static List<AddressFamily> Families(V1Service service) =>
        (service.Spec?.IpFamilies is { Count: > 0 } families ? families : ["IPv4"])
        .Select(f => f == "IPv6" ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork).Distinct().ToList();

    private static List<IPAddress> CurrentIps(V1Service service) =>
        (service.Status?.LoadBalancer?.Ingress ?? [])
        .Select(i => IPAddress.TryParse(i.Ip, out var ip) ? ip : null).OfType<IPAddress>().ToList();
}
