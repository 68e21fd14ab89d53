using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Registry;
using Podnet.ApiServer.Storage;
using Podnet.Core.Net;

namespace Podnet.ApiServer.Admission;

/// <summary>
/// ClusterIPs and NodePorts for Services, allocated at admission as kube-apiserver does.
/// </summary>
/// <remarks>
/// ClusterIPs taken are the IPAddress objects (written and removed with their Service in the
/// same serialized write, see ServiceRanges), looked up one key per candidate; the ranges are
/// the ServiceCIDR objects. NodePorts taken are read from the stored Services of the types
/// that have them, inside the same write, so a delete or a type change frees them by
/// construction. Dynamic ClusterIPs
/// come from the upper band of the range first (the low band, min(max(16, size/16), 256)
/// addresses, is kept for addresses asked for by name, such as the DNS 10.96.0.10), as
/// upstream's allocator does.
/// </remarks>
internal sealed partial class ServiceAllocator(IReadOnlyList<IPNetwork> serviceCidrs, int nodePortMin, int nodePortMax, Random random)
{
    public IReadOnlyList<IPNetwork> ServiceCidrs { get; } = serviceCidrs;

    public void Allocate(StoreTransaction txn, JsonObject svc, JsonObject? old, List<FieldCause> causes)
    {
        var spec = svc.Child("spec");
        var type = (string?)spec["type"] ?? "ClusterIP";
        if (type == "ExternalName")
        {
            spec.Remove("clusterIP");
            spec.Remove("clusterIPs");
            spec.Remove("ipFamilies");
            spec.Remove("ipFamilyPolicy");
            return;
        }
        var ranges = ServiceRanges.Ranges(txn, ServiceCidrs);
        var (ns, name) = (svc.Namespace(), svc.Name());
        // An address is taken when its IPAddress exists for another Service: one lookup, no scan.
        bool Taken(IPAddress ip) => txn.Get(ResourceCatalog.IPAddresses.Key, "", ip.ToString()) is { } recorded && !ServiceRanges.OwnedBy(recorded.Parse(), ns, name);
        AllocateClusterIPs(spec, old?["spec"] as JsonObject, ranges, Taken, causes);
        // Node ports are still found by reading the other Services, but only for the types that have them.
        var others = type is "NodePort" or "LoadBalancer"
            ? txn.List(ResourceCatalog.Services.Key, null)
                .Where(o => !(o.Namespace == ns && o.Name == name))
                .Select(o => o.Parse()["spec"] as JsonObject ?? [])
                .ToList()
            : [];
        AllocateNodePorts(spec, old?["spec"] as JsonObject, type, others, causes);
    }

