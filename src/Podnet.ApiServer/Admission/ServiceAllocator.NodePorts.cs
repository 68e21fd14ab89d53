using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Registry;

namespace Podnet.ApiServer.Admission;

internal sealed partial class ServiceAllocator
{
    private void AllocateNodePorts(JsonObject spec, JsonObject? oldSpec, string type, List<JsonObject> others, List<FieldCause> causes)
    {
        var wantsNodePorts = type == "NodePort" || type == "LoadBalancer" && (bool?)spec["allocateLoadBalancerNodePorts"] != false;
        var ports = spec["ports"] as JsonArray ?? [];
        var taken = others.SelectMany(o => (o["ports"] as JsonArray ?? []).Select(p => ObjectMeta.Long(p?["nodePort"]) ?? 0))
            .Concat(others.Select(o => ObjectMeta.Long(o["healthCheckNodePort"]) ?? 0))
            .Where(p => p > 0).ToHashSet();
        var oldPorts = oldSpec?["ports"] as JsonArray ?? [];
        for (var i = 0; i < ports.Count; i++)
        {
            if (ports[i] is not JsonObject port)
            {
                continue;
            }
            var nodePort = ObjectMeta.Long(port["nodePort"]);
            if (!wantsNodePorts)
            {
                if (nodePort is not null && type == "ClusterIP" && (string?)oldSpec?["type"] is null or "ClusterIP")
                {
                    causes.Add(FieldCause.Forbidden($"spec.ports[{i}].nodePort", "may not be used when `type` is 'ClusterIP'"));
                }
                port.Remove("nodePort");
                continue;
            }
            if (nodePort is null)
            {
                nodePort = oldPorts.FirstOrDefault(o => ObjectMeta.Long(o?["port"]) == ObjectMeta.Long(port["port"]) && (string?)o?["protocol"] == (string?)port["protocol"]) is { } same
                    ? ObjectMeta.Long(same["nodePort"]) : null;
            }
            if (nodePort is null)
            {
                nodePort = PickPort(taken);
                if (nodePort is null)
                {
                    causes.Add(FieldCause.Invalid($"spec.ports[{i}].nodePort", "", $"failed to allocate a nodePort: range is full ({nodePortMin}-{nodePortMax})"));
                    return;
                }
            }
            else if (!CheckPort($"spec.ports[{i}].nodePort", nodePort.Value, taken, causes))
            {
                return;
            }
            taken.Add(nodePort.Value);
            port["nodePort"] = nodePort.Value;
        }
        var needsHealthCheck = type == "LoadBalancer" && (string?)spec["externalTrafficPolicy"] == "Local";
        if (!needsHealthCheck)
        {
            spec.Remove("healthCheckNodePort");
            return;
        }
        var health = ObjectMeta.Long(spec["healthCheckNodePort"]) ?? ObjectMeta.Long(oldSpec?["healthCheckNodePort"]);
        if (health is null)
        {
            health = PickPort(taken);
        }
        else if (!CheckPort("spec.healthCheckNodePort", health.Value, taken, causes))
        {
            return;
        }
        spec["healthCheckNodePort"] = health;
    }

    private bool CheckPort(string field, long port, HashSet<long> taken, List<FieldCause> causes)
    {
        if (port < nodePortMin || port > nodePortMax)
        {
            causes.Add(FieldCause.Invalid(field, port, $"provided port is not in the valid range. The range of valid ports is {nodePortMin}-{nodePortMax}"));
            return false;
        }
        if (taken.Contains(port))
        {
            causes.Add(FieldCause.Invalid(field, port, "provided port is already allocated"));
            return false;
        }
        return true;
    }

    private long? PickPort(HashSet<long> taken)
    {
        var count = nodePortMax - nodePortMin + 1;
        var start = random.Next(count);
        for (var i = 0; i < count; i++)
        {
            var candidate = nodePortMin + (start + i) % count;
            if (!taken.Contains(candidate))
            {
                return candidate;
            }
        }
        return null;
    }
}
