using System.Net;
using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;

namespace Podnet.ApiServer.Validation;

/// <summary>networking.k8s.io/v1 ServiceCIDR and IPAddress, as upstream's pkg/apis/networking/validation.</summary>
internal static class ServiceCidrValidation
{
    public static void ServiceCidr(JsonObject obj, JsonObject? old, List<FieldCause> causes)
    {
        var cidrs = (obj["spec"]?["cidrs"] as JsonArray ?? []).Select(c => (string?)c ?? "").ToList();
        if (cidrs.Count == 0)
        {
            causes.Add(FieldCause.Required("spec.cidrs", "at least one CIDR required"));
        }
        if (cidrs.Count > 2)
        {
            causes.Add(FieldCause.Invalid("spec", obj["spec"]?.ToJsonString(), "may only hold up to 2 values"));
            return;
        }
        var parsed = new List<IPNetwork>();
        for (var i = 0; i < cidrs.Count; i++)
        {
            if (!IPNetwork.TryParse(cidrs[i], out var network))
            {
                causes.Add(FieldCause.Invalid($"spec.cidrs[{i}]", cidrs[i], "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"));
            }
            else if (network.ToString() != cidrs[i])
            {
                causes.Add(FieldCause.Invalid($"spec.cidrs[{i}]", cidrs[i], $"must be in canonical form (\"{network}\")"));
            }
            else
            {
                parsed.Add(network);
            }
        }
        if (parsed.Count == 2 && parsed[0].BaseAddress.AddressFamily == parsed[1].BaseAddress.AddressFamily)
        {
            causes.Add(FieldCause.Invalid("spec.cidrs", string.Join(",", cidrs), "may specify no more than one IP for each IP family, i.e 192.168.0.0/24 and 2001:db8::/64"));
        }
        if (old is not null)
        {
            // Immutable, except that a single-stack range may gain its other family.
            var before = (old["spec"]?["cidrs"] as JsonArray ?? []).Select(c => (string?)c ?? "").ToList();
            if (!cidrs.SequenceEqual(before) && !(before.Count == 1 && cidrs.Count == 2 && cidrs[0] == before[0]))
            {
                causes.Add(FieldCause.Invalid("spec.cidrs", new JsonArray(cidrs.Select(c => (JsonNode)c).ToArray()), "field is immutable"));
            }
        }
    }

    public static void IPAddress(JsonObject obj, JsonObject? old, List<FieldCause> causes)
    {
        var name = (string?)obj["metadata"]?["name"] ?? "";
        if (!System.Net.IPAddress.TryParse(name, out var ip) || name.Contains('%'))
        {
            causes.Add(FieldCause.Invalid("metadata.name", name, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"));
        }
        else if (ip.ToString() != name)
        {
            causes.Add(FieldCause.Invalid("metadata.name", name, $"must be in canonical form (\"{ip}\")"));
        }
        if (obj["spec"]?["parentRef"] is not JsonObject parent)
        {
            causes.Add(FieldCause.Required("spec.parentRef"));
            return;
        }
        foreach (var field in new[] { "resource", "name" })
        {
            if ((string?)parent[field] is null or "")
            {
                causes.Add(FieldCause.Required($"spec.parentRef.{field}"));
            }
        }
        if (old is not null && !JsonNode.DeepEquals(old["spec"]?["parentRef"], parent))
        {
            causes.Add(FieldCause.Invalid("spec.parentRef", parent.ToJsonString(), "field is immutable"));
        }
    }
}