    private void AllocateClusterIPs(JsonObject spec, JsonObject? oldSpec, List<IPNetwork> ranges, Func<IPAddress, bool> taken, List<FieldCause> causes)
    {
        var oldIps = Strings(oldSpec?["clusterIPs"]);
        var requested = Strings(spec["clusterIPs"]);
        if ((string?)spec["clusterIP"] is { Length: > 0 } primary && requested.FirstOrDefault() != primary)
        {
            if (requested.Count > 0 && !requested.SequenceEqual(oldIps))
            {
                causes.Add(FieldCause.Invalid("spec.clusterIPs[0]", requested[0], "must match `clusterIP` when both are specified"));
                return;
            }
            requested = [primary, .. requested.Skip(1)];
        }
        if (requested.Count == 0 && oldIps.Count > 0 && (string?)oldSpec?["type"] != "ExternalName")
        {
            requested = oldIps;
        }
        if (oldIps.Count > 0 && requested.Count > 0 && requested[0] != oldIps[0])
        {
            causes.Add(FieldCause.Invalid("spec.clusterIPs[0]", requested[0], "may not change once set"));
            return;
        }
        var served = ranges.Select(Family).Distinct().ToList();
        if (requested is ["None"])
        {
            spec["clusterIP"] = "None";
            spec["clusterIPs"] = new JsonArray("None");
            // As upstream: a headless Service without a selector may be given endpoints of any
            // family, so it prefers dual stack and takes every family the cluster serves.
            if (spec["selector"] is not JsonObject { Count: > 0 })
            {
                spec["ipFamilyPolicy"] ??= "PreferDualStack";
            }
            var headlessPolicy = (string?)(spec["ipFamilyPolicy"] ??= "SingleStack");
            spec["ipFamilies"] ??= headlessPolicy == "SingleStack"
                ? new JsonArray(served[0])
                : new JsonArray(served.Select(f => (JsonNode)f).ToArray());
            return;
        }
        var families = Families(spec, requested, served, causes);
        if (families is null)
        {
            return;
        }
        var result = new List<string>();
        for (var i = 0; i < families.Count; i++)
        {
            var familyRanges = ranges.Where(c => Family(c) == families[i]).ToList();
            if (i < requested.Count && requested[i] != oldIps.ElementAtOrDefault(i))
            {
                if (!IPAddress.TryParse(requested[i], out var ip) || !familyRanges.Any(c => c.Contains(ip) && !ip.Equals(c.BaseAddress)))
                {
                    causes.Add(FieldCause.Invalid("spec.clusterIPs", new JsonArray(requested.Select(s => (JsonNode)s).ToArray()),
                        $"failed to allocate IP {requested[i]}: the provided IP ({requested[i]}) is not in the valid range. The range of valid IPs is {string.Join(",", familyRanges)}"));
                    return;
                }
                if (taken(ip))
                {
                    causes.Add(FieldCause.Invalid("spec.clusterIPs", new JsonArray(requested.Select(s => (JsonNode)s).ToArray()),
                        $"failed to allocate IP {requested[i]}: provided IP is already allocated"));
                    return;
                }
                result.Add(ip.ToString());
            }
            else if (i < requested.Count)
            {
                result.Add(requested[i]);
            }
            else if (familyRanges.Select(c => PickAddress(c, taken)).FirstOrDefault(a => a is not null) is { } picked)
            {
                result.Add(picked);
            }
            else
            {
                causes.Add(FieldCause.Invalid("spec.clusterIPs", "", $"failed to allocate IP: range is full ({string.Join(",", familyRanges)})"));
                return;
            }
        }
        spec["clusterIP"] = result[0];
        spec["clusterIPs"] = new JsonArray(result.Select(s => (JsonNode)s).ToArray());
        spec["ipFamilies"] = new JsonArray(families.Select(f => (JsonNode)f).ToArray());
    }

    private static List<string>? Families(JsonObject spec, List<string> requested, List<string> served, List<FieldCause> causes)
    {
        var policy = (string?)spec["ipFamilyPolicy"] ?? "SingleStack";
        spec["ipFamilyPolicy"] = policy;
        var families = Strings(spec["ipFamilies"]);
        if (families.Count == 0)
        {
            families = requested.Select(ip => IPAddress.TryParse(ip, out var a) && a.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4").ToList();
        }
        if (families.Count == 0)
        {
            families = [served[0]];
        }
        if (policy != "SingleStack" && families.Count == 1 && served.Count > 1)
        {
            families.Add(served.First(f => f != families[0]));
        }
        if (policy == "SingleStack" && families.Count > 1)
        {
            causes.Add(FieldCause.Invalid("spec.ipFamilies", new JsonArray(families.Select(f => (JsonNode)f).ToArray()), "when spec.ipFamilyPolicy is SingleStack, must have at most one family"));
            return null;
        }
        if (policy == "RequireDualStack" && served.Count < 2)
        {
            causes.Add(FieldCause.Invalid("spec.ipFamilyPolicy", policy, "this cluster is not configured for dual-stack services"));
            return null;
        }
        foreach (var family in families.Where(f => !served.Contains(f)))
        {
            causes.Add(FieldCause.Invalid("spec.ipFamilies", family, "not configured on this cluster"));
            return null;
        }
        return families;
    }

    private string? PickAddress(IPNetwork cidr, Func<IPAddress, bool> taken)
    {
        var size = (long)UInt128.Min(IpMath.Size(cidr), 1 << 20);
        var first = 1L;
        var last = Family(cidr) == "IPv4" ? size - 2 : size - 1;
        var lowBand = Math.Min(Math.Max(16, size / 16), 256);
        foreach (var (from, to) in new[] { (Math.Min(first + lowBand, last), last), (first, Math.Min(first + lowBand - 1, last)) })
        {
            var count = to - from + 1;
            if (count <= 0)
            {
                continue;
            }
            var start = random.NextInt64(count);
            for (var i = 0L; i < count; i++)
            {
                var candidate = IpMath.Add(cidr.BaseAddress, from + (start + i) % count);
                if (!taken(candidate))
                {
                    return candidate.ToString();
                }
            }
        }
        return null;
    }

    private static string Family(IPNetwork cidr) => cidr.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";

    internal static List<string> Strings(JsonNode? node) =>
        node is JsonArray a ? a.Select(x => (string?)x ?? "").Where(x => x.Length > 0).ToList() : [];
}
