using k8s.Models;

namespace Podnet.Controllers.EndpointSlices;

/// <summary>
/// Topology Aware Routing (<c>service.kubernetes.io/topology-mode: Auto</c>): zone hints shared
/// out in proportion to each zone's allocatable CPU, as upstream's EndpointSlice controller does
/// (its topology cache). Pure: from the nodes and a Service's desired endpoints, the hints.
/// </summary>
/// <remarks>
/// The rules, as upstream: only Ready nodes without a control-plane (or master) role label count;
/// if any of them lacks a zone label or allocatable CPU, or fewer than two zones remain, or there
/// are fewer ready endpoints than zones, or a zone's minimum share (its CPU ratio of the
/// endpoints, less the 20 % overload allowance, rounded up) cannot be met, no endpoint gets a
/// hint. Otherwise every ready endpoint first gets its own zone (one without a zone disables
/// hints), then endpoints move from zones above their desired share to zones below it, one at a
/// time while both sides are at least half an endpoint off.
/// Design: upstream keeps the hints of slices it is not rewriting when they still fit; this
/// recomputes from scratch on every sync, in a fixed order (zones by name, endpoints in slice
/// order), so the same inputs always give the same hints and a resync rewrites nothing. Upstream
/// breaks ties between equally short zones by map order (at random); here the first by name wins.
/// </remarks>
internal static class TopologyAutoHints
{
    public const string ModeAnnotation = "service.kubernetes.io/topology-mode";
    public const string DeprecatedAnnotation = "service.kubernetes.io/topology-aware-hints";
    private const double OverloadThreshold = 0.2;

    /// <summary>Whether the Service asks for it; the deprecated annotation is read first, as upstream.</summary>
    public static bool Enabled(V1Service service)
    {
        var annotations = service.Metadata?.Annotations;
        if (annotations is null)
        {
            return false;
        }
        if (!annotations.TryGetValue(DeprecatedAnnotation, out var value) && !annotations.TryGetValue(ModeAnnotation, out value))
        {
            return false;
        }
        return value is "Auto" or "auto";
    }

    /// <summary>Each zone's share of the cluster's allocatable CPU, or null when the nodes say too little for hints.</summary>
    public static IReadOnlyDictionary<string, double>? ZoneRatios(IEnumerable<V1Node> nodes)
    {
        var cpuByZone = new SortedDictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            var labels = node.Metadata?.Labels;
            if (labels is not null && (labels.ContainsKey("node-role.kubernetes.io/control-plane") || labels.ContainsKey("node-role.kubernetes.io/master")))
            {
                continue;
            }
            if (node.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready")?.Status != "True")
            {
                continue;
            }
            var cpu = node.Status.Allocatable is { } allocatable && allocatable.TryGetValue("cpu", out var quantity) ? quantity.ToDecimal() : 0m;
            if (labels is null || !labels.TryGetValue(EndpointBuilder.ZoneLabel, out var zone) || zone.Length == 0 || cpu <= 0)
            {
                return null;
            }
            cpuByZone[zone] = cpuByZone.GetValueOrDefault(zone) + cpu;
        }
        var total = cpuByZone.Values.Sum();
        if (total <= 0 || cpuByZone.Count < 2)
        {
            return null;
        }
        return cpuByZone.ToDictionary(p => p.Key, p => (double)(p.Value / total), StringComparer.Ordinal);
    }

