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
/// Nothing is kept besides the Services themselves: what is taken is read from the stored
/// Services inside the same serialized write, so a delete or a type change frees its
/// addresses and ports by construction and a restart cannot leak them. Dynamic ClusterIPs
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
        var others = txn.List(ResourceCatalog.Services.Key, null)
            .Where(o => !(o.Namespace == svc.Namespace() && o.Name == svc.Name()))
            .Select(o => o.Parse()["spec"] as JsonObject ?? [])
            .ToList();
        if (type == "ExternalName")
        {
            spec.Remove("clusterIP");
            spec.Remove("clusterIPs");
            spec.Remove("ipFamilies");
            spec.Remove("ipFamilyPolicy");
            return;
        }
        AllocateClusterIPs(spec, old?["spec"] as JsonObject, others, causes);
        AllocateNodePorts(spec, old?["spec"] as JsonObject, type, others, causes);
    }

    private void AllocateClusterIPs(JsonObject spec, JsonObject? oldSpec, List<JsonObject> others, List<FieldCause> causes)
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
                ? new JsonArray(Family(ServiceCidrs[0]))
                : new JsonArray(ServiceCidrs.Select(Family).Distinct().Select(f => (JsonNode)f).ToArray());
            return;
        }
        var families = Families(spec, requested, causes);
        if (families is null)
        {
            return;
        }
        var taken = others.SelectMany(o => Strings(o["clusterIPs"])).ToHashSet();
        var result = new List<string>();
        for (var i = 0; i < families.Count; i++)
        {
            var cidr = ServiceCidrs.First(c => Family(c) == families[i]);
            if (i < requested.Count && requested[i] != oldIps.ElementAtOrDefault(i))
            {
                if (!IPAddress.TryParse(requested[i], out var ip) || !cidr.Contains(ip) || ip.Equals(cidr.BaseAddress))
                {
                    causes.Add(FieldCause.Invalid("spec.clusterIPs", new JsonArray(requested.Select(s => (JsonNode)s).ToArray()),
                        $"failed to allocate IP {requested[i]}: the provided IP ({requested[i]}) is not in the valid range. The range of valid IPs is {cidr}"));
                    return;
                }
                if (taken.Contains(ip.ToString()))
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
            else if (PickAddress(cidr, taken) is { } picked)
            {
                result.Add(picked);
            }
            else
            {
                causes.Add(FieldCause.Invalid("spec.clusterIPs", "", $"failed to allocate IP: range is full ({cidr})"));
                return;
            }
        }
        spec["clusterIP"] = result[0];
        spec["clusterIPs"] = new JsonArray(result.Select(s => (JsonNode)s).ToArray());
        spec["ipFamilies"] = new JsonArray(families.Select(f => (JsonNode)f).ToArray());
    }

    private List<string>? Families(JsonObject spec, List<string> requested, List<FieldCause> causes)
    {
        var served = ServiceCidrs.Select(Family).ToList();
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

    private string? PickAddress(IPNetwork cidr, HashSet<string> taken)
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
                var candidate = IpMath.Add(cidr.BaseAddress, from + (start + i) % count).ToString();
                if (!taken.Contains(candidate))
                {
                    return candidate;
                }
            }
        }
        return null;
    }

    private static string Family(IPNetwork cidr) => cidr.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";

    internal static List<string> Strings(JsonNode? node) =>
        node is JsonArray a ? a.Select(x => (string?)x ?? "").Where(x => x.Length > 0).ToList() : [];
}