    /// <summary>
    /// Sets the hints of every endpoint in <paramref name="groups"/> of one address type: zone hints
    /// on the ready ones, or none at all when hints cannot be given (<paramref name="ratios"/> null
    /// included). Returns why hints were withheld, or null when they were given.
    /// </summary>
    public static string? Apply(IEnumerable<V1Endpoint> endpoints, IReadOnlyDictionary<string, double>? ratios)
    {
        var all = endpoints.ToList();
        foreach (var endpoint in all)
        {
            endpoint.Hints = null;
        }
        var ready = all.Where(e => e.Conditions?.Ready == true).ToList();
        var reason = Allocate(ready.Count, ratios, out var allocations);
        if (reason is not null)
        {
            return reason;
        }
        if (ready.Any(e => string.IsNullOrEmpty(e.Zone)))
        {
            return "One or more endpoints do not have a zone specified";
        }
        var allocated = allocations.Keys.ToDictionary(z => z, _ => 0, StringComparer.Ordinal);
        foreach (var endpoint in ready)
        {
            endpoint.Hints = ForZone(endpoint.Zone);
            allocated[endpoint.Zone] = allocated.GetValueOrDefault(endpoint.Zone) + 1;
        }
        var (giving, receiving) = Transfers(allocations, allocated);
        foreach (var endpoint in ready)
        {
            if (giving.Count == 0 || receiving.Count == 0)
            {
                break;
            }
            if (!giving.TryGetValue(endpoint.Zone, out var toGive))
            {
                continue;
            }
            var target = receiving.Keys.First();
            endpoint.Hints = ForZone(target);
            Take(giving, endpoint.Zone, toGive);
            Take(receiving, target, receiving[target]);
        }
        return null;
    }

    /// <summary>Each zone's desired share and minimum (its share less the overload allowance), or why there is none.</summary>
    private static string? Allocate(int readyEndpoints, IReadOnlyDictionary<string, double>? ratios, out SortedDictionary<string, double> desired)
    {
        desired = new SortedDictionary<string, double>(StringComparer.Ordinal);
        if (ratios is null)
        {
            return "Insufficient Node information: allocatable CPU or zone not specified on one or more nodes";
        }
        if (ratios.Count > readyEndpoints)
        {
            return $"Insufficient number of endpoints ({readyEndpoints} endpoints, {ratios.Count} zones)";
        }
        var left = readyEndpoints;
        foreach (var (zone, ratio) in ratios.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var share = ratio * readyEndpoints;
            var minimum = (int)Math.Ceiling(share / (1 + OverloadThreshold));
            left -= minimum;
            if (left < 0)
            {
                return $"Unable to allocate minimum required endpoints to each zone without exceeding overload threshold ({readyEndpoints} endpoints, {ratios.Count} zones)";
            }
            desired[zone] = Math.Max(share, minimum);
        }
        return null;
    }

    /// <summary>How many endpoints each zone gives and receives: the largest surplus to the largest shortfall, one at a time.</summary>
    private static (SortedDictionary<string, int> Giving, SortedDictionary<string, int> Receiving) Transfers(SortedDictionary<string, double> desired, Dictionary<string, int> allocated)
    {
        var surplus = new SortedDictionary<string, double>(StringComparer.Ordinal);
        var shortfall = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var (zone, target) in desired)
        {
            var have = allocated.GetValueOrDefault(zone);
            if (have > target)
            {
                surplus[zone] = have - target;
            }
            else if (have < target)
            {
                shortfall[zone] = target - have;
            }
        }
        var giving = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var receiving = new SortedDictionary<string, int>(StringComparer.Ordinal);
        while (true)
        {
            var (from, give) = Most(surplus);
            var (to, get) = Most(shortfall);
            if (from is null || to is null || (give < 1 && get < 1) || give < 0.5 || get < 0.5)
            {
                return (giving, receiving);
            }
            giving[from] = giving.GetValueOrDefault(from) + 1;
            surplus[from]--;
            receiving[to] = receiving.GetValueOrDefault(to) + 1;
            shortfall[to]--;
        }
    }

    private static (string? Zone, double Amount) Most(SortedDictionary<string, double> amounts)
    {
        string? zone = null;
        var most = 0.0;
        foreach (var (z, n) in amounts)
        {
            if (n > most)
            {
                (zone, most) = (z, n);
            }
        }
        return (zone, most);
    }

    private static void Take(SortedDictionary<string, int> counts, string zone, int count)
    {
        if (count <= 1)
        {
            counts.Remove(zone);
        }
        else
        {
            counts[zone] = count - 1;
        }
    }

    private static V1EndpointHints ForZone(string zone) => new() { ForZones = [new V1ForZone { Name = zone }] };
}
